#include "util/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Copy the first len bytes of src into err->msg. When they do not fit, the
 * middle goes: the start names the step and the end carries the reason. */
static void store(struct husk_err *err, const char *src, size_t len)
{
	static const char cut[] = "...";
	size_t cap = sizeof(err->msg), head, tail;

	if (len < cap) {
		memcpy(err->msg, src, len);
		err->msg[len] = '\0';
		return;
	}
	head = cap / 4;
	tail = cap - head - (sizeof(cut) - 1) - 1;
	memcpy(err->msg, src, head);
	memcpy(err->msg + head, cut, sizeof(cut) - 1);
	memcpy(err->msg + head + sizeof(cut) - 1, src + len - tail, tail);
	err->msg[cap - 1] = '\0';
}

__attribute__((format(printf, 4, 0))) static int
err_vset(struct husk_err *err, int code, bool with_reason, const char *fmt, va_list ap)
{
	char buf[2 * HUSK_ERR_MSG_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n;

	if (code != 0 && with_reason) {
		n = snprintf(buf + len, sizeof(buf) - len, ": %s", strerror(code));
		/* A format that filled buf still ends with the reason. */
		if (n > 0 && len + (size_t)n >= sizeof(buf)) {
			len = sizeof(buf) - 1 - (size_t)n;
			snprintf(buf + len, sizeof(buf) - len, ": %s", strerror(code));
		}
		len += n > 0 ? (size_t)n : 0;
	}
	store(err, buf, len);
	err->code = code;
	return -1;
}

int husk_err_set(struct husk_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, true, fmt, ap);
	va_end(ap);
	return -1;
}

int husk_err_plain(struct husk_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, false, fmt, ap);
	va_end(ap);
	return -1;
}

int husk_err_sys(struct husk_err *err, const char *fmt, ...)
{
	int code = errno;
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, true, fmt, ap);
	va_end(ap);
	return -1;
}

int husk_err_prefix(struct husk_err *err, const char *fmt, ...)
{
	char buf[HUSK_ERR_MSG_MAX + 512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, 256, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > 255)
		n = 255;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", err->msg);
	store(err, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return -1;
}
