/* state.json read back without building a jansson tree, for the form that
 * husk_state_encode() writes: one object of plain strings, integers,
 * booleans and the annotations object. Anything else (an escape, a byte
 * above 0x7f, a number with a fraction, a repeated key) is left to jansson:
 * the fast path answers only where it is sure to read what jansson reads. */
#include "state/state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/record.h"
#include "util/cleanup.h"

#define FALLBACK 1

struct rd {
	const char *p;
};

static void ws(struct rd *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

/* A string with no escape and only printable ASCII: its span in the text. */
static int str(struct rd *r, const char **s, size_t *n)
{
	const char *q;
	if (*r->p != '"')
		return FALLBACK;
	q = ++r->p;
	while (*q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
		q++;
	if (*q != '"')
		return FALLBACK;
	*s = r->p;
	*n = (size_t)(q - r->p);
	r->p = q + 1;
	return 0;
}

static int num(struct rd *r, int64_t *v)
{
	bool neg = *r->p == '-';
	uint64_t u = 0;
	const char *start;

	r->p += neg;
	start = r->p;
	if (*r->p == '0' && r->p[1] >= '0' && r->p[1] <= '9')
		return FALLBACK; /* not JSON */
	while (*r->p >= '0' && *r->p <= '9') {
		if (u > (UINT64_MAX - 9) / 10)
			return FALLBACK;
		u = u * 10 + (uint64_t)(*r->p++ - '0');
	}
	if (r->p == start || *r->p == '.' || *r->p == 'e' || *r->p == 'E' ||
	    u > (uint64_t)INT64_MAX)
		return FALLBACK;
	*v = neg ? -(int64_t)u : (int64_t)u;
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

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* A member's key and the ':' after it; leaves r at the value. */
static int member_key(struct rd *r, const char **k, size_t *kn)
{
	if (str(r, k, kn))
		return FALLBACK;
	ws(r);
	if (*r->p++ != ':')
		return FALLBACK;
	ws(r);
	return 0;
}

static int annotations(struct rd *r, struct husk_kvv *out)
{
	size_t cap = 0;

	r->p++; /* '{' */
	ws(r);
	if (*r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		const char *k, *v;
		size_t kn, vn;
		ws(r);
		if (member_key(r, &k, &kn) || str(r, &v, &vn))
			return FALLBACK;
		for (size_t i = 0; i < out->n; i++)
			if (key_is(k, kn, out->v[i].key))
				return FALLBACK; /* jansson keeps the last */
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			struct husk_kv *nv = realloc(out->v, cap * sizeof(*nv));
			if (!nv)
				return -1;
			out->v = nv;
		}
		out->v[out->n].key = strndup(k, kn);
		out->v[out->n].value = strndup(v, vn);
		out->n++;
		if (!out->v[out->n - 1].key || !out->v[out->n - 1].value)
			return -1;
		ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != '}')
			return FALLBACK;
		return 0;
	}
}

enum {
	F_PID,
	F_PID_START,
	F_HOOKS,
	F_CREATING,
	F_BUNDLE,
	F_ROOTFS,
	F_CREATED,
	F_OWNER,
	F_CGROUP,
	F_ANN,
	F_N
};
static const char *const field_names[F_N] = {"pid",	    "pid_start",  "hook_kinds", "creating",
					     "bundle",	    "rootfs",	  "created",	"owner",
					     "cgroup_path", "annotations"};

/* One member into t; unknown keys with a plain value are skipped, as the
 * jansson reader ignores them. */
static int member(struct rd *r, struct husk_container *t, unsigned *seen)
{
	const char *k, *s;
	size_t kn, sn;
	int f = F_N, rc;
	int64_t v = 0;

	if (member_key(r, &k, &kn))
		return FALLBACK;
	for (int i = 0; i < F_N; i++)
		if (key_is(k, kn, field_names[i]))
			f = i;
	if (f < F_N && (*seen & (1u << f)))
		return FALLBACK;
	if (f < F_N)
		*seen |= 1u << f;
	switch (*r->p) {
	case '"':
		if ((rc = str(r, &s, &sn)))
			return rc;
		char **dst = f == F_BUNDLE    ? &t->bundle
			     : f == F_ROOTFS  ? &t->rootfs
			     : f == F_CREATED ? &t->created
			     : f == F_OWNER   ? &t->owner
			     : f == F_CGROUP  ? &t->cgroup_path
					      : NULL;
		if (dst && !(*dst = strndup(s, sn)))
			return -1;
		return 0;
	case '{':
		return f == F_ANN ? annotations(r, &t->annotations) : FALLBACK;
	case 't':
	case 'f':
	case 'n':
		if (!word(r, "true") && !word(r, "false") && !word(r, "null"))
			return FALLBACK;
		if (f == F_CREATING)
			t->status = r->p[-1] == 'e' && r->p[-2] == 'u' ? HUSK_STATUS_CREATING
								       : HUSK_STATUS_STOPPED;
		return 0;
	default:
		if ((rc = num(r, &v)))
			return rc;
		if (f == F_PID)
			t->pid = (pid_t)v;
		else if (f == F_PID_START)
			t->pid_start = (uint64_t)v;
		else if (f == F_HOOKS)
			t->hook_kinds = (unsigned int)v;
		return 0;
	}
}

static void drop(struct husk_container *t)
{
	free(t->bundle);
	free(t->rootfs);
	free(t->created);
	free(t->owner);
	free(t->cgroup_path);
	husk_kvv_free(&t->annotations);
}

int husk_state_decode(const char *text, struct husk_container *c)
{
	struct husk_container t = {.status = HUSK_STATUS_STOPPED};
	struct rd r = {text};
	unsigned seen = 0;
	int rc = 0;

	ws(&r);
	if (*r.p++ != '{')
		return FALLBACK;
	ws(&r);
	if (*r.p == '}')
		r.p++;
	else
		for (;;) {
			if ((rc = member(&r, &t, &seen)))
				break;
			ws(&r);
			if (*r.p == ',') {
				r.p++;
				ws(&r);
				continue;
			}
			if (*r.p++ != '}')
				rc = FALLBACK;
			break;
		}
	if (!rc) {
		ws(&r);
		if (*r.p)
			rc = FALLBACK;
	}
	if (rc) {
		drop(&t);
		if (rc < 0)
			errno = ENOMEM;
		return rc;
	}
	c->pid = t.pid;
	c->pid_start = t.pid_start;
	c->hook_kinds = t.hook_kinds;
	c->status = t.status;
	c->bundle = t.bundle;
	c->rootfs = t.rootfs;
	c->created = t.created;
	c->owner = t.owner;
	c->cgroup_path = t.cgroup_path;
	c->annotations = t.annotations;
	return 0;
}
