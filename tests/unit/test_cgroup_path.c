/* cgroupsPath normalisation and resolution, the saved-path encoding, and
 * the OCI -> cgroup v2 value conversions. Pure logic: no cgroupfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/internal.h"

static void norm_ok(const char *in, const char *want, bool want_abs)
{
	struct husk_err err = {0};
	char *out = NULL;
	bool abs = !want_abs;
	if (cg_path_normalize(in, "c1", &out, &abs, &err) < 0)
		print_error("normalize %s: %s\n", in ? in : "(null)", err.msg);
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(abs, want_abs);
	free(out);
}

static void norm_fails(const char *in, const char *needle)
{
	struct husk_err err = {0};
	char *out = NULL;
	bool abs;
	assert_int_equal(cg_path_normalize(in, "c1", &out, &abs, &err), -1);
	assert_null(out);
	if (!strstr(err.msg, needle))
		print_error("message \"%s\" lacks \"%s\"\n", err.msg, needle);
	assert_non_null(strstr(err.msg, needle));
}

static void normalize(void **state)
{
	norm_ok("/husk/c1", "/husk/c1", true);
	norm_ok("//a///b/", "/a/b", true);
	norm_ok("/a/./b", "/a/b", true);
	norm_ok("a/b", "a/b", false);
	norm_ok("./x", "x", false);
	norm_ok(NULL, "c1", false); /* absent: the id, relative (runc) */
	norm_ok("", "c1", false);
	norm_ok("/a..b/..c", "/a..b/..c", true); /* only the whole component ".." */
}

static void normalize_rejects(void **state)
{
	norm_fails("/a/../b", "\"..\" is not allowed");
	norm_fails("../escape", "\"..\" is not allowed");
	norm_fails("/a/..", "\"..\" is not allowed");
	norm_fails("system.slice:docker:abc", "needs --systemd-cgroup");
	norm_fails("/", "names no cgroup");
	norm_fails("/./", "names no cgroup");
	norm_fails("/a\tb", "control characters are not allowed");
	norm_fails("/a\nb", "control characters are not allowed");
}

static void resolve(void **state)
{
	char *p;
	p = cg_path_resolve("/abs/c1", true, "/own", false);
	assert_string_equal(p, "/abs/c1");
	free(p);
	/* v1: below the caller's own cgroup */
	p = cg_path_resolve("c1", false, "/user/sess", false);
	assert_string_equal(p, "/user/sess/c1");
	free(p);
	p = cg_path_resolve("c1", false, "/", false);
	assert_string_equal(p, "/c1");
	free(p);
	/* cgroup2: below the parent of the caller's cgroup */
	p = cg_path_resolve("a/c1", false, "/user/sess", true);
	assert_string_equal(p, "/user/a/c1");
	free(p);
	p = cg_path_resolve("c1", false, "/sess", true);
	assert_string_equal(p, "/c1");
	free(p);
	p = cg_path_resolve("c1", false, "/", true);
	assert_string_equal(p, "/c1");
	free(p);
}

/* A hand-made layout: memory and cpu,cpuacct on v1 plus unified. */
static struct cg_mount mounts[] = {
    {.controllers = "memory", .dir = "/sys/fs/cgroup/memory", .own = "/"},
    {.controllers = "cpu,cpuacct", .dir = "/sys/fs/cgroup/cpu,cpuacct", .own = "/"},
    {.controllers = "", .dir = "/sys/fs/cgroup/unified", .own = "/", .unified = true},
};
static struct cg_layout layout = {.mode = HUSK_CGROUP_HYBRID, .m = mounts, .n = 3};

static void roundtrip(struct cg_hier *hs, size_t n, const char *want_saved)
{
	struct husk_err err = {0};
	struct husk_cgroup cg = {.layout = &layout, .h = hs, .n = n, .v2_fd = -1};
	struct husk_cgroup back = {.layout = &layout, .v2_fd = -1};
	char *saved = cg_saved_encode(&cg);

	assert_non_null(saved);
	if (want_saved)
		assert_string_equal(saved, want_saved);
	assert_int_equal(cg_saved_decode(&back, saved, &err), 0);
	assert_int_equal(back.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(back.h[i].mount, hs[i].mount);
		assert_string_equal(back.h[i].path, hs[i].path);
		assert_int_equal(back.h[i].parents, hs[i].parents);
		char dir[256];
		snprintf(dir, sizeof(dir), "%s%s", hs[i].mount->dir, hs[i].path);
		assert_string_equal(back.h[i].dir, dir);
		free(back.h[i].path);
		free(back.h[i].dir);
	}
	free(back.h);
	free(saved);
}

static void saved_paths(void **state)
{
	struct cg_hier same[] = {{.mount = &mounts[0], .path = "/husk/c1"},
				 {.mount = &mounts[1], .path = "/husk/c1"},
				 {.mount = &mounts[2], .path = "/husk/c1"}};
	roundtrip(same, 3, "/husk/c1");
	same[0].parents = same[1].parents = same[2].parents = 1;
	roundtrip(same, 3, "/husk/c1\n*\t1\t/husk/c1");
	struct cg_hier differ[] = {{.mount = &mounts[0], .path = "/proc_api/x/c1", .parents = 0},
				   {.mount = &mounts[1], .path = "/c1", .parents = 2},
				   {.mount = &mounts[2], .path = "/c1"}};
	roundtrip(differ, 3, NULL);
	/* A hierarchy left out (rootless without permission) stays out. */
	struct cg_hier partial[] = {{.mount = &mounts[1], .path = "/c1"}};
	roundtrip(partial, 1, NULL);
}

/* A hierarchy mounted away from /sys/fs/cgroup/<name>: the saved path
 * carries the mount point, so reopening needs no mount table lookup. */
static void saved_nonstandard_mount(void **state)
{
	struct husk_err err = {0};
	struct cg_mount elsewhere = {.controllers = "memory", .dir = "/cg/mem", .own = "/"};
	struct cg_layout at_create = {.mode = HUSK_CGROUP_V1, .m = &elsewhere, .n = 1};
	struct cg_hier h = {.mount = &elsewhere, .path = "/husk/c1"};
	struct husk_cgroup cg = {.layout = &at_create, .h = &h, .n = 1, .v2_fd = -1};
	char *saved = cg_saved_encode(&cg);
	assert_string_equal(saved, "/husk/c1\nmemory\t0\t/husk/c1\t/cg/mem");

	/* a later command's layout only knows the standard place */
	struct husk_cgroup back = {.layout = &layout, .v2_fd = -1};
	assert_int_equal(cg_saved_decode(&back, saved, &err), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(back.h[0].dir, "/cg/mem/husk/c1");
	assert_string_equal(back.h[0].path, "/husk/c1");
	assert_string_equal(back.h[1].dir, "/sys/fs/cgroup/cpu,cpuacct/husk/c1");
	for (size_t i = 0; i < back.n; i++) {
		free(back.h[i].path);
		free(back.h[i].dir);
	}
	free(back.h);
	free(saved);
}

static void saved_rejects_relative(void **state)
{
	struct husk_err err = {0};
	struct husk_cgroup back = {.layout = &layout, .v2_fd = -1};
	assert_int_equal(cg_saved_decode(&back, "relative/c1", &err), -1);
	free(back.h);
}

static void conversions(void **state)
{
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_shares_to_weight(1), 1);
	assert_int_equal(cg_shares_to_weight(1000000), 10000);
	assert_int_equal(cg_blkio_to_io_weight(10), 1);
	assert_int_equal(cg_blkio_to_io_weight(500), 4950);
	assert_int_equal(cg_blkio_to_io_weight(1000), 10000);

	char buf[64];
	cg_fmt_limit(buf, sizeof(buf), -1, true);
	assert_string_equal(buf, "max");
	cg_fmt_limit(buf, sizeof(buf), -1, false);
	assert_string_equal(buf, "-1");
	cg_fmt_limit(buf, sizeof(buf), 4096, true);
	assert_string_equal(buf, "4096");
	struct husk_opt_i64 q = {.set = true, .v = 50000};
	cg_fmt_cpu_max(buf, sizeof(buf), &q, 100000);
	assert_string_equal(buf, "50000 100000");
	q.v = -1;
	cg_fmt_cpu_max(buf, sizeof(buf), &q, 20000);
	assert_string_equal(buf, "max 20000");
}

static void swap_case(int64_t swap, bool swap_set, int64_t limit, bool limit_set, int want_ret,
		      int64_t want, bool want_skip)
{
	struct husk_err err = {0};
	struct husk_opt_i64 s = {swap_set, swap}, l = {limit_set, limit};
	int64_t out = 12345;
	bool skip = !want_skip;
	assert_int_equal(cg_swap_to_v2(&s, &l, &out, &skip, &err), want_ret);
	if (want_ret == 0) {
		assert_int_equal(skip, want_skip);
		if (!skip)
			assert_int_equal(out, want);
	} else {
		assert_non_null(strstr(err.msg, "linux.resources.memory.swap"));
	}
}

static void swap_conversion(void **state)
{
	swap_case(0, false, 0, false, 0, 0, true);	/* nothing given */
	swap_case(0, false, 100, true, 0, 0, true);	/* limit only: swap untouched */
	swap_case(0, false, -1, true, 0, -1, false);	/* unlimited memory: swap max */
	swap_case(0, true, 100, true, 0, 0, true);	/* swap 0 = unset */
	swap_case(-1, true, 100, true, 0, -1, false);	/* unlimited swap */
	swap_case(-2, true, 100, true, -1, 0, false);	/* only -1 means unlimited */
	swap_case(300, true, 100, true, 0, 200, false); /* memory+swap - memory */
	swap_case(100, true, 100, true, 0, 0, false);	/* no swap at all */
	swap_case(50, true, 100, true, -1, 0, false);	/* below the limit */
	swap_case(300, true, 0, false, -1, 0, false);	/* swap without a limit */
	swap_case(300, true, -1, true, -1, 0, false);	/* swap with unlimited memory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(normalize),
	    cmocka_unit_test(normalize_rejects),
	    cmocka_unit_test(resolve),
	    cmocka_unit_test(saved_paths),
	    cmocka_unit_test(saved_rejects_relative),
	    cmocka_unit_test(saved_nonstandard_mount),
	    cmocka_unit_test(conversions),
	    cmocka_unit_test(swap_conversion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
