#include "util/argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool grow(struct husk_argv *b)
{
	if (b->n + 2 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap * 2 : 32;
	char **v = realloc(b->v, cap * sizeof(*v));
	if (!v)
		return false;
	b->v = v;
	b->cap = cap;
	return true;
}

void husk_argv_add(struct husk_argv *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (b->failed || !grow(b)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	int rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		b->failed = true;
		return;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
}

char **husk_argv_finish(struct husk_argv *b, const char *what, struct husk_err *err)
{
	if (!b->failed && b->v)
		return b->v;
	/* An argv whose first add failed has no terminator yet. */
	if (b->v)
		b->v[b->n] = NULL;
	husk_argv_free(b->v);
	b->v = NULL;
	husk_err_set(err, ENOMEM, "%s", what);
	return NULL;
}

void husk_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
