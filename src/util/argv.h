/* A growing, NULL-terminated argv of formatted strings, for the programs
 * husk runs (QEMU, criu). An allocation failure is remembered, later adds
 * do nothing, and husk_argv_finish reports it once: the builders read as a
 * plain list of arguments. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct husk_argv {
	char **v;
	size_t n, cap;
	bool failed;
};

/* Append one argument, printf-formatted. */
void husk_argv_add(struct husk_argv *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The argv (the caller frees it with husk_argv_free), or NULL with ENOMEM
 * in err naming `what` when an add failed (what was built is freed). */
char **husk_argv_finish(struct husk_argv *b, const char *what, struct husk_err *err);
/* Free an argv of husk_argv_finish (or any malloc'd NULL-ended array of
 * malloc'd strings); NULL does nothing. */
void husk_argv_free(char **argv);
