/* exec's default process, built in the library from exec's flag values
 * over the container's own process. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime.h"

static void flags_apply_over_the_config(void **state)
{
	char *base_env[] = {"PATH=/bin", "HOME=/root", NULL};
	gid_t base_gids[] = {10};
	struct husk_process base = {
	    .env = {.v = base_env, .n = 2},
	    .cwd = "/",
	    .user = {.uid = 1, .gid = 2, .additional_gids = base_gids, .n_additional_gids = 1},
	};
	char *args[] = {"sh", "-c", "true"};
	char *env[] = {"HOME=/home/x", "LANG=C"};
	uint32_t gids[] = {20, 30};
	struct husk_exec_process_opts o = {
	    .args = args,
	    .n_args = 3,
	    .tty = true,
	    .cwd = "/tmp",
	    .env = env,
	    .n_env = 2,
	    .set_user = true,
	    .uid = 1000,
	    .gids = gids,
	    .n_gids = 2,
	    .caps = 1ULL << 21,
	    .no_new_privs = true,
	};
	struct husk_process p;
	struct husk_err err = {0};

	assert_int_equal(husk_exec_process_from_opts(&base, &o, &p, &err), 0);
	assert_int_equal(p.args.n, 3);
	assert_string_equal(p.args.v[0], "sh");
	assert_true(p.terminal);
	assert_string_equal(p.cwd, "/tmp");
	assert_int_equal(p.env.n, 3);
	assert_string_equal(p.env.v[0], "PATH=/bin");
	assert_string_equal(p.env.v[1], "HOME=/home/x"); /* replaced in place */
	assert_string_equal(p.env.v[2], "LANG=C");
	assert_int_equal(p.user.uid, 1000);
	assert_int_equal(p.user.gid, 0); /* --user UID without :GID, as runc */
	assert_int_equal(p.user.n_additional_gids, 3);
	assert_int_equal(p.user.additional_gids[0], 10);
	assert_int_equal(p.user.additional_gids[2], 30);
	assert_true(p.has_caps);
	assert_true(p.caps.bounding & (1ULL << 21));
	assert_false(p.caps.inheritable & (1ULL << 21));
	assert_true(p.no_new_privileges);
	/* the config's own process is untouched */
	assert_string_equal(base.env.v[1], "HOME=/root");
	assert_int_equal(base.user.n_additional_gids, 1);
	husk_exec_process_release(&p);
}

static void no_command_is_an_error(void **state)
{
	struct husk_process base = {0}, p;
	struct husk_exec_process_opts o = {0};
	struct husk_err err = {0};

	assert_int_equal(husk_exec_process_from_opts(&base, &o, &p, &err), -1);
	assert_int_equal(err.code, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flags_apply_over_the_config),
	    cmocka_unit_test(no_command_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
