/* The state store's shortcuts agree with the long ways: husk_rfc3339()
 * formats without glibc's gmtime (which loads the time zone) and must match
 * gmtime_r + strftime; husk_state_remove() unlinks the files it knows by name
 * and must still remove anything else left in the directory. The state
 * model's codec has its own tests (test_state_model.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <errno.h>

#include "runtime/runtime.h"
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

static void remove_known_and_unknown_files(void **state)
{
	struct husk_err err = {0};
	char root[] = "/tmp/husk-state-fast-XXXXXX", path[64];
	struct stat st;

	assert_non_null(mkdtemp(root));
	for (int with_stray = 0; with_stray < 2; with_stray++) {
		int fd = husk_state_dir_create(root, "c1", &err);
		assert_true(fd >= 0);
		assert_int_equal(husk_state_write_file(fd, HUSK_STATE_FILE, "{}", 2, 0600, &err),
				 0);
		assert_int_equal(husk_state_write_file(fd, HUSK_CONFIG_FILE, "{}", 2, 0600, &err),
				 0);
		if (with_stray)
			assert_int_equal(husk_state_write_file(fd, ".x.tmp", "", 0, 0600, &err), 0);
		close(fd);
		assert_int_equal(husk_state_remove(root, "c1", &err), 0);
		snprintf(path, sizeof(path), "%s/c1", root);
		assert_int_equal(stat(path, &st), -1);
	}
	assert_int_equal(husk_state_remove(root, "c1", &err), 0); /* gone: fine */
	assert_int_equal(rmdir(root), 0);
}

/* The hand parser of /proc/PID/stat reads what sscanf reads. */
static void proc_stat_matches_sscanf(void **state)
{
	struct husk_err err = {0};
	unsigned long long want = 0;
	uint64_t got = 0;
	bool alive = false;
	char buf[1024], st = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(sscanf(strrchr(buf, ')') + 1,
				" %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
				"%*d %*d %*d %llu",
				&st, &want),
			 2);
	assert_int_equal(husk_proc_stat(getpid(), &got, &alive, &err), 0);
	assert_true(alive);
	assert_true(want > 0);
	assert_int_equal(got, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_dates),
	    cmocka_unit_test(agrees_with_gmtime),
	    cmocka_unit_test(now_is_now),
	    cmocka_unit_test(remove_known_and_unknown_files),
	    cmocka_unit_test(proc_stat_matches_sscanf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
