#include "util/log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/escape.h"

static int log_fd = -1;
static bool log_as_json;
static bool log_debug;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void husk_log_setup(int fd, bool json, bool debug)
{
	log_fd = fd;
	log_as_json = json;
	log_debug = debug;
}

int husk_log_fd(void)
{
	return log_fd;
}

bool husk_log_json(void)
{
	return log_as_json;
}

/* Escape for both formats: JSON string rules are a superset of what the
 * logfmt text line needs (quotes, backslashes, control characters). DEL and
 * the C1 controls are escaped too, and a byte that is not UTF-8 becomes
 * \u00XX (its value), so a JSON log stays valid JSON. */
static size_t escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;

	while (*in && o + 7 < cap) {
		uint32_t cp;
		size_t n = husk_utf8_char(in, &cp);
		bool bad = n == 0;
		if (bad) {
			cp = (unsigned char)*in;
			n = 1;
		}
		if (cp == '"' || cp == '\\') {
			out[o++] = '\\';
			out[o++] = (char)cp;
		} else if (cp == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (bad || husk_is_control(cp)) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", (unsigned)cp);
		} else if (o + n < cap) {
			memcpy(out + o, in, n);
			o += n;
		} else {
			break;
		}
		in += n;
	}
	out[o] = '\0';
	return o;
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
	char msg[2048], esc[4096], stamp[64], line[4400];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (log_fd < 0 || (level == HUSK_LOG_DEBUG && !log_debug))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escape(esc, sizeof(esc), msg);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - (size_t)n, ".%09ldZ", ts.tv_nsec);
	if (log_as_json)
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			     level_names[level], esc, stamp);
	else
		n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n", stamp,
			     level_names[level], esc);
	if (n > 0)
		(void)!write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
