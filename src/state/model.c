/* The state model: one table names every field of a container's state,
 * the JSON type it has, where it lives in struct husk_container and in
 * which documents it appears. One encoder and one decoder walk it:
 *
 *   record  state.json in the store (what cannot be derived: no status)
 *   oci     what `state` and `list` print: the spec's fields, then runc's
 *           rootfs, created and owner
 *   spec    exactly the spec's state: the stdin of hooks, and the state
 *           in the seccomp listener's container process state
 *
 * Written by hand, not with jansson: its pack + dump built and freed a tree
 * of objects for a dozen fields, and every command reads or writes the
 * record. The output is what jansson's compact or 2-space indented dump
 * writes, byte for byte: strings escaped, text that is not UTF-8 refused. */
#include "state/state.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "state/fields.h"

#define AT(member) offsetof(struct husk_container, member)

/* In the order written. `state` prints ociVersion, id, pid, status first,
 * as runc does; the record keeps the order older builds wrote. */
const struct husk_state_field husk_state_fields[HUSK_STATE_N_FIELDS] = {
    {"ociVersion", T_VERSION, IN_OCI | IN_SPEC, 0, 0},
    {"id", T_STR, IN_ALL, 0, AT(id)},
    {"pid", T_PID, IN_ALL, 0, AT(pid)},
    {"pid_start", T_U64, IN_RECORD, 0, AT(pid_start)},
    {"status", T_STATUS, IN_OCI | IN_SPEC, 0, AT(status)},
    {"bundle", T_STR, IN_ALL, REQUIRED, AT(bundle)},
    {"rootfs", T_STR, IN_RECORD | IN_OCI, REQUIRED, AT(rootfs)},
    {"created", T_STR, IN_RECORD | IN_OCI, REQUIRED, AT(created)},
    {"owner", T_STR, IN_RECORD | IN_OCI, REQUIRED, AT(owner)},
    {"cgroup_path", T_STR, IN_RECORD, OPTIONAL, AT(cgroup_path)},
    {"hook_kinds", T_UINT, IN_RECORD, 0, AT(hook_kinds)},
    {"creating", T_CREATING, IN_RECORD, 0, AT(status)},
    {"annotations", T_MAP, IN_ALL, OPTIONAL, AT(annotations)},
};

static const char *const status_names[] = {
    [HUSK_STATUS_CREATING] = "creating", [HUSK_STATUS_CREATED] = "created",
    [HUSK_STATUS_RUNNING] = "running",	 [HUSK_STATUS_PAUSED] = "paused",
    [HUSK_STATUS_STOPPED] = "stopped",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *husk_status_name(enum husk_status s)
{
	return (unsigned)s < N_STATUS ? status_names[s] : "unknown";
}

bool husk_status_from_name(const char *s, enum husk_status *out)
{
	for (unsigned i = 0; i < N_STATUS; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum husk_status)i;
			return true;
		}
	return false;
}

/* ---- writing ---- */

struct out {
	char *p;
	size_t len, cap;
	bool bad; /* out of memory, or text that is not UTF-8 (errno says) */
	bool pretty;
	int depth;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->bad)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 512;
		while (o->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->bad = true;
			errno = ENOMEM;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

size_t husk_utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
			   ? 4
			   : 0;
	}
	return 0;
}

static bool plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

/* The escape jansson writes for a character that needs one. */
static void put_escape(struct out *o, unsigned char c)
{
	static const char short_form[] = {['"'] = '"',	['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
					  ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};
	char esc[8];

	if (c < sizeof(short_form) && short_form[c]) {
		esc[0] = '\\';
		esc[1] = short_form[c];
		put(o, esc, 2);
		return;
	}
	snprintf(esc, sizeof(esc), "\\u%04X", c);
	put(o, esc, 6);
}

static void put_str(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	put(o, "\"", 1);
	while (*p && !o->bad) {
		const unsigned char *run = p;
		/* Copy plain characters in runs; stop at what needs escaping. */
		while (plain(*p) && (n = husk_utf8_seq(p)) > 0)
			p += n;
		put(o, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		if (plain(*p)) {
			o->bad = true;
			errno = EILSEQ; /* not UTF-8 */
			break;
		}
		put_escape(o, *p++);
	}
	put(o, "\"", 1);
}

static void put_u64(struct out *o, uint64_t u, bool neg)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		*--p = '-';
	put(o, p, (size_t)(e - p));
}

static void put_i64(struct out *o, int64_t v)
{
	put_u64(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

static void newline(struct out *o)
{
	static const char spaces[] = "        ";
	put(o, "\n", 1);
	for (int i = 0; i < o->depth; i++)
		put(o, spaces, 2);
}

static void begin(struct out *o, char open)
{
	put(o, &open, 1);
	o->depth++;
}

/* The separator before a member or element, and the member's key. */
static void next(struct out *o, const char *key, bool *first)
{
	if (!*first)
		put(o, ",", 1);
	*first = false;
	if (o->pretty)
		newline(o);
	if (!key)
		return;
	put_str(o, key);
	put(o, ": ", o->pretty ? 2 : 1);
}

static void end(struct out *o, char close, bool empty)
{
	o->depth--;
	if (o->pretty && !empty)
		newline(o);
	put(o, &close, 1);
}

static void put_map(struct out *o, const struct husk_kvv *m)
{
	bool first = true;

	begin(o, '{');
	for (size_t i = 0; i < m->n; i++) {
		next(o, m->v[i].key, &first);
		put_str(o, m->v[i].value);
	}
	end(o, '}', first);
}

static void put_value(struct out *o, const struct husk_container *c,
		      const struct husk_state_field *f, enum husk_state_form form)
{
	const void *p = husk_state_at(c, f);

	switch (f->type) {
	case T_VERSION:
		put_str(o, HUSK_OCI_VERSION);
		break;
	case T_STR:
		put_str(o, *(char *const *)p ? *(char *const *)p : "");
		break;
	case T_PID:
		/* A stopped container's pid may belong to another process by now. */
		put_i64(o, form != HUSK_STATE_RECORD && c->status == HUSK_STATUS_STOPPED
			       ? 0
			       : *(const pid_t *)p);
		break;
	case T_U64:
		put_u64(o, *(const uint64_t *)p, false);
		break;
	case T_UINT:
		put_u64(o, *(const unsigned int *)p, false);
		break;
	case T_STATUS:
		put_str(o, husk_status_name(*(const enum husk_status *)p));
		break;
	case T_CREATING:
		put(o, *(const enum husk_status *)p == HUSK_STATUS_CREATING ? "true" : "false",
		    *(const enum husk_status *)p == HUSK_STATUS_CREATING ? 4 : 5);
		break;
	case T_MAP:
		put_map(o, p);
		break;
	}
}

static bool is_empty(const struct husk_container *c, const struct husk_state_field *f)
{
	if (f->type == T_STR)
		return !*(char *const *)husk_state_at(c, f);
	if (f->type == T_MAP)
		return ((const struct husk_kvv *)husk_state_at(c, f))->n == 0;
	return false;
}

static void put_object(struct out *o, const struct husk_container *c, enum husk_state_form form)
{
	bool first = true;

	begin(o, '{');
	for (const struct husk_state_field *f = husk_state_fields;
	     f < husk_state_fields + HUSK_STATE_N_FIELDS; f++) {
		if (!(f->forms & (1u << form)) || ((f->flags & OPTIONAL) && is_empty(c, f)))
			continue;
		next(o, f->key, &first);
		put_value(o, c, f, form);
	}
	end(o, '}', first);
}

static char *finish(struct out *o)
{
	if (o->bad) {
		free(o->p);
		return NULL;
	}
	return o->p;
}

char *husk_state_encode(const struct husk_container *c, enum husk_state_form form, bool pretty)
{
	struct out o = {.pretty = pretty};

	put_object(&o, c, form);
	return finish(&o);
}

char *husk_state_listener_json(const struct husk_container *c, pid_t pid, const char *metadata)
{
	struct out o = {0};
	bool first = true, first_fd = true;

	begin(&o, '{');
	next(&o, "ociVersion", &first);
	put_str(&o, HUSK_OCI_VERSION);
	next(&o, "fds", &first);
	begin(&o, '[');
	next(&o, NULL, &first_fd);
	put_str(&o, "seccompFd");
	end(&o, ']', false);
	next(&o, "pid", &first);
	put_i64(&o, pid);
	next(&o, "metadata", &first);
	put_str(&o, metadata ? metadata : "");
	next(&o, "state", &first);
	put_object(&o, c, HUSK_STATE_SPEC);
	end(&o, '}', false);
	return finish(&o);
}
