/* Runtime log: libhusk never writes to the terminal; it writes to the log
 * sink the CLI configured (--log FILE, --log-format text|json), which is
 * stderr only when the CLI chose it. Format matches runc's: text lines
 * `time="..." level=... msg="..."` or JSON `{"level":..,"msg":..,"time":..}`.
 *
 * With --debug the set-up steps are traced too: one debug line per step with
 * what it acted on and how long it took (step, object, duration_us). The
 * container process writes its own steps to the same fd, which it holds
 * until execve (the fd is O_CLOEXEC), one write(2) per line (O_APPEND). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "husk/husk.h" /* enum husk_log_level, husk_log_setup, husk_log */

int husk_log_fd(void);
bool husk_log_json(void);

#define husk_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)
#define husk_warn(...)	husk_log(HUSK_LOG_WARN, __VA_ARGS__)

/* ---- the set-up trace (--debug) ------------------------------------------ */

/* True with --debug and a log to write to. Read inline: without --debug a
 * traced step costs one load and a branch, and its object is not built. */
extern bool husk_trace_enabled;

/* CLOCK_MONOTONIC in microseconds, never 0 (0 means "not traced"). */
uint64_t husk_trace_clock(void);

static inline uint64_t husk_trace_begin(void)
{
	return husk_trace_enabled ? husk_trace_clock() : 0;
}

/* One trace line: STEP on OBJECT (may be NULL) since START, failed or not. */
void husk_trace_end(uint64_t start, const char *step, const char *object, bool failed);

/* Run EXPR (an int-returning step, < 0 on failure) and trace it. OBJECT is
 * evaluated only when tracing. */
#define husk_traced(step, object, expr)                                                            \
	({                                                                                         \
		uint64_t husk_t0_ = husk_trace_begin();                                            \
		int husk_r_ = (expr);                                                              \
		if (husk_t0_)                                                                      \
			husk_trace_end(husk_t0_, (step), (object), husk_r_ < 0);                   \
		husk_r_;                                                                           \
	})
