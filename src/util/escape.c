#include "util/escape.h"

#include <stdbool.h>
#include <string.h>

static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t husk_utf8_char(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n;
	uint32_t v;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		n = 2;
		v = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3;
		v = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4;
		v = u[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (!continuation(u[i])) /* the NUL at the end stops here too */
			return 0;
		v = v << 6 | (u[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Append the n bytes of s when they fit (with room for the NUL). */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n >= cap)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

static bool put_hex(char *out, size_t cap, size_t *o, unsigned char c)
{
	static const char digits[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};
	return put(out, cap, o, esc, sizeof(esc));
}

static bool put_escaped(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	switch (*s) {
	case '\n':
		return put(out, cap, o, "\\n", 2);
	case '\r':
		return put(out, cap, o, "\\r", 2);
	case '\t':
		return put(out, cap, o, "\\t", 2);
	}
	for (size_t i = 0; i < n; i++)
		if (!put_hex(out, cap, o, (unsigned char)s[i]))
			return false;
	return true;
}

char *husk_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	bool room = cap > 0;

	while (room && *in) {
		uint32_t cp;
		size_t n = husk_utf8_char(in, &cp);
		if (n == 0) { /* not UTF-8: this byte alone */
			room = put_hex(out, cap, &o, (unsigned char)*in);
			n = 1;
		} else if (husk_is_control(cp)) {
			room = put_escaped(out, cap, &o, in, n);
		} else {
			room = put(out, cap, &o, in, n);
		}
		in += n;
	}
	if (cap > 0)
		out[o] = '\0';
	return out;
}
