/* criu's argv as checkpoint and restore build it (runtime/criu_argv.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/criu.h"

/* Index of the argument equal to s (-1 when absent). */
static int find(char **argv, const char *s)
{
	for (int i = 0; argv[i]; i++)
		if (strcmp(argv[i], s) == 0)
			return i;
	return -1;
}

/* The value after option opt. */
static const char *value(char **argv, const char *opt)
{
	int i = find(argv, opt);
	return i < 0 ? NULL : argv[i + 1];
}

static void dump_defaults(void **state)
{
	struct husk_criu_opts o = {0};
	struct husk_criu_job job = {.action = HUSK_CRIU_DUMP,
				    .criu = "/usr/sbin/criu",
				    .o = &o,
				    .image_dir = "checkpoint",
				    .work_dir = "checkpoint",
				    .root = "/b/rootfs",
				    .pid = 4242};
	struct husk_err err = {0};
	char **argv = husk_criu_argv(&job, &err);

	assert_non_null(argv);
	assert_string_equal(argv[0], "/usr/sbin/criu");
	assert_string_equal(argv[1], "dump");
	assert_string_equal(value(argv, "--tree"), "4242");
	assert_string_equal(value(argv, "--images-dir"), "checkpoint");
	assert_string_equal(value(argv, "--work-dir"), "checkpoint");
	assert_string_equal(value(argv, "--log-file"), "dump.log");
	assert_string_equal(value(argv, "--root"), "/b/rootfs");
	assert_true(find(argv, "--manage-cgroups=soft") > 0);
	assert_int_equal(find(argv, "--leave-running"), -1);
	assert_int_equal(find(argv, "--track-mem"), -1);
	assert_int_equal(find(argv, "--tcp-established"), -1);
	assert_int_equal(find(argv, "--restore-detached"), -1);
	assert_int_equal(find(argv, "--network-lock"), -1);
	husk_argv_free(argv);
	/* a host without iptables: the lock through nftables */
	job.network_lock_nft = true;
	argv = husk_criu_argv(&job, &err);
	assert_non_null(argv);
	assert_string_equal(value(argv, "--network-lock"), "nftables");
	husk_argv_free(argv);
}

static void dump_flags_and_externals(void **state)
{
	struct husk_criu_opts o = {.leave_running = true,
				   .tcp_established = true,
				   .ext_unix_sk = true,
				   .shell_job = true,
				   .file_locks = true,
				   .parent_path = "../pre",
				   .manage_cgroups_mode = "full"};
	struct husk_criu_mount m[] = {{"/etc/hosts", "/var/lib/x/hosts"},
				      {"/proc/kcore", "/dev/null"}};
	const char *files[] = {"file[18:4]"};
	struct husk_criu_job job = {.action = HUSK_CRIU_DUMP,
				    .criu = "criu",
				    .o = &o,
				    .image_dir = "i",
				    .work_dir = "w",
				    .root = "/r",
				    .pid = 1,
				    .mounts = m,
				    .n_mounts = 2,
				    .netns_inode = 4026531992ul,
				    .files = files,
				    .n_files = 1};
	struct husk_err err = {0};
	char **argv = husk_criu_argv(&job, &err);

	assert_non_null(argv);
	for (const char *const *f =
		 (const char *const[]){"--leave-running", "--tcp-established", "--ext-unix-sk",
				       "--shell-job", "--file-locks", "--track-mem",
				       "--manage-cgroups=full", NULL};
	     *f; f++)
		assert_true(find(argv, *f) > 0);
	assert_string_equal(value(argv, "--prev-images-dir"), "../pre");
	/* at dump an external mount names itself by its mount point */
	assert_true(find(argv, "mnt[/etc/hosts]:/etc/hosts") > 0);
	assert_true(find(argv, "mnt[/proc/kcore]:/proc/kcore") > 0);
	assert_true(find(argv, "net[4026531992]:extRootNetNS") > 0);
	assert_true(find(argv, "file[18:4]") > 0);
	husk_argv_free(argv);
}

static void pre_dump_tracks_memory(void **state)
{
	struct husk_criu_opts o = {.pre_dump = true, .leave_running = true};
	struct husk_criu_job job = {.action = HUSK_CRIU_PRE_DUMP,
				    .criu = "criu",
				    .o = &o,
				    .image_dir = "i",
				    .work_dir = "i",
				    .root = "/r",
				    .pid = 7};
	struct husk_err err = {0};
	char **argv = husk_criu_argv(&job, &err);

	assert_non_null(argv);
	assert_string_equal(argv[1], "pre-dump");
	assert_string_equal(value(argv, "--log-file"), "pre-dump.log");
	assert_true(find(argv, "--track-mem") > 0);
	/* pre-dump always leaves the tree running; criu has no such flag for it */
	assert_int_equal(find(argv, "--leave-running"), -1);
	husk_argv_free(argv);
}

static void restore_as_sibling_with_fds(void **state)
{
	struct husk_criu_opts o = {.manage_cgroups_mode = "strict"};
	struct husk_criu_mount m[] = {{"/etc/hosts", "/new/hosts"}};
	struct husk_criu_inherit in[] = {{11, "pipe:[1234]"}, {13, "extRootNetNS"}};
	struct husk_criu_job job = {.action = HUSK_CRIU_RESTORE,
				    .criu = "criu",
				    .o = &o,
				    .image_dir = "i",
				    .work_dir = "w",
				    .root = "/run/husk/c1/criu-root",
				    .pidfile = "/run/husk/c1/criu-restore.pid",
				    .cgroup_root = "/husk/c1",
				    .mounts = m,
				    .n_mounts = 1,
				    .inherit = in,
				    .n_inherit = 2};
	struct husk_err err = {0};
	char **argv = husk_criu_argv(&job, &err);

	assert_non_null(argv);
	assert_string_equal(argv[1], "restore");
	assert_true(find(argv, "--restore-detached") > 0);
	assert_true(find(argv, "--restore-sibling") > 0);
	assert_string_equal(value(argv, "--pidfile"), "/run/husk/c1/criu-restore.pid");
	assert_string_equal(value(argv, "--cgroup-root"), "/husk/c1");
	assert_string_equal(value(argv, "--log-file"), "restore.log");
	assert_true(find(argv, "--manage-cgroups=strict") > 0);
	/* at restore the host's source is bound at the mount point */
	assert_true(find(argv, "mnt[/etc/hosts]:/new/hosts") > 0);
	assert_true(find(argv, "fd[11]:pipe:[1234]") > 0);
	assert_true(find(argv, "fd[13]:extRootNetNS") > 0);
	assert_int_equal(find(argv, "--tree"), -1);
	husk_argv_free(argv);
}

static void bad_cgroups_mode_names_the_option(void **state)
{
	struct husk_criu_opts o = {.manage_cgroups_mode = "bogus"};
	struct husk_criu_job job = {.action = HUSK_CRIU_DUMP, .criu = "criu", .o = &o};
	struct husk_err err = {0};
	const char *mode;

	assert_null(husk_criu_argv(&job, &err));
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "--manage-cgroups-mode: unknown mode \"bogus\""));
	assert_int_equal(husk_criu_cgroups_mode("ignore", &mode, &err), 0);
	assert_string_equal(mode, "ignore");
	assert_int_equal(husk_criu_cgroups_mode(NULL, &mode, &err), 0);
	assert_string_equal(mode, "soft");
}

static void binds_from_outside_the_rootfs_only(void **state)
{
	struct husk_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc"},
	    {.destination = "/etc/hosts", .type = "bind", .source = "/var/lib/c/hosts"},
	    {.destination = "/data", .source = "/srv/data", .opts = {.bind = true}},
	    {.destination = "/inside", .type = "bind", .source = "/b/rootfs/x"},
	    {.destination = "/rootfsish", .type = "bind", .source = "/b/rootfs2/x"},
	};
	struct husk_spec spec = {.mounts = mounts, .n_mounts = 5};
	struct husk_criu_mount *out;
	struct husk_err err = {0};
	size_t n;

	assert_int_equal(husk_criu_bind_mounts(&spec, "/b/rootfs/", &out, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].dest, "/etc/hosts");
	assert_string_equal(out[0].source, "/var/lib/c/hosts");
	assert_string_equal(out[1].dest, "/data");
	assert_string_equal(out[2].dest, "/rootfsish");
	free(out);
}

static void refuses_what_criu_cannot_restore(void **state)
{
	struct husk_kv kv = {.key = "husk.rootfs.idmap", .value = "true"};
	struct husk_mount idmapped = {.destination = "/m", .opts = {.idmap = true}};
	struct husk_process tty = {.terminal = true};
	struct husk_spec plain = {0};
	struct husk_spec rootfs = {.annotations = {.v = &kv, .n = 1}};
	struct husk_spec mount = {.mounts = &idmapped, .n_mounts = 1};
	struct husk_spec terminal = {.process = &tty};

	assert_null(husk_criu_unsupported(&plain));
	assert_non_null(strstr(husk_criu_unsupported(&rootfs), "rootfs is idmapped"));
	assert_non_null(strstr(husk_criu_unsupported(&mount), "idmapped mount"));
	assert_non_null(strstr(husk_criu_unsupported(&terminal), "terminal"));
}

static void file_keys_are_hex_as_criu_spells_them(void **state)
{
	char key[64];

	husk_criu_file_key(key, sizeof(key), 24, 5);
	assert_string_equal(key, "file[18:5]");
	husk_criu_file_key(key, sizeof(key), 1234, 0xabcdefull);
	assert_string_equal(key, "file[4d2:abcdef]");
}

static void default_paths_are_runcs(void **state)
{
	struct husk_criu_opts none = {0}, image = {.image_path = "/img"},
			      both = {.image_path = "/img", .work_path = "/work"};

	assert_string_equal(husk_criu_image_dir(&none), "checkpoint");
	assert_string_equal(husk_criu_work_dir(&none), "checkpoint");
	assert_string_equal(husk_criu_work_dir(&image), "/img");
	assert_string_equal(husk_criu_work_dir(&both), "/work");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dump_defaults),
	    cmocka_unit_test(dump_flags_and_externals),
	    cmocka_unit_test(pre_dump_tracks_memory),
	    cmocka_unit_test(restore_as_sibling_with_fds),
	    cmocka_unit_test(bad_cgroups_mode_names_the_option),
	    cmocka_unit_test(binds_from_outside_the_rootfs_only),
	    cmocka_unit_test(refuses_what_criu_cannot_restore),
	    cmocka_unit_test(file_keys_are_hex_as_criu_spells_them),
	    cmocka_unit_test(default_paths_are_runcs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
