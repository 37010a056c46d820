/* State timestamps: husk_rfc3339() formats without glibc's gmtime (which
 * loads the time zone); it must agree with gmtime_r + strftime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "state/state.h"

static void expect_same_as_libc(time_t t, long nsec)
{
	struct timespec ts = {.tv_sec = t, .tv_nsec = nsec};
	char got[64], want[64];
	struct tm tm;
	size_t n;

	husk_rfc3339(&ts, got, sizeof(got));
	gmtime_r(&t, &tm);
	n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(want + n, sizeof(want) - n, ".%09ldZ", nsec);
	if (strcmp(got, want) != 0)
		fail_msg("time %lld: got %s, want %s", (long long)t, got, want);
}

static void known_dates(void **state)
{
	char buf[64];
	husk_rfc3339(&(struct timespec){.tv_sec = 0, .tv_nsec = 5}, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000005Z");
	/* a leap day, the day after, a century that is not a leap year */
	husk_rfc3339(&(struct timespec){.tv_sec = 951782400}, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.000000000Z");
	husk_rfc3339(&(struct timespec){.tv_sec = 4107542399}, buf, sizeof(buf));
	assert_string_equal(buf, "2100-02-28T23:59:59.000000000Z");
	husk_rfc3339(&(struct timespec){.tv_sec = 4107542400}, buf, sizeof(buf));
	assert_string_equal(buf, "2100-03-01T00:00:00.000000000Z");
	husk_rfc3339(&(struct timespec){.tv_sec = -1}, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.000000000Z");
}

static void agrees_with_gmtime(void **state)
{
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		expect_same_as_libc((time_t)(x % (1ull << 34)) - (1ll << 31),
				    (long)(x % 1000000000));
	}
}

static void now_is_now(void **state)
{
	char buf[64], want[32];
	time_t t = time(NULL);
	struct tm tm;

	husk_rfc3339_now(buf, sizeof(buf));
	gmtime_r(&t, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT", &tm);
	assert_int_equal(strlen(buf), 30);
	assert_memory_equal(buf, want, strlen(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_dates),
	    cmocka_unit_test(agrees_with_gmtime),
	    cmocka_unit_test(now_is_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
