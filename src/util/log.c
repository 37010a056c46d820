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
bool husk_trace_enabled;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void husk_log_setup(int fd, bool json, bool debug)
{
	log_fd = fd;
	log_as_json = json;
	log_debug = debug;
	husk_trace_enabled = debug && fd >= 0;
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

/* The trace's fields after msg: step, object, duration_us, result. */
struct trace_fields {
	const char *step;
	const char *object;
	uint64_t duration_us;
	bool failed;
};

static void timestamp(char *stamp, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(stamp, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, cap - (size_t)n, ".%09ldZ", ts.tv_nsec);
}

static int trace_text(char *out, size_t cap, const struct trace_fields *t)
{
	char obj[1024];

	if (!t)
		return 0; /* extra stays empty */
	escape(obj, sizeof(obj), t->object ? t->object : "");
	if (log_as_json)
		return snprintf(
		    out, cap, ",\"step\":\"%s\",\"object\":\"%s\",\"duration_us\":%llu%s", t->step,
		    obj, (unsigned long long)t->duration_us, t->failed ? ",\"failed\":true" : "");
	return snprintf(out, cap, " step=\"%s\" object=\"%s\" duration_us=%llu%s", t->step, obj,
			(unsigned long long)t->duration_us, t->failed ? " failed=true" : "");
}

/* One line, one write(2): with O_APPEND, lines from the runtime and the
 * container process do not interleave. */
static void emit(enum husk_log_level level, const char *msg, const struct trace_fields *t)
{
	char esc[8192], stamp[64], extra[1200], line[9600];
	int n;

	escape(esc, sizeof(esc), msg);
	timestamp(stamp, sizeof(stamp));
	extra[0] = '\0';
	if (trace_text(extra, sizeof(extra), t) < 0)
		extra[0] = '\0';
	if (log_as_json)
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\"%s,\"time\":\"%s\"}\n",
			     level_names[level], esc, extra, stamp);
	else
		n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"%s\n", stamp,
			     level_names[level], esc, extra);
	if (n > 0)
		(void)!write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
	char msg[4400];
	va_list ap;

	if (log_fd < 0 || (level == HUSK_LOG_DEBUG && !log_debug))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg, NULL);
}

uint64_t husk_trace_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + 1;
}

void husk_trace_end(uint64_t start, const char *step, const char *object, bool failed)
{
	struct trace_fields t = {step, object, husk_trace_clock() - start, failed};
	char msg[1200];

	if (log_fd < 0)
		return;
	snprintf(msg, sizeof(msg), "%s%s%s%s (%llu us)", step, object ? " " : "",
		 object ? object : "", failed ? ": failed" : "", (unsigned long long)t.duration_us);
	emit(HUSK_LOG_DEBUG, msg, &t);
}
