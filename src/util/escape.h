/* Printing strings that come from users (container ids, paths, config
 * values) to a terminal or a log: control characters would move the cursor,
 * recolour or retitle the terminal, or forge extra lines in a log. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the valid UTF-8 character at s, its code point in
 * *cp; 0 when the byte at s starts no valid character (a stray byte, an
 * overlong form, a surrogate, or a sequence cut short). */
size_t husk_utf8_char(const char *s, uint32_t *cp);

/* Is the code point a control character (C0, DEL or C1)? */
static inline int husk_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Copy in to out (cap bytes, always NUL terminated, cut short when full)
 * with \n, \r and \t written as such and every other control character or
 * byte that is not UTF-8 as \xHH (per byte): "a\x1bb". Everything else,
 * printable UTF-8 included, is copied as is. Returns out. */
char *husk_escape(char *out, size_t cap, const char *in);
