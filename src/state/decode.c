/* The state model's one decoder: a JSON object read member by member
 * against the field table (fields.h). Whatever JSON spells the same values
 * loads (whitespace, any member order, escapes, \u sequences, unknown
 * members of any type, null for a value left out), so state files written
 * by older builds, through jansson or by hand, still load. What the model
 * cannot hold is refused with a message that names the member and the byte:
 * a value of the wrong type, a repeated member, text that is not UTF-8 or
 * holds a NUL, a number out of range, a document cut short. */
#include "state/state.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/fields.h"
#include "state/record.h"

/* Nesting that an unknown member may have before the document is refused. */
#define MAX_DEPTH 64

struct rd {
	const char *start, *p;
	struct husk_err *err;
	char *buf; /* the string read last, unescaped */
	size_t len, cap;
};

static size_t where(const struct rd *r)
{
	return (size_t)(r->p - r->start);
}

static int bad(struct rd *r, const char *what)
{
	if (!*r->p)
		return husk_err_plain(r->err, EINVAL, "cut short at byte %zu", where(r));
	return husk_err_plain(r->err, EINVAL, "%s at byte %zu", what, where(r));
}

static void ws(struct rd *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static int add(struct rd *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 256;
		while (r->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(r->buf, cap);
		if (!p)
			return husk_err_set(r->err, ENOMEM, "read state");
		r->buf = p;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

static int hex4(struct rd *r, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *r->p;
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (d == 16)
			return bad(r, "bad \\u escape");
		*v = *v * 16 + d;
		r->p++;
	}
	return 0;
}

/* A \u escape (four hex digits, and its low surrogate) as UTF-8; r is
 * after the 'u'. */
static int unicode(struct rd *r)
{
	unsigned cp, lo;
	char u[4];
	size_t n;

	if (hex4(r, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return bad(r, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->p[0] != '\\' || r->p[1] != 'u')
			return bad(r, "lone high surrogate");
		r->p += 2;
		if (hex4(r, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return bad(r, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return bad(r, "a NUL in a string");
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return add(r, u, n);
}

static int escape(struct rd *r)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit = *r->p ? strchr(from, *r->p) : NULL;

	if (*r->p == 'u') {
		r->p++;
		return unicode(r);
	}
	if (!hit)
		return bad(r, "bad escape");
	r->p++;
	return add(r, &to[hit - from], 1);
}

/* A string into r->buf (r->len bytes, NUL terminated). */
static int string(struct rd *r)
{
	r->len = 0;
	if (add(r, "", 0) < 0) /* "" leaves no word of the string before */
		return -1;
	if (*r->p != '"')
		return bad(r, "want a string");
	r->p++;
	for (;;) {
		const char *run = r->p;
		size_t n = 0;
		/* Plain characters in runs, checked as UTF-8 on the way. */
		while ((unsigned char)*r->p >= 0x20 && *r->p != '"' && *r->p != '\\' &&
		       (n = husk_utf8_seq((const unsigned char *)r->p)) > 0)
			r->p += n;
		if (r->p > run && add(r, run, (size_t)(r->p - run)) < 0)
			return -1;
		if (*r->p == '"') {
			r->p++;
			return 0;
		}
		if (*r->p != '\\')
			return bad(r, (unsigned char)*r->p < 0x20
					  ? "a control character in a string"
					  : "text that is not UTF-8");
		r->p++;
		if (escape(r) < 0)
			return -1;
	}
}

/* An integer: its magnitude and sign. A fraction or exponent is refused. */
static int integer(struct rd *r, uint64_t *u, bool *neg)
{
	const char *digits;

	*u = 0;
	*neg = *r->p == '-';
	r->p += *neg;
	digits = r->p;
	if (*r->p == '0' && r->p[1] >= '0' && r->p[1] <= '9')
		return bad(r, "a leading zero");
	while (*r->p >= '0' && *r->p <= '9') {
		unsigned d = (unsigned)(*r->p - '0');
		if (*u > (UINT64_MAX - d) / 10)
			return bad(r, "a number out of range");
		*u = *u * 10 + d;
		r->p++;
	}
	if (r->p == digits)
		return bad(r, "want a number");
	if (*r->p == '.' || *r->p == 'e' || *r->p == 'E')
		return bad(r, "want an integer");
	return 0;
}

static bool word(struct rd *r, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(r->p, w, n) != 0)
		return false;
	r->p += n;
	return true;
}

static bool digits(struct rd *r)
{
	const char *from = r->p;
	while (*r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > from;
}

/* A number of an unknown member: fraction and exponent allowed. */
static int skip_number(struct rd *r)
{
	r->p += *r->p == '-';
	if (!digits(r))
		return bad(r, "want a value");
	if (*r->p == '.') {
		r->p++;
		if (!digits(r))
			return bad(r, "want a digit");
	}
	if (*r->p == 'e' || *r->p == 'E') {
		r->p++;
		r->p += *r->p == '+' || *r->p == '-';
		if (!digits(r))
			return bad(r, "want a digit");
	}
	return 0;
}

static int skip_value(struct rd *r, int depth);

/* The members or elements of an unknown value, up to `close`. */
static int skip_items(struct rd *r, char close, int depth)
{
	r->p++;
	ws(r);
	if (*r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (string(r) < 0)
				return -1;
			ws(r);
			if (*r->p != ':')
				return bad(r, "want ':'");
			r->p++;
			ws(r);
		}
		if (skip_value(r, depth + 1) < 0)
			return -1;
		ws(r);
		if (*r->p == close) {
			r->p++;
			return 0;
		}
		if (*r->p != ',')
			return bad(r, "want ',' or the end");
		r->p++;
		ws(r);
	}
}

/* Any JSON value, read and dropped (an unknown member's). */
static int skip_value(struct rd *r, int depth)
{
	if (depth > MAX_DEPTH)
		return bad(r, "nesting too deep");
	switch (*r->p) {
	case '"':
		return string(r);
	case '{':
		return skip_items(r, '}', depth);
	case '[':
		return skip_items(r, ']', depth);
	case 't':
	case 'f':
	case 'n':
		return word(r, "true") || word(r, "false") || word(r, "null")
			   ? 0
			   : bad(r, "want a value");
	default:
		return skip_number(r);
	}
}

/* The value of a known member: "annotations", an object of strings. */
static int map(struct rd *r, struct husk_kvv *m)
{
	size_t cap = 0;

	if (*r->p != '{')
		return bad(r, "want an object");
	r->p++;
	ws(r);
	if (*r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		struct husk_kv kv = {0};
		if (string(r) < 0)
			return -1;
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->v[i].key, r->buf) == 0)
				return bad(r, "a repeated key");
		if (!(kv.key = strdup(r->buf)))
			return husk_err_set(r->err, ENOMEM, "read state");
		ws(r);
		if (*r->p != ':') {
			free(kv.key);
			return bad(r, "want ':'");
		}
		r->p++;
		ws(r);
		if (string(r) < 0 || !(kv.value = strdup(r->buf))) {
			free(kv.key);
			return r->err->code ? -1 : husk_err_set(r->err, ENOMEM, "read state");
		}
		if (m->n == cap) {
			cap = cap ? cap * 2 : 8;
			struct husk_kv *v = realloc(m->v, cap * sizeof(*v));
			if (!v) {
				free(kv.key);
				free(kv.value);
				return husk_err_set(r->err, ENOMEM, "read state");
			}
			m->v = v;
		}
		m->v[m->n++] = kv;
		ws(r);
		if (*r->p == '}') {
			r->p++;
			return 0;
		}
		if (*r->p != ',')
			return bad(r, "want ',' or '}'");
		r->p++;
		ws(r);
	}
}

/* An integer for a field, in the range its type holds. */
static int number_of(struct rd *r, const struct husk_state_field *f, void *dst)
{
	uint64_t max = f->type == T_PID ? INT_MAX : f->type == T_UINT ? UINT_MAX : UINT64_MAX;
	const char *at = r->p;
	uint64_t u;
	bool neg;

	if (*r->p != '-' && (*r->p < '0' || *r->p > '9'))
		return bad(r, "want an integer");
	if (integer(r, &u, &neg) < 0)
		return -1;
	if ((neg && u) || u > max) {
		r->p = at;
		return bad(r, "a number out of range");
	}
	if (f->type == T_PID)
		*(pid_t *)dst = (pid_t)u;
	else if (f->type == T_UINT)
		*(unsigned int *)dst = (unsigned int)u;
	else
		*(uint64_t *)dst = u;
	return 0;
}

static int status_of(struct rd *r, enum husk_status *dst)
{
	const char *at = r->p;

	if (string(r) < 0)
		return -1;
	if (!husk_status_from_name(r->buf, dst)) {
		r->p = at;
		return bad(r, "an unknown status");
	}
	return 0;
}

/* A known member's value into t. null stands for the value left out. */
static int value(struct rd *r, const struct husk_state_field *f, struct husk_container *t)
{
	void *dst = husk_state_at(t, f);

	if (word(r, "null"))
		return 0;
	switch (f->type) {
	case T_VERSION:
		return string(r); /* any version loads: the model has one */
	case T_STR:
		if (string(r) < 0)
			return -1;
		if (!(*(char **)dst = strdup(r->buf)))
			return husk_err_set(r->err, ENOMEM, "read state");
		return 0;
	case T_PID:
	case T_U64:
	case T_UINT:
		return number_of(r, f, dst);
	case T_STATUS:
		return status_of(r, dst);
	case T_CREATING:
		if (word(r, "true"))
			*(enum husk_status *)dst = HUSK_STATUS_CREATING;
		else if (!word(r, "false"))
			return bad(r, "want true or false");
		return 0;
	case T_MAP:
		return map(r, dst);
	}
	return bad(r, "a field of no type");
}

static const struct husk_state_field *lookup(const char *key, enum husk_state_form form)
{
	for (size_t i = 0; i < HUSK_STATE_N_FIELDS; i++)
		if ((husk_state_fields[i].forms & (1u << form)) &&
		    strcmp(husk_state_fields[i].key, key) == 0)
			return &husk_state_fields[i];
	return NULL;
}

/* One member: a known one into t (once), an unknown one skipped. */
static int member(struct rd *r, enum husk_state_form form, struct husk_container *t, uint32_t *seen)
{
	const struct husk_state_field *f;
	const char *key_at = r->p;
	uint32_t bit;

	if (string(r) < 0)
		return -1;
	f = lookup(r->buf, form);
	ws(r);
	if (*r->p != ':')
		return bad(r, "want ':'");
	r->p++;
	ws(r);
	if (!f)
		return skip_value(r, 1);
	bit = 1u << (f - husk_state_fields);
	if (*seen & bit) {
		r->p = key_at;
		return bad(r, "a repeated member");
	}
	*seen |= bit;
	if (value(r, f, t) < 0)
		return husk_err_prefix(r->err, "\"%s\"", f->key);
	return 0;
}

static int object(struct rd *r, enum husk_state_form form, struct husk_container *t, uint32_t *seen)
{
	ws(r);
	if (*r->p != '{')
		return bad(r, "want an object");
	r->p++;
	ws(r);
	if (*r->p == '}')
		r->p++;
	else
		for (;;) {
			if (member(r, form, t, seen) < 0)
				return -1;
			ws(r);
			if (*r->p == '}') {
				r->p++;
				break;
			}
			if (*r->p != ',')
				return bad(r, "want ',' or '}'");
			r->p++;
			ws(r);
		}
	ws(r);
	return *r->p ? bad(r, "text after the object") : 0;
}

/* Free what the decoder set in t for the fields of `form`. */
static void drop(struct husk_container *t, enum husk_state_form form)
{
	for (size_t i = 0; i < HUSK_STATE_N_FIELDS; i++) {
		const struct husk_state_field *f = &husk_state_fields[i];
		if (!(f->forms & (1u << form)))
			continue;
		if (f->type == T_STR)
			free(*(char **)husk_state_at(t, f));
		else if (f->type == T_MAP)
			husk_kvv_free(husk_state_at(t, f));
	}
}

static int check_required(const struct husk_container *t, enum husk_state_form form, uint32_t seen,
			  struct husk_err *err)
{
	for (size_t i = 0; i < HUSK_STATE_N_FIELDS; i++) {
		const struct husk_state_field *f = &husk_state_fields[i];
		if ((f->forms & (1u << form)) && (f->flags & REQUIRED) &&
		    !*(char *const *)husk_state_at(t, f))
			return husk_err_plain(err, EINVAL, "\"%s\" is missing", f->key);
	}
	return 0;
}

/* Hand t's fields of `form` over to c. A record never sets the id: the
 * store's directory names the container, not the file; nor does any form
 * replace an id c already has. */
static void move(struct husk_container *c, struct husk_container *t, enum husk_state_form form)
{
	if (c->id || form == HUSK_STATE_RECORD) {
		free(t->id);
		t->id = c->id;
	}
	for (size_t i = 0; i < HUSK_STATE_N_FIELDS; i++) {
		const struct husk_state_field *f = &husk_state_fields[i];
		static const size_t size[] = {
		    [T_STR] = sizeof(char *),
		    [T_PID] = sizeof(pid_t),
		    [T_U64] = sizeof(uint64_t),
		    [T_UINT] = sizeof(unsigned int),
		    [T_STATUS] = sizeof(enum husk_status),
		    [T_CREATING] = sizeof(enum husk_status),
		    [T_MAP] = sizeof(struct husk_kvv),
		};
		if ((f->forms & (1u << form)) && size[f->type])
			memcpy(husk_state_at(c, f), husk_state_at(t, f), size[f->type]);
	}
}

int husk_state_decode(const char *text, enum husk_state_form form, struct husk_container *c,
		      struct husk_err *err)
{
	struct husk_container t = {.status = HUSK_STATUS_STOPPED};
	struct rd r = {.start = text, .p = text, .err = err};
	uint32_t seen = 0;
	int rc;

	husk_err_clear(err);
	rc = object(&r, form, &t, &seen);
	if (rc == 0)
		rc = check_required(&t, form, seen, err);
	free(r.buf);
	if (rc < 0) {
		drop(&t, form);
		return -1;
	}
	move(c, &t, form);
	return 0;
}
