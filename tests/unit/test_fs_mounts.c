/* The rootfs code (src/linux/fs/) against the recording fake of its kernel
 * calls (fs_fake.c): no root, nothing mounted. A config is parsed, its root
 * is a directory of the fake's model ("/bundle/rootfs"), and each test
 * checks the exact calls the mount logic makes: their order, their flags,
 * and that nothing follows a failed one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs_fake.h"
#include "linux/fs/fs.h"
#include "spec/spec.h"

#define ROOT	      "/bundle/rootfs"
#define CONFIG(extra) "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}" extra "}"

struct box {
	struct husk_spec *spec;
	struct husk_spawn_params p;
	struct husk_rootfs_ctx ctx;
	struct husk_fs fs;
	struct husk_err err;
};

/* The model every test starts from: a root with the usual directories. */
static void base_tree(void)
{
	fake_reset();
	fake_dir("/", 0755);
	fake_dir("/bundle", 0755);
	fake_dir(ROOT, 0755);
	fake_dir(ROOT "/proc", 0555);
	fake_dir(ROOT "/sys", 0555);
	fake_dir(ROOT "/dev", 0755);
	fake_dir(ROOT "/tmp", 01777);
	fake_dir("/data", 0755);
	fake_chr("/dev/null", 1, 3);
}

/* Parse `json` and set up the state husk_rootfs_prepare has once the root
 * is bound onto itself: root_fd on the model's root, root_path read. */
static void box_open(struct box *b, const char *json)
{
	memset(b, 0, sizeof(*b));
	b->spec = husk_spec_parse(json, strlen(json), &b->err);
	if (!b->spec)
		print_error("parse: %s\n", b->err.msg);
	assert_non_null(b->spec);
	b->p.spec = b->spec;
	b->p.bundle = "/bundle";
	b->p.rootfs = ROOT;
	b->p.cgroup_fd = -1;
	husk_rootfs_ctx_init(&b->ctx);
	husk_fs_init(&b->fs, &b->p, &b->ctx);
	b->ctx.root_fd = fake_open_fd(ROOT);
	assert_int_equal(husk_fs_read_root_path(&b->fs, &b->err), 0);
	assert_string_equal(b->fs.root_path, ROOT);
}

static void box_close(struct box *b)
{
	b->ctx.root_fd = -1; /* fake fds: nothing to close */
	b->ctx.proc_fd = -1;
	husk_spec_free(b->spec);
}

static void log_is(const char *names, const char *want)
{
	const char *got = fake_log(names);
	if (strcmp(got, want) != 0)
		print_error("calls (%s):\n%s\nwanted:\n%s\n", names ? names : "all", got, want);
	assert_string_equal(got, want);
}

/* The last call made is `line` (a failed one: nothing came after it). */
static void last_call_is(const char *line)
{
	const char *log = fake_log(NULL);
	size_t n = strlen(log), l = strlen(line);
	assert_true(n > l);
	if (strncmp(log + n - l - 1, line, l) != 0 || (n > l + 1 && log[n - l - 2] != '\n'))
		print_error("calls:\n%s\nwanted the last one to be: %s\n", log, line);
	assert_int_equal(strncmp(log + n - l - 1, line, l), 0);
	assert_true(n == l + 1 || log[n - l - 2] == '\n');
}

#define MNT_CALLS "mount,fsopen,fsconfig,fsmount,open_tree,move_mount,mount_setattr"

/* proc and tmpfs are made detached (fsopen/fsmount) or by mount(2) on the
 * destination's fd, with the spec's flags; sysfs by mount(2). */
static void proc_sysfs_tmpfs(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"mounts\":["
			    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
			    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
			    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
			    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
			    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
			    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\","
			    "\"size=65536k\"]}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	log_is(MNT_CALLS,
	       "fsopen(\"proc\")\n"
	       "fsconfig([mnt:proc], \"source\", \"proc\")\n"
	       "fsconfig([mnt:proc], CREATE)\n"
	       "fsmount([mnt:proc], MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC)\n"
	       "move_mount([mnt:proc], [" ROOT "/proc])\n"
	       "mount(\"sysfs\", [" ROOT "/sys], \"sysfs\", "
	       "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)\n"
	       "mount(\"shm\", [" ROOT "/dev/shm], \"tmpfs\", MS_NOSUID|MS_NODEV|MS_NOEXEC, "
	       "\"mode=1777,size=65536k\")\n");
	/* /dev/shm was missing: made inside the root, in its parent's fd */
	log_is("mkdirat", "mkdirat([" ROOT "/dev], \"shm\", 0755)\n");
	/* the proc mount is kept as the container's procfs handle */
	assert_true(b.ctx.proc_fd >= 1000);
	box_close(&b);
}

/* A tmpfs over an existing directory keeps that directory's mode unless
 * its options name one (runc's rule). */
static void tmpfs_mode_from_covered_dir(void **state)
{
	struct box b;
	base_tree();
	fake_dir(ROOT "/private", 0700);
	fake_dir(ROOT "/opt", 0700);
	box_open(&b,
		 CONFIG(",\"mounts\":["
			"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
			"\"options\":[\"size=1m\"]},"
			"{\"destination\":\"/private\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
			"{\"destination\":\"/new\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
			"{\"destination\":\"/opt\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
			"\"options\":[\"mode=755\"]}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	log_is("mount", "mount(\"tmpfs\", [" ROOT "/tmp], \"tmpfs\", 0, \"mode=1777,size=1m\")\n"
			"mount(\"tmpfs\", [" ROOT "/private], \"tmpfs\", 0, \"mode=0700\")\n"
			"mount(\"tmpfs\", [" ROOT "/new], \"tmpfs\", 0, NULL)\n"
			"mount(\"tmpfs\", [" ROOT "/opt], \"tmpfs\", 0, \"mode=755\")\n");
	box_close(&b);
}

/* A bind: a detached clone of the source (recursive for rbind), its flags
 * set while detached, then attached, then its propagation. */
static void bind_flags_and_propagation(void **state)
{
	struct box b;
	base_tree();
	fake_dir(ROOT "/mnt", 0755);
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/mnt/data\",\"type\":\"bind\","
			    "\"source\":\"/data\",\"options\":[\"rbind\",\"ro\",\"nosuid\","
			    "\"rnodev\",\"rprivate\"]}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	log_is(MNT_CALLS,
	       "open_tree(AT_FDCWD, \"/data\", OPEN_TREE_CLONE|AT_RECURSIVE)\n"
	       "mount_setattr([mnt:/data], AT_EMPTY_PATH, set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID, "
	       "clr=0)\n"
	       "mount_setattr([mnt:/data], AT_RECURSIVE|AT_EMPTY_PATH, set=MOUNT_ATTR_NODEV, "
	       "clr=0)\n"
	       "move_mount([mnt:/data], [" ROOT "/mnt/data])\n"
	       "mount_setattr([mnt:/data], AT_RECURSIVE|AT_EMPTY_PATH, set=0, clr=0, "
	       "propagation=MS_PRIVATE)\n");
	assert_true(fake_exists(ROOT "/mnt/data"));
	box_close(&b);
}

/* "rw" on a bind clears RDONLY; a source that locked it (EPERM in a user
 * namespace) is retried without clearing, as runc keeps locked flags. */
static void bind_locked_flags_are_kept(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\","
			    "\"source\":\"/data\",\"options\":[\"bind\",\"rw\",\"nosuid\"]}]"));
	fake_fail("mount_setattr([mnt:/data], AT_EMPTY_PATH, set=MOUNT_ATTR_NOSUID, "
		  "clr=MOUNT_ATTR_RDONLY)",
		  EPERM);
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	log_is("mount_setattr,move_mount",
	       "mount_setattr([mnt:/data], AT_EMPTY_PATH, set=MOUNT_ATTR_NOSUID, "
	       "clr=MOUNT_ATTR_RDONLY) = -EPERM\n"
	       "mount_setattr([mnt:/data], AT_EMPTY_PATH, set=MOUNT_ATTR_NOSUID, clr=0)\n"
	       "move_mount([mnt:/data], [" ROOT "/data])\n");
	box_close(&b);
}

/* A destination that is a dangling symlink: the directory is made where
 * the link points, inside the root (an absolute target starts at the root,
 * not at the host's "/"). */
static void dangling_symlink_destination(void **state)
{
	struct box b;
	base_tree();
	fake_link(ROOT "/link", "/target/dir");
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/link\",\"type\":\"tmpfs\","
			    "\"source\":\"tmpfs\"}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	log_is("mkdirat,readlinkat,mount",
	       "mkdirat([" ROOT "], \"link\", 0755)\n"
	       "readlinkat([" ROOT "], \"link\")\n"
	       "mkdirat([" ROOT "], \"target\", 0755)\n"
	       "mkdirat([" ROOT "/target], \"dir\", 0755)\n"
	       "mount(\"tmpfs\", [" ROOT "/target/dir], \"tmpfs\", 0, NULL)\n");
	assert_true(fake_exists(ROOT "/target/dir"));
	assert_false(fake_exists("/target"));
	box_close(&b);
}

/* A bind of a file onto a dangling link: the file is created at the link's
 * target, inside the root. */
static void dangling_symlink_file_destination(void **state)
{
	struct box b;
	base_tree();
	fake_file("/data/f");
	fake_dir(ROOT "/etc", 0755);
	fake_link(ROOT "/etc/f", "../var/f");
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/etc/f\",\"type\":\"bind\","
			    "\"source\":\"/data/f\",\"options\":[\"bind\"]}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), 0);
	assert_true(fake_exists(ROOT "/var/f"));
	log_is("move_mount", "move_mount([mnt:/data/f], [" ROOT "/var/f])\n");
	box_close(&b);
}

/* In a user namespace mknod is refused: the host's node is bound onto an
 * empty file, nosuid and noexec set while it is still detached. */
static void device_bind_in_userns_is_nosuid_noexec(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
			    "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
			    "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"));
	fake_fail("mknodat([" ROOT "/dev], \"null\"", EPERM);
	assert_int_equal(husk_fs_setup_dev(&b.fs, &b.err), 0);
	log_is("mknodat,open_tree,openat,mount_setattr,move_mount",
	       "mknodat([" ROOT "/dev], \"null\", S_IFCHR|0666, 1:3) = -EPERM\n"
	       "open_tree(AT_FDCWD, \"/dev/null\", OPEN_TREE_CLONE)\n"
	       "openat([" ROOT "/dev], \"null\", O_WRONLY|O_CREAT|O_NOFOLLOW|O_NONBLOCK)\n"
	       "mount_setattr([mnt:/dev/null], AT_EMPTY_PATH, "
	       "set=MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC, clr=0)\n"
	       "move_mount([mnt:/dev/null], [" ROOT "/dev/null])\n"
	       "mknodat([" ROOT "/dev], \"random\", S_IFCHR|0666, 1:8)\n"
	       "mknodat([" ROOT "/dev], \"full\", S_IFCHR|0666, 1:7)\n"
	       "mknodat([" ROOT "/dev], \"tty\", S_IFCHR|0666, 5:0)\n"
	       "mknodat([" ROOT "/dev], \"zero\", S_IFCHR|0666, 1:5)\n"
	       "mknodat([" ROOT "/dev], \"urandom\", S_IFCHR|0666, 1:9)\n");
	log_is("symlinkat,unlinkat", "symlinkat(\"/proc/self/fd\", [" ROOT "/dev], \"fd\")\n"
				     "symlinkat(\"/proc/self/fd/0\", [" ROOT "/dev], \"stdin\")\n"
				     "symlinkat(\"/proc/self/fd/1\", [" ROOT "/dev], \"stdout\")\n"
				     "symlinkat(\"/proc/self/fd/2\", [" ROOT "/dev], \"stderr\")\n"
				     "unlinkat([" ROOT "/dev], \"ptmx\")\n"
				     "symlinkat(\"pts/ptmx\", [" ROOT "/dev], \"ptmx\")\n");
	box_close(&b);
}

/* A /dev that is a symlink in the image is refused, nothing created. */
static void dev_symlink_refused(void **state)
{
	struct box b;
	base_tree();
	fake_reset();
	fake_dir("/", 0755);
	fake_dir("/bundle", 0755);
	fake_dir(ROOT, 0755);
	fake_dir("/hostdev", 0755);
	fake_link(ROOT "/dev", "/hostdev");
	box_open(&b, CONFIG(""));
	assert_int_equal(husk_fs_setup_dev(&b.fs, &b.err), -1);
	assert_string_equal(b.err.msg, "/dev in rootfs is a symlink or not a directory");
	log_is("mknodat,symlinkat,mkdirat", "");
	box_close(&b);
}

/* Masked directories get a clone of one empty read-only tmpfs, masked
 * files the container's /dev/null; read-only paths are bound onto
 * themselves with RDONLY set (recursively) while detached. A missing path
 * is skipped. */
static void masked_and_readonly_paths(void **state)
{
	struct box b;
	base_tree();
	fake_dir(ROOT "/proc/acpi", 0555);
	fake_dir(ROOT "/proc/scsi", 0555);
	fake_file(ROOT "/proc/kcore");
	fake_dir(ROOT "/proc/sys", 0555);
	fake_chr(ROOT "/dev/null", 1, 3);
	box_open(&b,
		 CONFIG(",\"linux\":{\"maskedPaths\":[\"/proc/acpi\",\"/proc/kcore\","
			"\"/proc/missing\",\"/proc/scsi\"],\"readonlyPaths\":[\"/proc/sys\"]}"));
	assert_int_equal(husk_fs_readonly_paths(&b.fs, &b.err), 0);
	assert_int_equal(husk_fs_masked_paths(&b.fs, &b.err), 0);
	log_is(MNT_CALLS,
	       "open_tree([" ROOT "/proc/sys], \"\", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH)\n"
	       "mount_setattr([mnt:" ROOT "/proc/sys], AT_RECURSIVE|AT_EMPTY_PATH, "
	       "set=MOUNT_ATTR_RDONLY, clr=0)\n"
	       "move_mount([mnt:" ROOT "/proc/sys], [" ROOT "/proc/sys])\n"
	       "fsopen(\"tmpfs\")\n"
	       "fsconfig([mnt:tmpfs], \"source\", \"tmpfs\")\n"
	       "fsconfig([mnt:tmpfs], \"ro\", NULL)\n"
	       "fsconfig([mnt:tmpfs], CREATE)\n"
	       "fsmount([mnt:tmpfs], MOUNT_ATTR_RDONLY)\n"
	       "open_tree([mnt:tmpfs], \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH)\n"
	       "move_mount([mnt:tmpfs], [" ROOT "/proc/acpi])\n"
	       "open_tree([" ROOT "/dev/null], \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH)\n"
	       "move_mount([mnt:" ROOT "/dev/null], [" ROOT "/proc/kcore])\n"
	       "open_tree([mnt:tmpfs], \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH)\n"
	       "move_mount([mnt:tmpfs], [" ROOT "/proc/scsi])\n");
	box_close(&b);
}

/* A /dev/null that is not the null device is never bound over a masked
 * file (CVE-2025-31133). */
static void masked_file_needs_real_dev_null(void **state)
{
	struct box b;
	base_tree();
	fake_file(ROOT "/proc/kcore");
	fake_file(ROOT "/dev/null");
	box_open(&b, CONFIG(",\"linux\":{\"maskedPaths\":[\"/proc/kcore\"]}"));
	assert_int_equal(husk_fs_masked_paths(&b.fs, &b.err), -1);
	assert_string_equal(b.err.msg, "mask paths: /dev/null in rootfs is not the null device");
	log_is(MNT_CALLS, "");
	box_close(&b);
}

/* root.readonly: one mount_setattr on the root, not recursive. */
static void readonly_root(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\",\"readonly\":true}}");
	assert_int_equal(husk_fs_readonly_root(&b.fs, &b.err), 0);
	log_is(NULL, "mount_setattr([" ROOT "], AT_EMPTY_PATH, set=MOUNT_ATTR_RDONLY, clr=0)\n");
	box_close(&b);
}

/* A mount call that fails: the error names the step and the object, and
 * nothing after it is called. */
static void proc_attach_fails(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"mounts\":["
			    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
			    "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]"));
	fake_fail("move_mount([mnt:proc]", EPERM);
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), -1);
	assert_int_equal(b.err.code, EPERM);
	assert_string_equal(b.err.msg, "mount proc on /proc: Operation not permitted");
	last_call_is("move_mount([mnt:proc], [" ROOT "/proc]) = -EPERM");
	assert_int_equal(b.ctx.proc_fd, -1);
	box_close(&b);
}

static void mkdir_fails(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/a/b\",\"type\":\"tmpfs\","
			    "\"source\":\"tmpfs\"}]"));
	fake_fail("mkdirat([" ROOT "], \"a\"", EROFS);
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), -1);
	assert_int_equal(b.err.code, EROFS);
	assert_string_equal(b.err.msg,
			    "mount tmpfs on /a/b: mkdir /a in rootfs: Read-only file system");
	last_call_is("mkdirat([" ROOT "], \"a\", 0755) = -EROFS");
	box_close(&b);
}

static void bind_source_fails(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
			    "\"source\":\"/data\",\"options\":[\"bind\"]},"
			    "{\"destination\":\"/y\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]"));
	fake_fail("open_tree(AT_FDCWD, \"/data\"", EACCES);
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), -1);
	assert_string_equal(b.err.msg, "mount /data on /x: open source: Permission denied");
	last_call_is("open_tree(AT_FDCWD, \"/data\", OPEN_TREE_CLONE) = -EACCES");
	box_close(&b);
}

/* Only procfs goes on /proc, and below it only lxcfs-style files. */
static void bind_into_proc_refused(void **state)
{
	struct box b;
	base_tree();
	fake_dir(ROOT "/proc/sys", 0555);
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/proc/sys\",\"type\":\"bind\","
			    "\"source\":\"/data\",\"options\":[\"bind\"]}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), -1);
	assert_string_equal(b.err.msg, "mount /data on /proc/sys: /proc/sys is inside /proc");
	log_is("move_mount", "");
	box_close(&b);
}

/* proc may not go on a symlink the image put there (runc's rule). */
static void proc_on_symlink_refused(void **state)
{
	struct box b;
	base_tree();
	fake_reset();
	fake_dir("/", 0755);
	fake_dir("/bundle", 0755);
	fake_dir(ROOT, 0755);
	fake_dir(ROOT "/elsewhere", 0755);
	fake_link(ROOT "/proc", "elsewhere");
	box_open(&b, CONFIG(",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
			    "\"source\":\"proc\"}]"));
	assert_int_equal(husk_fs_mount_all(&b.fs, &b.err), -1);
	assert_int_equal(b.err.code, ENOTDIR);
	assert_string_equal(b.err.msg, "mount proc on /proc: filesystem \"proc\" must be mounted "
				       "on ordinary directory");
	log_is(MNT_CALLS, "");
	box_close(&b);
}

/* The switch of roots: pivot_root(".", "."), the old root made rslave when
 * it may still be shared, then detached. */
static void pivot_sequence(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"linux\":{\"rootfsPropagation\":\"shared\"}"));
	assert_int_equal(husk_fs_pivot(&b.fs, &b.err), 0);
	log_is(NULL, "fchdir([" ROOT "])\n"
		     "pivot_root(\".\", \".\")\n"
		     "mount(NULL, \".\", NULL, MS_REC|MS_SLAVE, NULL)\n"
		     "umount2(\".\", MNT_DETACH)\n"
		     "chdir(\"/\")\n"
		     "mount(NULL, \"/\", NULL, MS_SHARED, NULL)\n");
	box_close(&b);
}

static void pivot_fails(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(""));
	fake_fail("pivot_root", EINVAL);
	assert_int_equal(husk_fs_pivot(&b.fs, &b.err), -1);
	assert_string_equal(b.err.msg, "pivot_root " ROOT ": Invalid argument");
	last_call_is("pivot_root(\".\", \".\") = -EINVAL");
	box_close(&b);
}

/* husk_rootfs_prepare as a whole: host mounts made rslave, the root bound
 * onto itself, then the spec's mounts, /dev and the cwd. */
static void prepare_sequence(void **state)
{
	struct box b;
	base_tree();
	box_open(&b, CONFIG(",\"process\":{\"cwd\":\"/work\",\"args\":[\"sh\"]},"
			    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]},"
			    "\"mounts\":[{\"destination\":\"/tmp\",\"type\":\"tmpfs\","
			    "\"source\":\"tmpfs\",\"options\":[\"nosuid\"]}]"));
	fake_reset();
	base_tree();
	b.ctx.root_fd = -1;
	assert_int_equal(husk_rootfs_prepare(&b.p, &b.ctx, &b.err), 0);
	log_is("mount", "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE, NULL)\n"
			"mount(\"tmpfs\", [" ROOT "/tmp], \"tmpfs\", MS_NOSUID, "
			"\"mode=1777\")\n");
	/* the rootfs bound onto itself: a recursive clone attached there */
	log_is("move_mount", "move_mount([mnt:" ROOT "], [" ROOT "])\n");
	assert_true(fake_exists(ROOT "/work"));
	assert_true(fake_exists(ROOT "/dev/ptmx"));
	box_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(proc_sysfs_tmpfs),
	    cmocka_unit_test(tmpfs_mode_from_covered_dir),
	    cmocka_unit_test(bind_flags_and_propagation),
	    cmocka_unit_test(bind_locked_flags_are_kept),
	    cmocka_unit_test(dangling_symlink_destination),
	    cmocka_unit_test(dangling_symlink_file_destination),
	    cmocka_unit_test(device_bind_in_userns_is_nosuid_noexec),
	    cmocka_unit_test(dev_symlink_refused),
	    cmocka_unit_test(masked_and_readonly_paths),
	    cmocka_unit_test(masked_file_needs_real_dev_null),
	    cmocka_unit_test(readonly_root),
	    cmocka_unit_test(proc_attach_fails),
	    cmocka_unit_test(mkdir_fails),
	    cmocka_unit_test(bind_source_fails),
	    cmocka_unit_test(bind_into_proc_refused),
	    cmocka_unit_test(proc_on_symlink_refused),
	    cmocka_unit_test(pivot_sequence),
	    cmocka_unit_test(pivot_fails),
	    cmocka_unit_test(prepare_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
