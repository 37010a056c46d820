/* The CVE-2019-5736 guard: when a command re-executes from a sealed copy,
 * and that a program that never recorded its command line gets an error
 * instead of running unprotected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linux/selfexe.h"
#include "runtime/internal.h"

static void exec_always_meets_running_processes(void **state)
{
	assert_true(husk_entry_meets_running(HUSK_ENTRY_EXEC, NULL));
}

static void create_meets_them_only_in_a_shared_pid_namespace(void **state)
{
	struct husk_spec spec = {0};

	spec.linux.ns[HUSK_NS_PID].enabled = true;
	assert_false(husk_entry_meets_running(HUSK_ENTRY_CREATE, &spec));
	spec.linux.ns[HUSK_NS_PID].path = (char *)"/proc/1/ns/pid";
	assert_true(husk_entry_meets_running(HUSK_ENTRY_CREATE, &spec));
	spec.linux.ns[HUSK_NS_PID] = (struct husk_namespace){0};
	assert_true(husk_entry_meets_running(HUSK_ENTRY_CREATE, &spec));
}

/* No husk_selfexe_init() in this program: an embedder that forgot it. */
static void protection_without_init_is_an_error(void **state)
{
	struct husk_err err = {0};

	assert_int_equal(husk_selfexe_protect(&err), -1);
	assert_int_equal(err.code, EPERM);
	assert_non_null(strstr(err.msg, "husk_selfexe_init"));
	husk_err_clear(&err);
	assert_int_equal(husk_guard_entry(HUSK_ENTRY_EXEC, NULL, &err), -1);
	assert_int_equal(err.code, EPERM);
}

static void create_in_its_own_pid_namespace_needs_no_copy(void **state)
{
	struct husk_spec spec = {0};
	struct husk_err err = {0};

	spec.linux.ns[HUSK_NS_PID].enabled = true;
	assert_int_equal(husk_guard_entry(HUSK_ENTRY_CREATE, &spec, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exec_always_meets_running_processes),
	    cmocka_unit_test(create_meets_them_only_in_a_shared_pid_namespace),
	    cmocka_unit_test(protection_without_init_is_an_error),
	    cmocka_unit_test(create_in_its_own_pid_namespace_needs_no_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
