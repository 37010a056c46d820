/* The state store's shortcuts agree with the long ways: husk_rfc3339()
 * formats without glibc's gmtime (which loads the time zone) and must match
 * gmtime_r + strftime; husk_state_remove() unlinks the files it knows by name
 * and must still remove anything else left in the directory;
 * husk_state_encode() writes by hand what jansson must read back. */
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
#include <jansson.h>

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

static void encode_reads_back(void **state)
{
	struct husk_kv ann[] = {{"k\"1", "v\\1"},
				{"ctl", "a\x01\n\tb\x1f"},
				{"utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}};
	struct husk_container c = {.id = "c1",
				   .pid = 4242,
				   .pid_start = 1234567890123ull,
				   .bundle = "/b/\"x\"",
				   .rootfs = "/b/rootfs",
				   .created = "2026-01-01T00:00:00.000000000Z",
				   .owner = NULL,
				   .cgroup_path = "/a\nb\tc",
				   .hook_kinds = 5,
				   .status = HUSK_STATUS_CREATING,
				   .annotations = {ann, 3}};
	json_error_t jerr;
	char *text = husk_state_encode(&c);
	assert_non_null(text);
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		fail_msg("%s: %s", text, jerr.text);
	assert_string_equal(json_string_value(json_object_get(o, "id")), "c1");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
	assert_int_equal(json_integer_value(json_object_get(o, "pid_start")), 1234567890123ll);
	assert_string_equal(json_string_value(json_object_get(o, "bundle")), "/b/\"x\"");
	assert_string_equal(json_string_value(json_object_get(o, "owner")), "");
	assert_string_equal(json_string_value(json_object_get(o, "cgroup_path")), "/a\nb\tc");
	assert_int_equal(json_integer_value(json_object_get(o, "hook_kinds")), 5);
	assert_true(json_is_true(json_object_get(o, "creating")));
	json_t *a = json_object_get(o, "annotations");
	assert_int_equal(json_object_size(a), 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(json_string_value(json_object_get(a, ann[i].key)),
				    ann[i].value);
	json_decref(o);
	free(text);

	/* no cgroup, no annotations, stopped */
	c.cgroup_path = NULL;
	c.annotations.n = 0;
	c.status = HUSK_STATUS_STOPPED;
	text = husk_state_encode(&c);
	o = json_loads(text, 0, &jerr);
	assert_non_null(o);
	assert_null(json_object_get(o, "cgroup_path"));
	assert_false(json_is_true(json_object_get(o, "creating")));
	assert_int_equal(json_object_size(json_object_get(o, "annotations")), 0);
	json_decref(o);
	free(text);

	/* not UTF-8 (a lone continuation byte, an overlong '/', a surrogate): refused */
	const char *bad[] = {"/b/\x80", "/b/\xc0\xaf", "/b/\xed\xa0\x80", "/b/\xf4\x90\x80\x80",
			     "/b/\xe2\x82"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.bundle = (char *)bad[i];
		errno = 0;
		assert_null(husk_state_encode(&c));
		assert_int_equal(errno, EILSEQ);
	}
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

static void free_fields(struct husk_container *c)
{
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroup_path);
	husk_kvv_free(&c->annotations);
	memset(c, 0, sizeof(*c));
}

/* What the encoder writes is read back by the fast path, field for field. */
static void decode_reads_encoded(void **state)
{
	struct husk_kv ann[] = {{"a", "1"}, {"b.c/d", "x y"}};
	struct husk_container c = {.id = "c1",
				   .pid = 77,
				   .pid_start = 99,
				   .bundle = "/b",
				   .rootfs = "/b/rootfs",
				   .created = "2026-11-22T00:00:00Z",
				   .owner = "root",
				   .cgroup_path = "/husk/c1",
				   .hook_kinds = 3,
				   .status = HUSK_STATUS_CREATING,
				   .annotations = {ann, 2}};
	struct husk_container d = {0};
	char *text = husk_state_encode(&c);

	assert_int_equal(husk_state_decode(text, &d), 0);
	assert_int_equal(d.pid, 77);
	assert_int_equal(d.pid_start, 99);
	assert_int_equal(d.hook_kinds, 3);
	assert_int_equal(d.status, HUSK_STATUS_CREATING);
	assert_string_equal(d.bundle, "/b");
	assert_string_equal(d.rootfs, "/b/rootfs");
	assert_string_equal(d.created, "2026-11-22T00:00:00Z");
	assert_string_equal(d.owner, "root");
	assert_string_equal(d.cgroup_path, "/husk/c1");
	assert_int_equal(d.annotations.n, 2);
	assert_string_equal(d.annotations.v[1].key, "b.c/d");
	assert_string_equal(d.annotations.v[1].value, "x y");
	free_fields(&d);
	free(text);
}

/* Other spellings of the same: whitespace, order, unknown keys, null. */
static void decode_other_forms(void **state)
{
	struct husk_container d = {0};
	const char *text = " {\n  \"owner\" : \"u\",\"x\":[1] }";
	assert_int_equal(husk_state_decode(text, &d), 1); /* an array: jansson's job */
	assert_null(d.owner);
	text = "{ \"rootfs\":\"/r\", \"zzz\": -5, \"creating\" : false,\n\"bundle\":\"/b\","
	       "\"cgroup_path\": null, \"created\":\"t\", \"owner\":\"\", \"pid\": 0,"
	       "\"annotations\": {} }\n";
	assert_int_equal(husk_state_decode(text, &d), 0);
	assert_string_equal(d.rootfs, "/r");
	assert_string_equal(d.owner, "");
	assert_null(d.cgroup_path);
	assert_int_equal(d.status, HUSK_STATUS_STOPPED);
	assert_int_equal(d.annotations.n, 0);
	free_fields(&d);
}

/* Where jansson must decide, the fast path steps aside and leaves c alone. */
static void decode_falls_back(void **state)
{
	const char *texts[] = {
	    "{\"bundle\":\"/b\\n\"}",			   /* an escape */
	    "{\"bundle\":\"/\xc3\xa9\"}",		   /* not ASCII */
	    "{\"pid\":1.5}",				   /* a real */
	    "{\"pid\":1e3}",				   /* an exponent */
	    "{\"pid\":012}",				   /* not JSON */
	    "{\"pid\":99999999999999999999}",		   /* too big */
	    "{\"bundle\":\"/a\",\"bundle\":\"/b\"}",	   /* repeated key */
	    "{\"annotations\":{\"k\":\"1\",\"k\":\"2\"}}", /* repeated annotation */
	    "{\"annotations\":{\"k\":1}}",		   /* not a string */
	    "{\"bundle\":\"/b\",}",			   /* trailing comma */
	    "{\"bundle\":\"/b\"} x",			   /* trailing text */
	    "{\"creating\":truex}",			   /* a bad word */
	    "[]",					   /* not an object */
	    "{\"bundle\":\"/b",				   /* cut short */
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct husk_container d = {0};
		if (husk_state_decode(texts[i], &d) != 1)
			fail_msg("fast path took %s", texts[i]);
		assert_null(d.bundle);
		assert_int_equal(d.annotations.n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_dates),
	    cmocka_unit_test(agrees_with_gmtime),
	    cmocka_unit_test(now_is_now),
	    cmocka_unit_test(remove_known_and_unknown_files),
	    cmocka_unit_test(encode_reads_back),
	    cmocka_unit_test(proc_stat_matches_sscanf),
	    cmocka_unit_test(decode_reads_encoded),
	    cmocka_unit_test(decode_other_forms),
	    cmocka_unit_test(decode_falls_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
