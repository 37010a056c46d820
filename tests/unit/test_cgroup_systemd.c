/* The systemd driver's pure parts: "slice:prefix:name", slice paths, CPU
 * masks, the quota conversion, and the saved form keeping the unit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/internal.h"

static void parse_ok(const char *in, bool rootless, const char *slice, const char *unit)
{
	struct husk_err err = {0};
	char *s = NULL, *u = NULL;
	if (cg_systemd_parse(in, "c1", rootless, &s, &u, &err) < 0)
		print_error("parse %s: %s\n", in ? in : "(null)", err.msg);
	assert_non_null(s);
	assert_string_equal(s, slice);
	assert_string_equal(u, unit);
	free(s);
	free(u);
}

static void parse_fails(const char *in, const char *needle)
{
	struct husk_err err = {0};
	char *s = NULL, *u = NULL;
	assert_int_equal(cg_systemd_parse(in, "c1", false, &s, &u, &err), -1);
	assert_null(s);
	assert_null(u);
	if (!strstr(err.msg, needle))
		print_error("message \"%s\" lacks \"%s\"\n", err.msg, needle);
	assert_non_null(strstr(err.msg, needle));
}

static void parse(void **state)
{
	parse_ok("system.slice:cri-containerd:abc", false, "system.slice",
		 "cri-containerd-abc.scope");
	parse_ok("kubepods-besteffort-pod1.slice:cri-containerd:abc", false,
		 "kubepods-besteffort-pod1.slice", "cri-containerd-abc.scope");
	parse_ok(":docker:abc", false, "system.slice", "docker-abc.scope");
	parse_ok(":docker:abc", true, "user.slice", "docker-abc.scope");
	parse_ok("machine.slice::abc", false, "machine.slice", "abc.scope");
	parse_ok(NULL, false, "system.slice", "husk-c1.scope");
	parse_ok("", true, "user.slice", "husk-c1.scope");
	parse_fails("/husk/c1", "wants \"slice:prefix:name\"");
	parse_fails("a.slice:b", "wants \"slice:prefix:name\"");
	parse_fails("a.slice:b:c:d", "wants \"slice:prefix:name\"");
	parse_fails("notaslice:p:n", "is not a slice name");
	parse_fails("a--b.slice:p:n", "is not a slice name");
	parse_fails("system.slice:p:", "valid systemd unit name");
	parse_fails("system.slice:p:a/b", "valid systemd unit name");
	parse_fails("system.slice:p q:n", "valid systemd unit name");
	parse_fails("system.slice:p:n.slice", "is not supported");
}

static void slice_path_ok(const char *slice, const char *want)
{
	char *out = NULL;
	assert_int_equal(cg_systemd_slice_path(slice, &out), 0);
	assert_string_equal(out, want);
	free(out);
}

static void slice_paths(void **state)
{
	char *out = NULL;
	slice_path_ok("system.slice", "/system.slice");
	slice_path_ok("-.slice", "");
	slice_path_ok("kubepods-burstable-pod12.slice",
		      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice");
	assert_int_equal(cg_systemd_slice_path("a--b.slice", &out), -1);
	assert_int_equal(cg_systemd_slice_path("-a.slice", &out), -1);
	assert_int_equal(cg_systemd_slice_path("a-.slice", &out), -1);
	assert_null(out);
}

static void masks(void **state)
{
	struct husk_err err = {0};
	uint8_t *m = NULL;
	size_t n = 0;
	assert_int_equal(cg_systemd_cpuset_mask("0-2,9", &m, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0], 0x07);
	assert_int_equal(m[1], 0x02);
	free(m);
	assert_int_equal(cg_systemd_cpuset_mask("16", &m, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(m[0], 0);
	assert_int_equal(m[2], 1);
	free(m);
	assert_int_equal(cg_systemd_cpuset_mask("3-1", &m, &n, &err), -1);
	assert_int_equal(cg_systemd_cpuset_mask("1,x", &m, &n, &err), -1);
	assert_non_null(strstr(err.msg, "not a CPU or memory node list"));
}

static void quota(void **state)
{
	/* runc's numbers: 50ms per 100ms is 500ms per second; 1234us per
	 * 100ms is 12.34ms, rounded up to systemd's 10ms steps. */
	assert_int_equal(cg_systemd_quota_per_sec(50000, 100000), 500000);
	assert_int_equal(cg_systemd_quota_per_sec(1234, 100000), 20000);
	assert_int_equal(cg_systemd_quota_per_sec(20000, 0), 200000);
	assert_true(cg_systemd_quota_per_sec(-1, 100000) == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse),
	    cmocka_unit_test(slice_paths),
	    cmocka_unit_test(masks),
	    cmocka_unit_test(quota),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
