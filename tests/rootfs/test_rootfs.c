/* Integration tests for src/linux/fs: the rootfs steps on a scratch rootfs,
 * each case in a child of its own (new mount and UTS namespaces) so nothing
 * leaks into the test's namespace. Attack cases plant symlinks in the image
 * and check that nothing happened on the host side. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/fs/fs.h"
#include "linux/rootfs.h"

static char root[256];	  /* the scratch rootfs */
static char hostdir[256]; /* a host directory the attacks aim at */

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: ", __func__, __LINE__);                                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		_exit(1);                                                                          \
	} while (0)
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FAIL(__VA_ARGS__);                                                         \
	} while (0)

__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "setup failed: %s\n", cmd);
		exit(1);
	}
}

/* A fresh image: the usual top-level directories, nothing else. */
static void make_image(void)
{
	sh("rm -rf %s %s && mkdir -p %s/proc %s/dev %s/sys %s/etc %s/tmp %s", root, hostdir, root,
	   root, root, root, root, hostdir);
	sh("touch %s/etc/hosts", root);
}

static const char *const default_mounts =
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\"]}";

static const char *extra_ns = "";  /* more linux.namespaces entries */
static const char *extra_top = ""; /* more top-level members */

static struct husk_spec *spec_with(const char *mounts, const char *linux_extra, bool readonly)
{
	char json[8192];
	struct husk_err err = {0};
	snprintf(
	    json, sizeof(json),
	    "{\"ociVersion\":\"1.0.2\"%s,\"root\":{\"path\":\"%s\",\"readonly\":%s},"
	    "\"mounts\":[%s],\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"uts\"}%s],"
	    "\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\",\"/proc/acpi\",\"/proc/nope\"],"
	    "\"readonlyPaths\":[\"/proc/sys\",\"/proc/nope\"]%s}}",
	    extra_top, root, readonly ? "true" : "false", mounts, extra_ns, linux_extra);
	struct husk_spec *s = husk_spec_parse(json, strlen(json), &err);
	if (!s) {
		fprintf(stderr, "spec: %s\n", err.msg);
		exit(1);
	}
	return s;
}

static struct husk_spawn_params params(const struct husk_spec *s)
{
	return (struct husk_spawn_params){
	    .id = "t", .spec = s, .bundle = "/", .rootfs = root, .cgroup_fd = -1};
}

/* The child's half: a private mount namespace, then the case. */
static int run_case(const char *name, void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* As in a container: its own mount, UTS and pid namespaces; the
		 * case runs as the new namespace's first process. */
		if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID) < 0)
			FAIL("unshare: %s", strerror(errno));
		pid_t init = fork();
		if (init == 0) {
			fn();
			_exit(0);
		}
		int st = 0;
		while (init > 0 && waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		_exit(init > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	return ok ? 0 : 1;
}

/* Run all four steps; returns the failing step's message, or NULL. */
static const char *setup(const struct husk_spec *s, struct husk_rootfs_ctx *ctx, int pty)
{
	static struct husk_err err;
	struct husk_spawn_params p = params(s);
	husk_rootfs_ctx_init(ctx);
	if (husk_rootfs_prepare(&p, ctx, &err) < 0 ||
	    (pty >= 0 && husk_rootfs_bind_console(&p, ctx, pty, &err) < 0) ||
	    husk_rootfs_pivot(&p, ctx, &err) < 0 || husk_rootfs_finish(&p, ctx, &err) < 0)
		return err.msg;
	return NULL;
}

static bool is_mount_root(const char *path)
{
	struct statx stx;
	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static void check_chr(const char *path, unsigned int major, unsigned int minor, mode_t mode)
{
	struct stat st;
	CHECK(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == major && minor(st.st_rdev) == minor,
	      "%s: not char %u:%u", path, major, minor);
	CHECK((st.st_mode & 07777) == mode, "%s: mode %o, want %o", path, st.st_mode & 07777, mode);
}

static void check_link(const char *path, const char *want)
{
	char got[256];
	ssize_t n = readlink(path, got, sizeof(got) - 1);
	CHECK(n > 0, "%s: not a symlink", path);
	got[n] = '\0';
	CHECK(strcmp(got, want) == 0, "%s -> %s, want %s", path, got, want);
}

static bool fs_is(const char *path, long magic)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && sfs.f_type == magic;
}

/* The default-like spec: mounts, /dev, sysctl, masked and read-only paths. */
static void case_default(void)
{
	struct husk_rootfs_ctx ctx;
	extra_top = ",\"process\":{\"cwd\":\"/work/deep\",\"args\":[\"sh\"],"
		    "\"user\":{\"uid\":0,\"gid\":0}}";
	struct husk_spec *s = spec_with(
	    default_mounts,
	    ",\"sysctl\":{\"kernel.domainname\":\"husk.test\"},"
	    "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/sub/fuse\",\"major\":10,\"minor\":229,"
	    "\"fileMode\":384,\"uid\":1000,\"gid\":1001}]",
	    true);
	const char *e = setup(s, &ctx, -1);
	CHECK(!e, "setup: %s", e);

	CHECK(fs_is("/proc", PROC_SUPER_MAGIC), "/proc is not procfs");
	CHECK(fs_is("/dev", TMPFS_MAGIC) && fs_is("/dev/pts", DEVPTS_SUPER_MAGIC), "/dev mounts");
	check_chr("/dev/null", 1, 3, 0666);
	check_chr("/dev/zero", 1, 5, 0666);
	check_chr("/dev/full", 1, 7, 0666);
	check_chr("/dev/random", 1, 8, 0666);
	check_chr("/dev/urandom", 1, 9, 0666);
	check_chr("/dev/tty", 5, 0, 0666);
	check_chr("/dev/sub/fuse", 10, 229, 0600);
	struct stat st;
	CHECK(stat("/dev/sub/fuse", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001,
	      "/dev/sub/fuse owner");
	check_link("/dev/ptmx", "pts/ptmx");
	check_link("/dev/fd", "/proc/self/fd");
	check_link("/dev/stdin", "/proc/self/fd/0");
	check_link("/dev/stderr", "/proc/self/fd/2");

	/* sysctl went to the container's (UTS-namespaced) kernel.domainname */
	char buf[64] = "";
	int fd = open("/proc/sys/kernel/domainname", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0, "read domainname");
	CHECK(strncmp(buf, "husk.test", 9) == 0, "domainname %s", buf);
	close(fd);

	/* readonlyPaths and maskedPaths */
	CHECK(open("/proc/sys/kernel/domainname", O_WRONLY) < 0 && errno == EROFS,
	      "/proc/sys writable");
	check_chr("/proc/keys", 1, 3, 0666);
	CHECK(is_mount_root("/proc/acpi") && fs_is("/proc/acpi", TMPFS_MAGIC), "/proc/acpi");
	CHECK(mkdir("/proc/acpi/x", 0755) < 0 && errno == EROFS, "/proc/acpi writable");
	/* root.readonly, while /dev stays writable */
	CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS, "root writable");
	CHECK(mkdir("/dev/newdir", 0755) == 0, "/dev not writable: %s", strerror(errno));
	CHECK(ctx.proc_fd >= 0 && ctx.root_fd >= 0, "ctx fds");
	CHECK(stat("/work/deep", &st) == 0 && S_ISDIR(st.st_mode), "process.cwd not created");
}

/* Binds: a file target is created as a file, "ro" sticks, "rro" reaches
 * submounts, and a relative source is taken from the bundle. */
static void case_binds(void)
{
	struct husk_rootfs_ctx ctx;
	char mounts[2048];
	sh("mkdir -p %s/sub && mount -t tmpfs none %s/sub && touch %s/sub/f %s/file", hostdir,
	   hostdir, hostdir, hostdir);
	snprintf(mounts, sizeof(mounts),
		 "%s,{\"destination\":\"/a/b/file\",\"source\":\"%s/"
		 "file\",\"options\":[\"bind\",\"ro\"]},"
		 "{\"destination\":\"/tree\",\"source\":\"%s\",\"options\":[\"rbind\",\"%s\"]},"
		 "{\"destination\":\"/flat\",\"source\":\"%s\",\"options\":[\"bind\"]}",
		 default_mounts, hostdir, hostdir, husk_mount_no_setattr ? "ro" : "rro",
		 hostdir + 1);
	struct husk_spec *s = spec_with(mounts, "", false);
	const char *e = setup(s, &ctx, -1);
	CHECK(!e, "setup: %s", e);
	struct stat st;
	CHECK(stat("/a/b/file", &st) == 0 && S_ISREG(st.st_mode), "/a/b/file");
	CHECK(open("/a/b/file", O_WRONLY) < 0 && errno == EROFS, "ro bind writable");
	/* "rro" needs mount_setattr(); the classic "ro" leaves submounts alone */
	if (!husk_mount_no_setattr)
		CHECK(open("/tree/sub/f", O_WRONLY) < 0 && errno == EROFS, "rro submount writable");
	else
		CHECK(open("/tree/f", O_WRONLY | O_CREAT, 0600) < 0 && errno == EROFS,
		      "ro rbind writable");
	CHECK(stat("/tree/sub/f", &st) == 0, "rbind lost its submount");
	CHECK(stat("/flat/sub/f", &st) < 0, "bind (not rbind) carried a submount");
	CHECK(open("/flat/file", O_WRONLY) >= 0, "plain bind not writable: %s", strerror(errno));
}

/* tmpcopyup: the tmpfs starts with the image's files (links copied as
 * links, owners kept), and "ro" applies after the copy. */
static void case_tmpcopyup(void)
{
	struct husk_rootfs_ctx ctx;
	char mounts[1024], buf[16] = "";
	struct stat st;
	sh("mkdir -p %s/etc/sub && echo hi > %s/etc/sub/f && chown 12:34 %s/etc/sub/f && "
	   "ln -s /etc/shadow %s/etc/link",
	   root, root, root, root);
	snprintf(mounts, sizeof(mounts),
		 "%s,{\"destination\":\"/etc\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		 "\"options\":[\"tmpcopyup\",\"ro\"]}",
		 default_mounts);
	struct husk_spec *s = spec_with(mounts, "", false);
	const char *e = setup(s, &ctx, -1);
	CHECK(!e, "setup: %s", e);
	CHECK(fs_is("/etc", TMPFS_MAGIC), "/etc is not a tmpfs");
	int fd = open("/etc/sub/f", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 3 && strcmp(buf, "hi\n") == 0,
	      "copied file content");
	CHECK(stat("/etc/sub/f", &st) == 0 && st.st_uid == 12 && st.st_gid == 34, "copied owner");
	check_link("/etc/link", "/etc/shadow");
	CHECK(mkdir("/etc/x", 0755) < 0 && errno == EROFS, "tmpfs not read-only");
}

/* An idmapped bind made by the container process itself (no user
 * namespace): disk uid 0 shows as 1000, an unmapped one as the overflow id. */
static void case_idmap(void)
{
	struct husk_rootfs_ctx ctx;
	char mounts[1024];
	struct stat st;
	sh("touch %s/by0 %s/by5 && chown 5:5 %s/by5", hostdir, hostdir, hostdir);
	snprintf(mounts, sizeof(mounts),
		 "{\"destination\":\"/idm\",\"source\":\"%s\",\"options\":[\"rbind\"],"
		 "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
		 "\"gidMappings\":[{\"containerID\":0,\"hostID\":1001,\"size\":1}]}",
		 hostdir);
	struct husk_spec *s = spec_with(mounts, "", false);
	const char *e = setup(s, &ctx, -1);
	CHECK(!e, "setup: %s", e);
	CHECK(stat("/idm/by0", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001,
	      "by0 shows as %u:%u", st.st_uid, st.st_gid);
	CHECK(stat("/idm/by5", &st) == 0 && st.st_uid == 65534, "by5 shows as %u", st.st_uid);
}

/* The parent's half of a user-namespaced child: once it has unshared,
 * write its id maps (0 -> 100000, 65536 ids), let it go on, and wait. */
static void map_and_wait(pid_t pid, int from_child, int to_child)
{
	char c;
	CHECK(read(from_child, &c, 1) == 1, "sync");
	/* the child's pid means the child only in a procfs of our pid namespace */
	sh("mkdir -p %s/../proc && (mountpoint -q %s/../proc || mount -t proc proc %s/../proc) && "
	   "echo '0 100000 65536' > %s/../proc/%d/uid_map && "
	   "echo '0 100000 65536' > %s/../proc/%d/gid_map",
	   root, root, root, root, (int)pid, root, (int)pid);
	CHECK(write(to_child, "g", 1) == 1, "sync");
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed");
}

/* With its own user namespace the container process may not idmap a host
 * filesystem: the runtime builds the tree before the clone, as spawn does
 * (husk_rootfs_open_sources into the child's rootfs context), and the
 * child attaches it. Also covers device nodes bound from the host,
 * since mknod is refused in a user namespace. */
static void case_idmap_userns(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_err err = {0};
	char mounts[1024];
	struct stat st;
	int to_parent[2], to_child[2];
	sh("touch %s/by0 && mkdir %s/idm && chmod 755 %s/.. %s", hostdir, root, root, root);
	snprintf(mounts, sizeof(mounts),
		 "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
		 "{\"destination\":\"/idm\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"],"
		 "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
		 "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}",
		 hostdir);
	extra_ns = ",{\"type\":\"user\"}";
	struct husk_spec *s = spec_with(mounts,
					",\"uidMappings\":[{\"containerID\":0,"
					"\"hostID\":100000,\"size\":65536}],"
					"\"gidMappings\":[{\"containerID\":0,"
					"\"hostID\":100000,\"size\":65536}]",
					false);
	struct husk_spawn_params p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_open_sources(s, NULL, -1, &ctx, &err) == 0, "open_sources: %s", err.msg);
	CHECK(ctx.n_source_fds == 2 && ctx.source_fds[0] < 0 && ctx.source_fds[1] >= 0,
	      "source fds %zu", ctx.n_source_fds);

	CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		CHECK(unshare(CLONE_NEWUSER) == 0, "unshare user ns: %s", strerror(errno));
		CHECK(write(to_parent[1], "u", 1) == 1 && read(to_child[0], &c, 1) == 1, "sync");
		CHECK(setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) == 0, "become root");
		CHECK(unshare(CLONE_NEWNS) == 0, "unshare mount ns: %s", strerror(errno));
		CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
		CHECK(ctx.source_fds[1] == -1, "prepare did not take the handed tree");
		CHECK(husk_rootfs_pivot(&p, &ctx, &err) == 0, "pivot: %s", err.msg);
		CHECK(husk_rootfs_finish(&p, &ctx, &err) == 0, "finish: %s", err.msg);
		CHECK(stat("/idm/by0", &st) == 0 && st.st_uid == 0, "by0 shows as %u", st.st_uid);
		CHECK(open("/idm/by0", O_WRONLY) < 0 && errno == EROFS, "idmapped bind not ro");
		check_chr("/dev/null", 1, 3, 0666);
		CHECK(is_mount_root("/dev/null"), "/dev/null is not a bind of the host node");
		_exit(0);
	}
	husk_rootfs_drop_sources(&ctx);
	CHECK(ctx.source_fds == NULL && ctx.n_source_fds == 0, "sources not dropped");
	map_and_wait(pid, to_parent[0], to_child[1]);
}

/* Device nodes in a user namespace are binds of the host's nodes (mknod is
 * refused there); the binds are nosuid,noexec, by mount_setattr() on the
 * detached tree or, without it, by a remount once attached. */
static void case_userns_devices(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_err err = {0};
	struct statvfs sv;
	int to_parent[2], to_child[2];

	sh("chmod 755 %s/.. %s", root, root);
	extra_ns = ",{\"type\":\"user\"}";
	/* no proc: its mount needs a pid namespace of the user namespace's */
	struct husk_spec *s = spec_with("{\"destination\":\"/dev\",\"type\":\"tmpfs\","
					"\"source\":\"tmpfs\"}",
					",\"uidMappings\":[{\"containerID\":0,"
					"\"hostID\":100000,\"size\":65536}],"
					"\"gidMappings\":[{\"containerID\":0,"
					"\"hostID\":100000,\"size\":65536}]",
					false);
	struct husk_spawn_params p = params(s);
	CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		CHECK(unshare(CLONE_NEWUSER) == 0, "unshare user ns: %s", strerror(errno));
		CHECK(write(to_parent[1], "u", 1) == 1 && read(to_child[0], &c, 1) == 1, "sync");
		CHECK(setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) == 0, "become root");
		CHECK(unshare(CLONE_NEWNS) == 0, "unshare mount ns: %s", strerror(errno));
		husk_rootfs_ctx_init(&ctx);
		CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
		CHECK(husk_rootfs_pivot(&p, &ctx, &err) == 0, "pivot: %s", err.msg);
		CHECK(husk_rootfs_finish(&p, &ctx, &err) == 0, "finish: %s", err.msg);
		static const char *const nodes[] = {"/dev/null",   "/dev/zero",	   "/dev/full",
						    "/dev/random", "/dev/urandom", "/dev/tty"};
		for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
			CHECK(is_mount_root(nodes[i]), "%s is not a bind of the host node",
			      nodes[i]);
			CHECK(statvfs(nodes[i], &sv) == 0 && (sv.f_flag & ST_NOSUID) &&
				  (sv.f_flag & ST_NOEXEC),
			      "%s: bind is not nosuid,noexec (flags %#lx)", nodes[i], sv.f_flag);
		}
		int fd = open("/dev/null", O_WRONLY);
		CHECK(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null unusable: %s", strerror(errno));
		_exit(0);
	}
	CHECK(pid > 0, "fork");
	map_and_wait(pid, to_parent[0], to_child[1]);
}

/* --no-pivot: MS_MOVE + chroot, and the host's other mounts detached so
 * they cannot be reached by escaping the chroot. */
static void case_no_pivot(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_err err = {0};
	struct stat in, up;
	sh("mount -t tmpfs hostonly %s", hostdir);
	int host_fd = open(hostdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(host_fd >= 0, "open host mount");
	struct husk_spec *s = spec_with(default_mounts, "", true);
	struct husk_spawn_params p = params(s);
	p.no_pivot = true;
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
	CHECK(husk_rootfs_pivot(&p, &ctx, &err) == 0, "pivot: %s", err.msg);
	CHECK(husk_rootfs_finish(&p, &ctx, &err) == 0, "finish: %s", err.msg);
	CHECK(fs_is("/proc", PROC_SUPER_MAGIC) && access("/dev/null", F_OK) == 0, "root");
	CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS, "root writable");
	/* ".." of a detached mount's root is itself */
	int parent = openat(host_fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(parent >= 0 && fstat(host_fd, &in) == 0 && fstat(parent, &up) == 0, "stat");
	CHECK(in.st_dev == up.st_dev && in.st_ino == up.st_ino, "the host mount is still attached");
}

/* No mount namespace in the spec: the container inherits the runtime's, and
 * prepare must not mount anything into it (it would be the host's). */
static void case_no_mount_ns(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_err err = {0};
	struct husk_spec *s = spec_with(default_mounts, "", false);
	s->linux.ns[HUSK_NS_MOUNT].enabled = false;
	struct husk_spawn_params p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
	husk_rootfs_ctx_close(&ctx);
	CHECK(!is_mount_root(root), "the rootfs was bind-mounted anyway");
	char path[300];
	snprintf(path, sizeof(path), "%s/proc", root);
	CHECK(!is_mount_root(path), "proc was mounted anyway");
}

/* The image makes /dev a symlink to a host directory and the spec mounts
 * no tmpfs there: creating nodes must fail, not land on the host. */
static void case_dev_symlink(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_spawn_params p;
	struct husk_err err = {0};
	sh("rmdir %s/dev && ln -s %s %s/dev", root, hostdir, root);
	struct husk_spec *s = spec_with(
	    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}", "", false);
	p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) < 0, "prepare accepted a /dev symlink");
	CHECK(strstr(err.msg, "/dev"), "error: %s", err.msg);
	struct stat st;
	char path[300];
	snprintf(path, sizeof(path), "%s/null", hostdir);
	CHECK(lstat(path, &st) < 0, "a node was created on the host");
	snprintf(path, sizeof(path), "%s/ptmx", hostdir);
	CHECK(lstat(path, &st) < 0, "a link was created on the host");
}

/* Mount destinations that are symlinks to "/" or to a host path stay
 * inside the rootfs. */
static void case_dest_symlink(void)
{
	struct husk_rootfs_ctx ctx;
	char mounts[1024], path[300];
	struct husk_spawn_params p;
	struct husk_err err = {0};
	sh("ln -s %s %s/evil && ln -s ../../../../../..%s %s/evil2", hostdir, root, hostdir, root);
	snprintf(mounts, sizeof(mounts),
		 "{\"destination\":\"/evil\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
		 "{\"destination\":\"/evil2/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
	struct husk_spec *s = spec_with(mounts, "", false);
	p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
	CHECK(!is_mount_root(hostdir), "a mount landed on the host directory");
	snprintf(path, sizeof(path), "%s/x", hostdir);
	CHECK(access(path, F_OK) < 0, "a directory was created on the host");
	snprintf(path, sizeof(path), "%s%s", root, hostdir);
	CHECK(is_mount_root(path), "the mount is not at <rootfs>%s", hostdir);
	snprintf(path, sizeof(path), "%s%s/x", root, hostdir);
	CHECK(is_mount_root(path), "the mount is not at <rootfs>%s/x", hostdir);
}

/* The image's /dev/null is a symlink to a procfs file: masking must refuse
 * to use it rather than bind that file over the masked path. */
static void case_fake_dev_null(void)
{
	struct husk_rootfs_ctx ctx;
	sh("ln -s /proc/sys/kernel/core_pattern %s/dev/null", root);
	struct husk_spec *s = spec_with(
	    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}", "", false);
	const char *e = setup(s, &ctx, -1);
	CHECK(e && strstr(e, "not the null device"), "masking used a fake /dev/null (%s)",
	      e ? e : "no error");
}

/* Binds into /proc other than the lxcfs files are refused, also when a
 * symlink in the image leads there. */
static void case_proc_dest(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_spawn_params p;
	struct husk_err err = {0};
	sh("ln -s proc/sys/kernel/core_pattern %s/sneaky", root);
	struct husk_spec *s = spec_with("{\"destination\":\"/proc\",\"type\":\"proc\"},"
					"{\"destination\":\"/sneaky\",\"source\":\"/etc/hostname\","
					"\"options\":[\"bind\"]}",
					"", false);
	p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) < 0, "bind over /proc/sys accepted");
	CHECK(strstr(err.msg, "inside /proc"), "error: %s", err.msg);
}

/* /dev/console: the pty slave bound onto it; a planted symlink refused. */
static void case_console(void)
{
	struct husk_rootfs_ctx ctx;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "openpt");
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(slave >= 0, "open slave");
	struct stat want, got;
	CHECK(fstat(slave, &want) == 0, "fstat slave");
	struct husk_spec *s = spec_with(default_mounts, "", false);
	const char *e = setup(s, &ctx, slave);
	CHECK(!e, "setup: %s", e);
	CHECK(stat("/dev/console", &got) == 0 && S_ISCHR(got.st_mode) &&
		  got.st_rdev == want.st_rdev,
	      "/dev/console is not the pty");
}

static void case_console_symlink(void)
{
	struct husk_rootfs_ctx ctx;
	struct husk_spawn_params p;
	struct husk_err err = {0};
	char target[300];
	snprintf(target, sizeof(target), "%s/file", hostdir);
	sh("touch %s && ln -s %s %s/dev/console", target, target, root);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "openpt");
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	struct husk_spec *s = spec_with(
	    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}", "", false);
	p = params(s);
	husk_rootfs_ctx_init(&ctx);
	CHECK(husk_rootfs_prepare(&p, &ctx, &err) == 0, "prepare: %s", err.msg);
	CHECK(husk_rootfs_bind_console(&p, &ctx, slave, &err) < 0, "console followed a symlink");
	CHECK(!is_mount_root(target), "the pty was bound over a host file");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
		bool needs_setattr; /* no classic mount(2) equivalent */
	} cases[] = {
	    {"default spec: mounts, /dev, sysctl, masked, read-only", case_default},
	    {"binds: file target, ro, rro, bind vs rbind", case_binds},
	    {"tmpcopyup: tmpfs filled from the image, then read-only", case_tmpcopyup},
	    {"idmap: a bind with its own uid/gid mappings", case_idmap, true},
	    {"idmap: tree built by the runtime for a user-namespaced child", case_idmap_userns,
	     true},
	    {"user namespace: device nodes bound nosuid,noexec", case_userns_devices},
	    {"no-pivot: moved root, host mounts detached", case_no_pivot},
	    {"no mount namespace: nothing mounted", case_no_mount_ns},
	    {"attack: /dev is a symlink to a host directory", case_dev_symlink},
	    {"attack: mount destinations are symlinks out of the root", case_dest_symlink},
	    {"attack: /dev/null is a symlink to a procfs file", case_fake_dev_null},
	    {"attack: bind into /proc through a symlink", case_proc_dest},
	    {"console: pty bound onto /dev/console", case_console},
	    {"attack: /dev/console is a symlink to a host file", case_console_symlink},
	};
	int failed = 0;

	if (geteuid() != 0) {
		printf("skipped: needs root\n");
		return 77;
	}
	snprintf(root, sizeof(root), "/tmp/husk-rootfs-test.%d/rootfs", (int)getpid());
	snprintf(hostdir, sizeof(hostdir), "/tmp/husk-rootfs-test.%d/host", (int)getpid());
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Every case three times: with openat2 and mount_setattr(), with the
	 * userspace resolver, and with classic remounts for flags. */
	static const char *const passes[] = {"openat2, mount_setattr", "userspace resolver",
					     "classic remounts (no mount_setattr)"};
	int ran = 0;
	for (int pass = 0; pass < 3; pass++) {
		husk_fdpath_no_openat2 = pass == 1;
		husk_mount_no_setattr = pass == 2;
		printf("# %s\n", passes[pass]);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (pass == 2 && cases[i].needs_setattr)
				continue;
			make_image();
			failed += run_case(cases[i].name, cases[i].fn);
			ran++;
		}
	}
	sh("rm -rf /tmp/husk-rootfs-test.%d", (int)getpid());
	printf("%d of %d failed\n", failed, ran);
	return failed ? 1 : 0;
}
