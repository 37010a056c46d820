/* Helpers for the spec unit tests: build a config.json around the members a
 * test cares about, parse it, and check the outcome. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spec/spec.h"

/* A minimal valid config.json with extra top-level members appended. */
#define CONFIG(extra) "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}" extra "}"

static inline struct husk_spec *parse_ok(const char *json)
{
	struct husk_err err = {0};
	struct husk_spec *s = husk_spec_parse(json, strlen(json), &err);
	if (!s)
		print_error("unexpected parse error: %s\n", err.msg);
	assert_non_null(s);
	return s;
}

/* Parse must fail with exactly this message. */
static inline void parse_fails(const char *json, const char *msg)
{
	struct husk_err err = {0};
	struct husk_spec *s = husk_spec_parse(json, strlen(json), &err);
	if (s)
		husk_spec_free(s);
	assert_null(s);
	assert_string_equal(err.msg, msg);
}

#define RUN(...)                                                                                   \
	int main(void)                                                                             \
	{                                                                                          \
		const struct CMUnitTest tests[] = {__VA_ARGS__};                                   \
		return cmocka_run_group_tests(tests, NULL, NULL);                                  \
	}
