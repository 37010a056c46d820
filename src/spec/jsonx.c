#include "spec/jsonx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/ids.h"

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

/* BIG_MARK or HUGE_MARK when v is a number jload() carried as a string;
 * 0 for anything else. */
static char number_mark(const struct jctx *c, json_t *v)
{
	const char *s;

	if (!c->big_numbers || !json_is_string(v))
		return 0;
	s = json_string_value(v);
	return s[0] == BIG_MARK || s[0] == HUGE_MARK ? s[0] : 0;
}

bool jis_str(const struct jctx *c, json_t *v)
{
	return json_is_string(v) && !number_mark(c, v);
}

/* A carried number as written, cut short: it may be megabytes of digits. */
static const char *number_text(json_t *v, char buf[40])
{
	const char *s = json_string_value(v) + 1;
	size_t n = strlen(s);

	if (n <= 32)
		return s;
	memcpy(buf, s, 32);
	memcpy(buf + 32, "...", 4);
	return buf;
}

static int out_of_range(struct jctx *c, json_t *v)
{
	char buf[40];
	return jfail(c, "%s out of range", number_text(v, buf));
}

int jv_str(struct jctx *c, json_t *v, char **out)
{
	const char *s = json_string_value(v); /* NULL when v is not a string */
	size_t n;

	if (!s || number_mark(c, v))
		return jfail(c, "must be a string");
	n = json_string_length(v);
	if (memchr(s, '\0', n))
		return jfail(c, "must not contain a NUL byte");
	free(*out);
	*out = malloc(n + 1); /* strdup without its strlen: the length is known */
	if (!*out)
		return jnomem(c);
	memcpy(*out, s, n + 1);
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
	if (number_mark(c, v))
		return out_of_range(c, v);
	if (!json_is_integer(v))
		return jfail(c, "must be an integer");
	*out = json_integer_value(v);
	return 0;
}

int jv_u64(struct jctx *c, json_t *v, uint64_t *out)
{
	char mark = number_mark(c, v);

	if (mark == BIG_MARK) {
		*out = strtoull(json_string_value(v) + 1, NULL, 10);
		return 0;
	}
	if (mark)
		return out_of_range(c, v);
	if (!json_is_integer(v))
		return jfail(c, "must be an integer");
	if (json_integer_value(v) < 0)
		return jfail(c, "must not be negative");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int jv_range(struct jctx *c, json_t *v, int64_t min, int64_t max, int64_t *out)
{
	char buf[40];
	int64_t x;

	if (number_mark(c, v))
		return jfail(c, "%s out of range (must be between %" PRId64 " and %" PRId64 ")",
			     number_text(v, buf), min, max);
	if (jv_i64(c, v, &x) < 0)
		return -1;
	if (x < min || x > max)
		return jfail(
		    c, "%" PRId64 " out of range (must be between %" PRId64 " and %" PRId64 ")", x,
		    min, max);
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

int jv_id(struct jctx *c, json_t *v, uint32_t *out)
{
	struct husk_err why = {0};
	char buf[40];
	int64_t x;

	if (number_mark(c, v))
		return jfail(c, "%s is out of range (0..%d)", number_text(v, buf), HUSK_ID_MAX);
	if (jv_i64(c, v, &x) < 0)
		return -1;
	if (husk_id_check(x, out, &why) < 0)
		return jfail(c, "%s", why.msg);
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
MEMBER_GETTER(id, uint32_t, jv_id(c, v, out))
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
