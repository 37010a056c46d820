/* `update`'s flags (struct husk_update_opts) turned into resource limits:
 * what is set is applied, what is not stays unset, bad values are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spec/spec.h"

#define SET(x) ((struct husk_update_value){true, (x)})

static void nothing_set_changes_nothing(void **state)
{
	struct husk_update_opts o = {0};
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_from_update_opts(&o, &err);

	assert_non_null(r);
	assert_false(r->has_memory);
	assert_false(r->has_cpu);
	assert_false(r->has_blkio);
	assert_false(r->pids_limit.set);
	husk_resources_free(r);
}

static void memory_values(void **state)
{
	struct husk_update_opts o = {
	    .memory = SET(64 << 20), .memory_swap = SET(-1), .kernel_memory_tcp = SET(4096)};
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_from_update_opts(&o, &err);

	assert_non_null(r);
	assert_true(r->has_memory);
	assert_false(r->has_cpu);
	assert_true(r->memory.limit.set);
	assert_int_equal(r->memory.limit.v, 64 << 20);
	assert_true(r->memory.swap.set);
	assert_int_equal(r->memory.swap.v, -1);
	assert_false(r->memory.reservation.set);
	assert_false(r->memory.kernel.set);
	assert_int_equal(r->memory.kernel_tcp.v, 4096);
	husk_resources_free(r);
}

static void cpu_values_and_cpusets(void **state)
{
	struct husk_update_opts o = {.cpu_shares = SET(512),
				     .cpu_quota = SET(-1),
				     .cpu_rt_runtime = SET(950),
				     .cpuset_mems = "0"};
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_from_update_opts(&o, &err);

	assert_non_null(r);
	assert_true(r->has_cpu);
	assert_false(r->has_memory);
	assert_true(r->cpu.shares.set);
	assert_int_equal(r->cpu.shares.v, 512);
	assert_int_equal(r->cpu.quota.v, -1);
	assert_int_equal(r->cpu.realtime_runtime.v, 950);
	assert_false(r->cpu.period.set);
	assert_null(r->cpu.cpus);
	assert_string_equal(r->cpu.mems, "0");
	assert_ptr_not_equal(r->cpu.mems, o.cpuset_mems); /* a copy: freed with r */
	husk_resources_free(r);

	struct husk_update_opts only_cpus = {.cpuset_cpus = "0-2,4"};
	r = husk_resources_from_update_opts(&only_cpus, &err);
	assert_non_null(r);
	assert_true(r->has_cpu);
	assert_string_equal(r->cpu.cpus, "0-2,4");
	husk_resources_free(r);
}

static void pids_and_blkio(void **state)
{
	struct husk_update_opts o = {.pids_limit = SET(-1), .blkio_weight = 500};
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_from_update_opts(&o, &err);

	assert_non_null(r);
	assert_true(r->pids_limit.set);
	assert_int_equal(r->pids_limit.v, -1);
	assert_true(r->has_blkio);
	assert_true(r->blkio.has_weight);
	assert_int_equal(r->blkio.weight, 500);
	husk_resources_free(r);
}

static void bad_values_are_refused_naming_them(void **state)
{
	struct husk_update_opts negative = {.cpu_period = SET(-5)};
	struct husk_update_opts weight = {.blkio_weight = 5};
	struct husk_err err = {0};

	assert_null(husk_resources_from_update_opts(&negative, &err));
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "update: cpu_period: -5 is negative");
	assert_null(husk_resources_from_update_opts(&weight, &err));
	assert_string_equal(err.msg, "update: blkio_weight: 5 is not in 10..1000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nothing_set_changes_nothing),
	    cmocka_unit_test(memory_values),
	    cmocka_unit_test(cpu_values_and_cpusets),
	    cmocka_unit_test(pids_and_blkio),
	    cmocka_unit_test(bad_values_are_refused_naming_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
