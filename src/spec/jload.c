/* Loading JSON text for the spec parser. jansson keeps integers as int64
 * and reals as doubles and fails the whole document, with only a position,
 * on a number that does not fit. A pre-scan turns such numbers into marked
 * strings first (see BIG_MARK / HUGE_MARK in jsonx.h), so the getter that
 * reads the field accepts it (a uint64 above INT64_MAX) or names the field
 * in its error ("process.user.gid: 1000000000000000000000 out of range"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "spec/jsonx.h"
#include "util/cleanup.h"

#define MARK_EXTRA 8 /* a marked literal grows by "\u0001 and " */

enum num_kind { NUM_FITS, NUM_BIG, NUM_HUGE };

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static const char *skip_digits(const char *q, const char *lim)
{
	while (q < lim && is_digit(*q))
		q++;
	return q;
}

/* The end of the JSON number at p, or p itself when the text there is not
 * a well-formed number (then jansson reports it, unchanged). */
static const char *number_end(const char *p, const char *lim, bool *is_int)
{
	const char *q = p;

	*is_int = true;
	if (q < lim && *q == '-')
		q++;
	if (q >= lim || !is_digit(*q))
		return p;
	if (*q == '0' && q + 1 < lim && is_digit(q[1]))
		return p; /* leading zero */
	q = skip_digits(q, lim);
	if (q < lim && *q == '.') {
		*is_int = false;
		if (++q >= lim || !is_digit(*q))
			return p;
		q = skip_digits(q, lim);
	}
	if (q < lim && (*q == 'e' || *q == 'E')) {
		*is_int = false;
		if (++q < lim && (*q == '+' || *q == '-'))
			q++;
		if (q >= lim || !is_digit(*q))
			return p;
		q = skip_digits(q, lim);
	}
	return q;
}

/* Does the run of n digits compare <= the n-digit bound? */
static bool digits_le(const char *d, size_t n, const char *bound)
{
	return n < strlen(bound) || (n == strlen(bound) && memcmp(d, bound, n) <= 0);
}

/* Would strtod overflow on the real number [p, end)? Only a real with an
 * exponent or more than 300 digits can reach DBL_MAX (about 1.8e308). */
static bool real_overflows(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);
	char small[64];
	_cleanup_free_ char *big = NULL;
	char *buf = small;
	double v;

	if (n <= 300 && !memchr(p, 'e', n) && !memchr(p, 'E', n))
		return false;
	if (n >= sizeof(small)) {
		buf = big = malloc(n + 1);
		if (!big)
			return false; /* jansson then reports it by position */
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	v = strtod(buf, NULL);
	return v == HUGE_VAL || v == -HUGE_VAL;
}

static enum num_kind classify(const char *p, const char *end, bool is_int)
{
	bool neg = *p == '-';
	const char *d = p + neg;
	size_t n = (size_t)(end - d);

	if (!is_int)
		return real_overflows(p, end) ? NUM_HUGE : NUM_FITS;
	if (digits_le(d, n, neg ? "9223372036854775808" : "9223372036854775807"))
		return NUM_FITS;
	if (!neg && digits_le(d, n, "18446744073709551615"))
		return NUM_BIG;
	return NUM_HUGE;
}

/* Can a JSON value start at p? Only after these (anything else before a
 * number is a syntax error, left to jansson). */
static bool token_start(const char *json, const char *p)
{
	return p == json || memchr(" \t\r\n[,:", p[-1], 7);
}

/* Count the numbers outside strings that do not fit; with out, also copy
 * the text there with each of them turned into a marked string, and note in
 * marks where each marked string starts. */
static size_t mark_numbers(const char *json, size_t len, char *out, size_t *out_len, size_t *marks)
{
	const char *p = json, *lim = json + len, *end;
	bool in_str = false, is_int;
	size_t count = 0, w = 0;

	while (p < lim) {
		char ch = *p;
		if (!in_str && (ch == '-' || is_digit(ch)) && token_start(json, p) &&
		    (end = number_end(p, lim, &is_int)) != p) {
			enum num_kind kind = classify(p, end, is_int);
			size_t n = (size_t)(end - p);
			if (kind != NUM_FITS) {
				if (out) {
					marks[count] = w;
					memcpy(out + w, kind == NUM_BIG ? "\"\\u0001" : "\"\\u0002",
					       7);
					memcpy(out + w + 7, p, n);
					w += 7 + n;
					out[w++] = '"';
				}
				count++;
			} else if (out) {
				memcpy(out + w, p, n);
				w += n;
			}
			p = end;
			continue;
		}
		if (in_str && ch == '\\' && p + 1 < lim) {
			if (out) {
				out[w++] = p[0];
				out[w++] = p[1];
			}
			p += 2;
			continue;
		}
		if (ch == '"')
			in_str = !in_str;
		if (out)
			out[w++] = ch;
		p++;
	}
	if (out_len)
		*out_len = w;
	return count;
}

/* A syntax error in the marked text: move its column back to where it is
 * in the text as written (markers never span lines, so the line holds). */
static void unshift_error(json_error_t *jerr, const char *buf, const size_t *marks, size_t count)
{
	size_t pos = jerr->position > 0 ? (size_t)jerr->position : 0, line_start = pos;

	while (line_start > 0 && buf[line_start - 1] != '\n')
		line_start--;
	for (size_t i = 0; i < count; i++)
		if (marks[i] < pos) {
			jerr->position -= MARK_EXTRA;
			if (marks[i] >= line_start)
				jerr->column -= MARK_EXTRA;
		}
}

/* Parse a document that has numbers to mark; errors keep their positions
 * in the text as written. */
static json_t *load_marked(struct jctx *c, const char *json, size_t len, size_t count,
			   json_error_t *jerr)
{
	_cleanup_free_ char *buf = malloc(len + count * MARK_EXTRA + 1);
	_cleanup_free_ size_t *marks = calloc(count, sizeof(*marks));
	size_t buf_len;
	json_t *root;

	if (!buf || !marks) {
		memset(jerr, 0, sizeof(*jerr));
		snprintf(jerr->text, sizeof(jerr->text), "out of memory");
		return NULL;
	}
	mark_numbers(json, len, buf, &buf_len, marks);
	root = json_loadb(buf, buf_len, 0, jerr);
	if (!root)
		unshift_error(jerr, buf, marks, count);
	c->big_numbers = root != NULL;
	return root;
}

/* ---- the arena ------------------------------------------------------- */

/* A parsed document lives in an arena: jansson's thousand small allocations
 * become pointer bumps, and the tree is dropped at once in jdone() instead
 * of json_decref() walking and freeing it node by node (together about a
 * quarter of husk_spec_parse). jansson's allocator is process-wide, so the
 * arena is installed only between jload() and jdone(), while nothing but
 * the spec parser uses jansson; a nested jload() allocates normally. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

static struct arena_chunk *arena; /* newest chunk; NULL when none is installed */
static bool arena_on;
static json_malloc_t saved_malloc;
static json_free_t saved_free;

static void *arena_malloc(size_t size)
{
	struct arena_chunk *ch = arena;
	void *p;

	if (size > SIZE_MAX / 4)
		return NULL;
	size = size < 16 ? 16 : (size + 15) & ~(size_t)15;
	if (!ch || ch->cap - ch->used < size) {
		size_t cap = ch ? ch->cap * 2 : 0;
		if (cap < size)
			cap = size;
		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->next = arena;
		ch->used = 0;
		ch->cap = cap;
		arena = ch;
	}
	p = ch->data + ch->used;
	ch->used += size;
	return p;
}

static void arena_free(void *p)
{
	(void)p; /* everything goes in jdone() */
}

static void arena_begin(struct jctx *c, size_t len)
{
	if (arena_on)
		return;
	/* jansson needs about 7 bytes per byte of a config; start there. */
	size_t cap = (len < (1 << 17) ? len : (1 << 17)) * 8 + 4096;

	arena = malloc(sizeof(*arena) + cap);
	if (!arena)
		return;
	arena->next = NULL;
	arena->used = 0;
	arena->cap = cap;
	json_get_alloc_funcs(&saved_malloc, &saved_free);
	json_set_alloc_funcs(arena_malloc, arena_free);
	arena_on = true;
	c->arena = true;
}

void jdone(struct jctx *c, json_t *root)
{
	if (!c->arena) {
		json_decref(root);
		return;
	}
	json_set_alloc_funcs(saved_malloc, saved_free);
	while (arena) {
		struct arena_chunk *next = arena->next;
		free(arena);
		arena = next;
	}
	arena_on = false;
	c->arena = false;
}

/* jansson seeds its hash function from /dev/urandom (open, read, close)
 * on first use; one getrandom() does the same job. */
static void seed_hash(void)
{
	static bool seeded;
	uint32_t seed;

	if (seeded)
		return;
	seeded = true;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed) && seed)
		json_object_seed(seed);
}

json_t *jload(struct jctx *c, const char *json, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *root;

	seed_hash();
	arena_begin(c, len);
	root = json_loadb(json, len, 0, &jerr);
	/* Only a document with a number jansson cannot hold pays for the
	 * marking pass, and it reports errors exactly as before. */
	if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
		size_t count = mark_numbers(json, len, NULL, NULL, NULL);
		if (count)
			root = load_marked(c, json, len, count, &jerr);
	}
	if (!root) {
		jdone(c, NULL);
		husk_err_set(c->err, 0, "%s: line %d column %d: %s", what, jerr.line, jerr.column,
			     jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		jdone(c, root);
		husk_err_set(c->err, 0, "%s: must be a JSON object", what);
		return NULL;
	}
	return root;
}
