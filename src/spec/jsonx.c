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

size_t jp_key(struct jctx *c, const char *key)
{
	size_t old = c->len;
	int n =
	    snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "", key);
	if (n > 0)
		c->len +=
		    (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - c->len - 1;
	return old;
}

size_t jp_idx(struct jctx *c, size_t i)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
	if (n > 0)
		c->len +=
		    (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - c->len - 1;
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

/* Rewrite big unsigned literals into marked strings; NULL if there are none
 * (or on allocation failure, which then surfaces as the original error). */
static char *mark_big_numbers(const char *json, size_t len, size_t *out_len)
{
	const char *p = json, *lim = json + len, *end;
	char *out = malloc(len * 2 + 16), *w = out;
	bool in_str = false, changed = false;

	if (!out)
		return NULL;
	while (p < lim) {
		char ch = *p;
		if (in_str) {
			*w++ = *p++;
			if (ch == '\\' && p < lim)
				*w++ = *p++;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"')
			in_str = true;
		if (ch >= '0' && ch <= '9' && (p == json || !strchr("-.eE+0123456789", p[-1])) &&
		    big_unsigned_at(p, lim, &end)) {
			w += sprintf(w, "\"\\u0001");
			memcpy(w, p, (size_t)(end - p));
			w += end - p;
			*w++ = '"';
			p = end;
			changed = true;
			continue;
		}
		*w++ = *p++;
	}
	if (!changed) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)(w - out);
	return out;
}

json_t *jload(struct jctx *c, const char *json, size_t len, const char *what)
{
	struct husk_err *err = c->err;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);

	if (!root && strstr(jerr.text, "too big")) {
		size_t big_len = 0;
		_cleanup_free_ char *big = mark_big_numbers(json, len, &big_len);
		/* A marker is expanded, so later syntax errors report the first parse's position.
		 */
		if (big) {
			json_error_t jerr2;
			root = json_loadb(big, big_len, 0, &jerr2);
			if (!root && !strstr(jerr2.text, "too big"))
				jerr = jerr2;
			c->big_numbers = root != NULL;
		}
	}
	if (!root) {
		husk_err_set(err, 0, "%s: line %d column %d: %s", what, jerr.line, jerr.column,
			     jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		husk_err_set(err, 0, "%s: must be a JSON object", what);
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
