/* state.json written by hand: jansson's pack + dump built and freed a tree
 * of objects for a dozen fields (about as many instructions as the mounts
 * of a container cost in user space). The loader still reads it with
 * jansson, so this must stay valid JSON: strings are escaped, and text that
 * is not UTF-8 is refused, as json_string() refuses it. */
#include "state/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/record.h"

struct out {
	char *p;
	size_t len, cap;
	bool bad; /* out of memory, or text that is not UTF-8 */
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

static void put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
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

static void put_str(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	put(o, "\"", 1);
	while (*p && !o->bad) {
		const unsigned char *run = p;
		size_t n;
		/* Copy plain characters in runs; stop at what needs escaping. */
		while (*p >= 0x20 && *p != '"' && *p != '\\' && (n = utf8_seq(p)) > 0)
			p += n;
		put(o, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			o->bad = true;
			errno = EILSEQ; /* not UTF-8 */
			break;
		}
		char esc[8];
		switch (*p) {
		case '"':
			put(o, "\\\"", 2);
			break;
		case '\\':
			put(o, "\\\\", 2);
			break;
		case '\n':
			put(o, "\\n", 2);
			break;
		case '\t':
			put(o, "\\t", 2);
			break;
		case '\r':
			put(o, "\\r", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(o, esc, 6);
		}
		p++;
	}
	put(o, "\"", 1);
}

static void put_key(struct out *o, const char *key, bool first)
{
	if (!first)
		put(o, ",", 1);
	put_str(o, key);
	put(o, ":", 1);
}

static void put_int(struct out *o, const char *key, int64_t v)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put_key(o, key, false);
	put(o, p, (size_t)(e - p));
}

static void put_member(struct out *o, const char *key, const char *val)
{
	put_key(o, key, false);
	put_str(o, val);
}

char *husk_state_encode(const struct husk_container *c)
{
	struct out o = {0};

	put(&o, "{", 1);
	put_key(&o, "id", true);
	put_str(&o, c->id);
	put_int(&o, "pid", c->pid);
	put_int(&o, "pid_start", (int64_t)c->pid_start);
	put_member(&o, "bundle", c->bundle);
	put_member(&o, "rootfs", c->rootfs);
	put_member(&o, "created", c->created);
	put_member(&o, "owner", c->owner ? c->owner : "");
	if (c->cgroup_path)
		put_member(&o, "cgroup_path", c->cgroup_path);
	put_int(&o, "hook_kinds", c->hook_kinds);
	put_key(&o, "creating", false);
	put_s(&o, c->status == HUSK_STATUS_CREATING ? "true" : "false");
	put_key(&o, "annotations", false);
	put(&o, "{", 1);
	for (size_t i = 0; i < c->annotations.n; i++) {
		put_key(&o, c->annotations.v[i].key, i == 0);
		put_str(&o, c->annotations.v[i].value);
	}
	put(&o, "}}", 2);
	if (o.bad) {
		free(o.p);
		return NULL;
	}
	return o.p;
}
