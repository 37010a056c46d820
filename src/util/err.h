/* Error reporting for libhusk: an errno plus a message naming the step and
 * the object. Every fallible function takes a `struct husk_err *` and returns
 * a negative value on failure; callers add context with husk_err_prefix(). */
#pragma once
#include <stdarg.h>

/* Room for two PATH_MAX paths and the step: a message that still does not
 * fit loses its middle, never its start (the step) or its end (the errno). */
#define HUSK_ERR_MSG_MAX 4096

struct husk_err {
	int code; /* errno value, 0 when the failure has no errno (bad input) */
	char msg[HUSK_ERR_MSG_MAX];
};

/* Record an error with an errno; returns -1 so callers can `return husk_err_set(...)`.
 * The message gets ": strerror(code)" appended when code != 0. */
int husk_err_set(struct husk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record an error whose errno is kept for callers that test it, but not
 * printed: bad input and validation failures, where the message says it all. */
int husk_err_plain(struct husk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, taking errno as the code. */
int husk_err_sys(struct husk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the message already recorded; returns -1. */
int husk_err_prefix(struct husk_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void husk_err_clear(struct husk_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
