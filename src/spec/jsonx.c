#include "spec/jsonx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* Values above INT64_MAX (RLIM_INFINITY written as 18446744073709551615, as
 * Docker does) do not fit jansson's integers; they are carried as strings
 * with this marker byte in front and accepted only by unsigned getters. */
#define BIG_MARK '\x01'

/* Append to the path, cutting at the buffer's end. This runs for every
 * member read, so it avoids printf. */
static void jp_append(struct jctx *c, const char *s, size_t n)
{
	size_t room = sizeof(c->path) - 1 - c->len;
	if (n > room)
		n = room;
	memcpy(c->path + c->len, s, n);
	c->len += n;
	c->path[c->len] = '\0';
}

size_t jp_key(struct jctx *c, const char *key)
{
	size_t old = c->len;
	if (c->len)
		jp_append(c, ".", 1);
	jp_append(c, key, strlen(key));
	return old;
}

size_t jp_idx(struct jctx *c, size_t i)
{
	char buf[32], *p = buf + sizeof(buf);
	size_t old = c->len;

	*--p = ']';
	do {
		*--p = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	*--p = '[';
	jp_append(c, p, (size_t)(buf + sizeof(buf) - p));
	return old;
}

void jp_pop(struct jctx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

int jfail(struct jctx *c, const char *fmt, ...)
{
	char msg[HUSK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->len)
		return husk_err_set(c->err, 0, "%s: %s", c->path, msg);
	return husk_err_set(c->err, 0, "%s", msg);
}

int jnomem(struct jctx *c)
{
	if (c->len)
		return husk_err_set(c->err, ENOMEM, "%s", c->path);
	return husk_err_set(c->err, ENOMEM, "parse");
}

void *jcalloc(struct jctx *c, size_t n, size_t size, int *rc)
{
	void *p;
	*rc = 0;
	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (!p)
		*rc = jnomem(c);
	return p;
}

/* Is the number token starting at p a non-negative integer above INT64_MAX
 * that still fits in 64 bits? Sets *end to the character after it. */
static bool big_unsigned_at(const char *p, const char *lim, const char **end)
{
	const char *q = p;
	unsigned long long v;
	char buf[32];
	size_t n;

	while (q < lim && *q >= '0' && *q <= '9')
		q++;
	*end = q;
	n = (size_t)(q - p);
	if (n < 19 || n > 20 || (q < lim && (*q == '.' || *q == 'e' || *q == 'E')))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, NULL, 10);
	return errno == 0 && v > (unsigned long long)INT64_MAX;
}

#define MARK_EXTRA 8 /* a marked literal grows by "\u0001 and " */

/* Count the big unsigned literals outside strings; with out, also copy the
 * text there with each of them turned into a marked string, and note in
 * marks where each marked string starts. */
static size_t mark_big_numbers(const char *json, size_t len, char *out, size_t *out_len,
			       size_t *marks)
{
	const char *p = json, *lim = json + len, *end;
	bool in_str = false;
	size_t count = 0, w = 0;

	while (p < lim) {
		char ch = *p;
		if (!in_str && ch >= '0' && ch <= '9' &&
		    (p == json || !strchr("-.eE+0123456789", p[-1])) &&
		    big_unsigned_at(p, lim, &end)) {
			if (out) {
				marks[count] = w;
				memcpy(out + w, "\"\\u0001", 7);
				memcpy(out + w + 7, p, (size_t)(end - p));
				w += 7 + (size_t)(end - p);
				out[w++] = '"';
			}
			p = end;
			count++;
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

/* Parse a document that has big numbers; errors keep their positions in
 * the text as written. */
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
	mark_big_numbers(json, len, buf, &buf_len, marks);
	root = json_loadb(buf, buf_len, 0, jerr);
	if (!root)
		unshift_error(jerr, buf, marks, count);
	c->big_numbers = root != NULL;
	return root;
}

json_t *jload(struct jctx *c, const char *json, size_t len, const char *what)
{
	size_t count = mark_big_numbers(json, len, NULL, NULL, NULL);
	json_error_t jerr;
	json_t *root =
	    count ? load_marked(c, json, len, count, &jerr) : json_loadb(json, len, 0, &jerr);

	if (!root) {
		husk_err_set(c->err, 0, "%s: line %d column %d: %s", what, jerr.line, jerr.column,
			     jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		husk_err_set(c->err, 0, "%s: must be a JSON object", what);
		return NULL;
	}
	return root;
}

int jv_str(struct jctx *c, json_t *v, char **out)
{
	const char *s = json_string_value(v); /* NULL when v is not a string */
	if (!s || (c->big_numbers && s[0] == BIG_MARK))
		return jfail(c, "must be a string");
	if (memchr(s, '\0', json_string_length(v)))
		return jfail(c, "must not contain a NUL byte");
	free(*out);
	*out = strdup(s);
	if (!*out)
		return jnomem(c);
	return 0;
}

int jv_bool(struct jctx *c, json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return jfail(c, "must be a boolean");
	*out = json_is_true(v);
	return 0;
}

int jv_i64(struct jctx *c, json_t *v, int64_t *out)
{
	if (!json_is_integer(v))
		return jfail(c, "must be an integer");
	*out = json_integer_value(v);
	return 0;
}

int jv_u64(struct jctx *c, json_t *v, uint64_t *out)
{
	if (c->big_numbers && json_is_string(v) && json_string_value(v)[0] == BIG_MARK) {
		*out = strtoull(json_string_value(v) + 1, NULL, 10);
		return 0;
	}
	if (!json_is_integer(v))
		return jfail(c, "must be an integer");
	if (json_integer_value(v) < 0)
		return jfail(c, "must not be negative");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int jv_range(struct jctx *c, json_t *v, int64_t min, int64_t max, int64_t *out)
{
	int64_t x;
	if (c->big_numbers && json_is_string(v) && json_string_value(v)[0] == BIG_MARK)
		return jfail(c, "must be between %" PRId64 " and %" PRId64, min, max);
	if (jv_i64(c, v, &x) < 0)
		return -1;
	if (x < min || x > max)
		return jfail(c, "must be between %" PRId64 " and %" PRId64, min, max);
	*out = x;
	return 0;
}

int jv_u32(struct jctx *c, json_t *v, uint32_t *out)
{
	int64_t x;
	if (jv_range(c, v, 0, UINT32_MAX, &x) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

int jv_strv(struct jctx *c, json_t *v, struct husk_strv *out)
{
	size_t i, n;
	json_t *item;
	int rc;

	if (!json_is_array(v))
		return jfail(c, "must be an array of strings");
	husk_strv_free(out);
	n = json_array_size(v);
	out->v = jcalloc(c, n + 1, sizeof(char *), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(v, i, item)
	{
		size_t old = jp_idx(c, i);
		if (jv_str(c, item, &out->v[i]) < 0)
			return -1;
		out->n = i + 1;
		jp_pop(c, old);
	}
	return 0;
}

int jv_kvv(struct jctx *c, json_t *v, struct husk_kvv *out)
{
	const char *key;
	json_t *item;
	int rc;

	if (!json_is_object(v))
		return jfail(c, "must be an object of strings");
	husk_kvv_free(out);
	out->v = jcalloc(c, json_object_size(v), sizeof(*out->v), &rc);
	if (rc < 0)
		return -1;
	json_object_foreach(v, key, item)
	{
		size_t old = jp_key(c, key);
		struct husk_kv *kv = &out->v[out->n];
		if (jv_str(c, item, &kv->value) < 0)
			return -1;
		out->n++;
		kv->key = strdup(key);
		if (!kv->key)
			return jnomem(c);
		jp_pop(c, old);
	}
	return 0;
}

/* Look up a member; null counts as absent (as Go's encoding/json treats it). */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

#define MEMBER_GETTER(name, type, call)                                                            \
	int jm_##name(struct jctx *c, json_t *obj, const char *key, type *out)                     \
	{                                                                                          \
		json_t *v = member(obj, key);                                                      \
		size_t old;                                                                        \
		if (!v)                                                                            \
			return 0;                                                                  \
		old = jp_key(c, key);                                                              \
		if (call < 0)                                                                      \
			return -1;                                                                 \
		jp_pop(c, old);                                                                    \
		return 1;                                                                          \
	}

MEMBER_GETTER(str, char *, jv_str(c, v, out))
MEMBER_GETTER(bool, bool, jv_bool(c, v, out))
MEMBER_GETTER(i64, int64_t, jv_i64(c, v, out))
MEMBER_GETTER(u64, uint64_t, jv_u64(c, v, out))
MEMBER_GETTER(u32, uint32_t, jv_u32(c, v, out))
MEMBER_GETTER(strv, struct husk_strv, jv_strv(c, v, out))
MEMBER_GETTER(kvv, struct husk_kvv, jv_kvv(c, v, out))

int jm_range(struct jctx *c, json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_t *v = member(obj, key);
	size_t old;
	if (!v)
		return 0;
	old = jp_key(c, key);
	if (jv_range(c, v, min, max, out) < 0)
		return -1;
	jp_pop(c, old);
	return 1;
}

static int jm_typed(struct jctx *c, json_t *obj, const char *key, json_t **out, bool want_obj)
{
	json_t *v = member(obj, key);
	*out = v;
	if (!v)
		return 0;
	if (want_obj ? !json_is_object(v) : !json_is_array(v)) {
		size_t old = jp_key(c, key);
		jfail(c, want_obj ? "must be an object" : "must be an array");
		jp_pop(c, old);
		return -1;
	}
	return 1;
}

int jm_obj(struct jctx *c, json_t *obj, const char *key, json_t **out)
{
	return jm_typed(c, obj, key, out, true);
}

int jm_arr(struct jctx *c, json_t *obj, const char *key, json_t **out)
{
	return jm_typed(c, obj, key, out, false);
}

int jm_need(struct jctx *c, json_t *obj, const char *key)
{
	size_t old;
	if (member(obj, key))
		return 0;
	old = jp_key(c, key);
	jfail(c, "missing");
	jp_pop(c, old);
	return -1;
}

int jm_opt_i64(struct jctx *c, json_t *obj, const char *key, struct husk_opt_i64 *out)
{
	int rc = jm_i64(c, obj, key, &out->v);
	if (rc > 0)
		out->set = true;
	return rc;
}

int jm_opt_u64(struct jctx *c, json_t *obj, const char *key, struct husk_opt_u64 *out)
{
	int rc = jm_u64(c, obj, key, &out->v);
	if (rc > 0)
		out->set = true;
	return rc;
}

void husk_strv_free(struct husk_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void husk_kvv_free(struct husk_kvv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].value);
	}
	free(v->v);
	v->v = NULL;
	v->n = 0;
}
