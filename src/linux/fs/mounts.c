/* The spec's mounts, in order. Each destination is resolved (and created)
 * inside the root by fd, the mount is put onto that fd, and the fd is
 * re-checked to still lie inside the root afterwards. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "util/cleanup.h"
#include "util/log.h"

/* MS_* bits that are not per-mount flags but requests (bind, propagation). */
#define MS_NOT_FLAGS                                                                               \
	(MS_BIND | MS_REC | MS_REMOUNT | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

bool husk_mount_is_bind(const struct husk_mount *m)
{
	return m->opts.bind || (m->opts.flags & MS_BIND) ||
	       (m->type && strcmp(m->type, "bind") == 0);
}

static bool type_is(const struct husk_mount *m, const char *type)
{
	return m->type && strcmp(m->type, type) == 0;
}

static const char *mount_name(const struct husk_mount *m)
{
	if (husk_mount_is_bind(m))
		return m->source ? m->source : "(none)";
	return m->type ? m->type : (m->source ? m->source : "(none)");
}

/* What runc lets a mount cover below /proc: files lxcfs emulates. */
static const char *const proc_mount_allowed[] = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

/* Nothing but a procfs may cover /proc, and below it only the files in the
 * list above: a bind over /proc/self/attr or /proc/sys would let the image
 * steer the runtime's later writes. The destination as resolved counts, not
 * as written, so a symlink into /proc is caught too. `source_fd` is the
 * tree to be mounted, or -1 for a new filesystem of m->type. */
static int check_proc_dest(struct husk_fs *fs, const struct husk_mount *m, int target,
			   int source_fd, struct husk_err *err)
{
	char path[PATH_MAX];

	if (husk_fd_root_path(fs, target, m->destination, path, sizeof(path), err) < 0)
		return -1;
	if (strncmp(path, "/proc", 5) != 0 || (path[5] != '/' && path[5] != '\0'))
		return 0;
	if (path[5] == '\0') {
		if (source_fd >= 0 ? husk_procfs_check(source_fd) == 0 : type_is(m, "proc"))
			return 0;
		return husk_err_set(err, 0, "mount %s on %s: only procfs may be mounted on /proc",
				    mount_name(m), m->destination);
	}
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(proc_mount_allowed); i++)
		if (strcmp(path, proc_mount_allowed[i]) == 0)
			return 0;
	return husk_err_set(err, 0, "mount %s on %s: %s is inside /proc", mount_name(m),
			    m->destination, path);
}

/* Recursive attributes ("rro", "rnosuid", ...) and propagation apply to the
 * mount now sitting on the destination, reached by resolving it again. */
static int apply_after(struct husk_fs *fs, const struct husk_mount *m, int mnt_fd)
{
	_cleanup_close_ int fd = -1;

	if (!m->opts.attr_set && !m->opts.attr_clr && !m->opts.propagation)
		return 0;
	if (mnt_fd < 0) {
		fd =
		    husk_openat2(fs->ctx->root_fd, m->destination, O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
		if (fd < 0)
			return -1;
		mnt_fd = fd;
	}
	if (husk_mount_setattr(mnt_fd, true, m->opts.attr_set, m->opts.attr_clr) < 0)
		return -1;
	return husk_mount_propagate(mnt_fd, m->opts.propagation);
}

/* A bind source relative to the bundle, as runc resolves it. */
static void bind_source(const struct husk_spawn_params *p, const struct husk_mount *m, char *buf,
			size_t len)
{
	if (m->source && m->source[0] != '/' && p->bundle)
		snprintf(buf, len, "%s/%s", p->bundle, m->source);
	else
		snprintf(buf, len, "%s", m->source ? m->source : "");
}

/* A detached clone of the bind source ("rbind": with its submounts). */
int husk_bind_source_tree(const struct husk_spawn_params *p, const struct husk_mount *m,
			  struct husk_err *err)
{
	char src[PATH_MAX];
	unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;

	bind_source(p, m, src, sizeof(src));
	if (m->opts.recursive || (m->opts.flags & MS_REC))
		flags |= AT_RECURSIVE;
	int tree = husk_fs_sys->open_tree(AT_FDCWD, src, flags);
	if (tree < 0)
		return husk_err_sys(err, "mount %s on %s: open source", src, m->destination);
	return tree;
}

/* Flags of a bind, set while the tree is still detached so it is never
 * visible with the wrong ones: the per-mount flags on its top, the "r"
 * variants on every mount in it. Only the named flags change, so what the
 * source has (and may have locked: nosuid, nodev...) is kept. */
int husk_bind_tree_flags(const struct husk_mount *m, int tree)
{
	struct husk_mount_attr attr, clr;

	husk_ms_to_attr(m->opts.flags & ~MS_NOT_FLAGS, &attr);
	husk_ms_to_attr(m->opts.clear_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), &clr);
	attr.clr |= clr.set & ~attr.set;
	/* Flags the source has locked (a user namespace cannot clear what its
	 * owner set) stay, as runc keeps them: retry without clearing. */
	if (husk_mount_setattr(tree, false, attr.set, attr.clr) < 0 &&
	    (errno != EPERM || !(attr.clr & ~(uint64_t)MOUNT_ATTR__ATIME) ||
	     husk_mount_setattr(tree, false, attr.set, attr.clr & MOUNT_ATTR__ATIME) < 0))
		return -1;
	return husk_mount_setattr(tree, true, m->opts.attr_set, m->opts.attr_clr);
}

/* The tree the runtime built for this mount (see idmap.c), if any. */
static int handed_tree(struct husk_fs *fs, const struct husk_mount *m)
{
	size_t i = (size_t)(m - fs->spec->mounts);
	if (!fs->ctx->source_fds || i >= fs->ctx->n_source_fds)
		return -1;
	return HUSK_STEAL_FD(fs->ctx->source_fds[i]);
}

static int own_tree(struct husk_fs *fs, const struct husk_mount *m, struct husk_err *err)
{
	_cleanup_close_ int tree = husk_bind_source_tree(fs->p, m, err);
	if (tree < 0)
		return -1;
	if (husk_mount_is_idmapped(m)) {
		/* The helper's pid must be read in our own pid namespace. */
		int proc_fd = husk_procfs_handle(fs, err);
		if (proc_fd < 0 || husk_idmap_tree(fs->spec, m, tree, -1, proc_fd, err) < 0)
			return -1;
	}
	/* Without mount_setattr() flags can only be set once attached. */
	if (!husk_mount_no_setattr && husk_bind_tree_flags(m, tree) < 0)
		return husk_err_sys(err, "mount %s on %s: set flags", m->source, m->destination);
	return HUSK_STEAL_FD(tree);
}

/* Bind: a detached tree with its flags already set, attached onto the
 * destination fd; propagation once it is attached. */
static int mount_bind(struct husk_fs *fs, const struct husk_mount *m, struct husk_err *err)
{
	struct stat st;
	const char *src = m->source ? m->source : "(none)";
	_cleanup_close_ int tree = handed_tree(fs, m);

	if (tree < 0 && (tree = own_tree(fs, m, err)) < 0)
		return -1;
	if (husk_fs_sys->fstat(tree, &st) < 0)
		return husk_err_sys(err, "mount %s on %s: open source", src, m->destination);
	_cleanup_close_ int target =
	    S_ISDIR(st.st_mode)
		? husk_mkdir_at(fs->ctx->root_fd, m->destination, 0755, HUSK_RESOLVE_IN_ROOT, err)
		: husk_mkfile_at(fs->ctx->root_fd, m->destination, 0644, HUSK_RESOLVE_IN_ROOT, err);
	if (target < 0)
		return husk_err_prefix(err, "mount %s on %s", src, m->destination);
	if (check_proc_dest(fs, m, target, tree, err) < 0)
		return -1;
	if (husk_move_onto(tree, target) < 0)
		return husk_err_sys(err, "mount %s on %s", src, m->destination);
	if (husk_fd_check_inside(fs, target, m->destination, err) < 0)
		return -1;
	if (husk_mount_no_setattr && husk_bind_tree_flags(m, tree) < 0)
		return husk_err_sys(err, "mount %s on %s: set flags", src, m->destination);
	if (husk_mount_propagate(tree, m->opts.propagation) < 0)
		return husk_err_sys(err, "mount %s on %s: set propagation", src, m->destination);
	return 0;
}

/* proc gets its own superblock through fsopen(): the mount fd is kept as the
 * container's verified procfs handle (sysctl and the process code use it). */
static int mount_proc(struct husk_fs *fs, const struct husk_mount *m, int target,
		      struct husk_err *err)
{
	int mnt = husk_fs_new_mount("proc", m->source ? m->source : "proc", m->opts.data,
				    m->opts.flags & ~MS_NOT_FLAGS);
	if (mnt < 0)
		return husk_err_sys(err, "mount proc on %s", m->destination);
	if (husk_move_onto(mnt, target) < 0) {
		husk_err_sys(err, "mount proc on %s", m->destination);
		close(mnt);
		return -1;
	}
	if (fs->ctx->proc_fd >= 0)
		close(fs->ctx->proc_fd);
	fs->ctx->proc_fd = mnt;
	return husk_fd_check_inside(fs, target, m->destination, err);
}

/* sysfs needs a network namespace owned by the container's user namespace;
 * without one the kernel refuses, and the host's /sys is bound instead. */
static int mount_sysfs_fallback(struct husk_fs *fs, const struct husk_mount *m, int target)
{
	struct husk_mount_attr attr;
	_cleanup_close_ int tree = husk_fs_sys->open_tree(
	    AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return -1;
	husk_ms_to_attr(m->opts.flags & ~MS_NOT_FLAGS, &attr);
	return husk_attach(tree, target, true, attr.set, attr.clr);
}

static int copy_up(struct husk_fs *fs, const struct husk_mount *m, int covered,
		   struct husk_err *err)
{
	_cleanup_close_ int top = husk_openat2(fs->ctx->root_fd, m->destination,
					       O_RDONLY | O_DIRECTORY, 0, HUSK_RESOLVE_IN_ROOT);
	if (top < 0 || husk_copyup(covered, top) < 0)
		return husk_err_sys(err, "mount tmpfs on %s: tmpcopyup", m->destination);
	if ((m->opts.flags & MS_RDONLY) && husk_mount_setattr(top, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return husk_err_sys(err, "mount tmpfs on %s: make read-only", m->destination);
	return 0;
}

/* linux.mountLabel: with SELinux on, the filesystems runc labels (all but
 * proc, sysfs and cgroups) get `context="<label>"` added to their data. */
static bool wants_label(const struct husk_fs *fs, const struct husk_mount *m)
{
	static int selinux = -1;
	struct statfs sfs;

	if (!fs->spec->linux.mount_label || !*fs->spec->linux.mount_label || type_is(m, "proc") ||
	    type_is(m, "sysfs") || type_is(m, "cgroup") || type_is(m, "cgroup2"))
		return false;
	if (selinux < 0)
		selinux = husk_fs_sys->statfs("/sys/fs/selinux", &sfs) == 0 &&
			  sfs.f_type == SELINUX_MAGIC;
	return selinux;
}

static char *labelled_data(const struct husk_fs *fs, const char *data)
{
	char *out = NULL;
	if (asprintf(&out, "%s%scontext=\"%s\"", data ? data : "", data && *data ? "," : "",
		     fs->spec->linux.mount_label) < 0)
		return NULL;
	return out;
}

/* proc and sysfs go on a real directory only, never through a symlink (or
 * onto a file) the image put in their place: runc's rule, with its words. */
static int check_ordinary_dir(struct husk_fs *fs, const struct husk_mount *m, struct husk_err *err)
{
	char parent[PATH_MAX];
	struct stat st;

	if (!type_is(m, "proc") && !type_is(m, "sysfs"))
		return 0;
	size_t n = strlen(m->destination);
	while (n > 1 && m->destination[n - 1] == '/')
		n--;
	if (n >= sizeof(parent))
		return husk_err_set(err, ENAMETOOLONG, "mount %s on %s", m->type, m->destination);
	memcpy(parent, m->destination, n);
	parent[n] = '\0';
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	_cleanup_close_ int dir = husk_openat2(fs->ctx->root_fd, slash && *parent ? parent : "/",
					       O_PATH | O_DIRECTORY, 0, HUSK_RESOLVE_IN_ROOT);
	if (dir < 0 || !*base || husk_fs_sys->fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* missing: created below, as a directory */
	if (S_ISDIR(st.st_mode))
		return 0;
	return husk_err_plain(err, ENOTDIR,
			      "mount %s on %s: filesystem \"%s\" must be mounted on ordinary "
			      "directory",
			      m->type, m->destination, m->type);
}

static bool has_option(const char *data, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = data; p && *p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, key, n) == 0)
			return true;
	}
	return false;
}

/* A tmpfs over a directory that exists keeps that directory's mode unless
 * its options name one (runc: /tmp stays 1777, a 0700 directory stays
 * private instead of becoming tmpfs's default 1777). NULL: data as is. */
static char *tmpfs_mode_data(const struct husk_mount *m, int covered_dir)
{
	struct stat st;
	char *out = NULL;
	const char *data = m->opts.data;

	if (!type_is(m, "tmpfs") || has_option(data, "mode=") ||
	    husk_fs_sys->fstat(covered_dir, &st) < 0)
		return NULL;
	if (asprintf(&out, "mode=%04o%s%s", (unsigned int)(st.st_mode & 07777),
		     data && *data ? "," : "", data ? data : "") < 0)
		return NULL;
	return out;
}

/* The destination directory, made if missing; *existed says which (tmpfs
 * only: the others need not know, and are spared the extra lookup). */
static int open_dest_dir(struct husk_fs *fs, const struct husk_mount *m, bool *existed,
			 struct husk_err *err)
{
	*existed = false;
	if (type_is(m, "tmpfs")) {
		int fd = husk_openat2(fs->ctx->root_fd, m->destination, O_PATH | O_DIRECTORY, 0,
				      HUSK_RESOLVE_IN_ROOT);
		if (fd >= 0) {
			*existed = true;
			return fd;
		}
	}
	return husk_mkdir_at(fs->ctx->root_fd, m->destination, 0755, HUSK_RESOLVE_IN_ROOT, err);
}

static int mount_fs(struct husk_fs *fs, const struct husk_mount *m, struct husk_err *err)
{
	const char *type = m->type;
	bool existed;
	if (check_ordinary_dir(fs, m, err) < 0)
		return -1;
	_cleanup_close_ int target = open_dest_dir(fs, m, &existed, err);

	if (target < 0)
		return husk_err_prefix(err, "mount %s on %s", mount_name(m), m->destination);
	if (check_proc_dest(fs, m, target, -1, err) < 0)
		return -1;
	if (type_is(m, "proc"))
		return mount_proc(fs, m, target, err);
	if (type_is(m, "cgroup")) {
		struct husk_rootfs_ctx *ctx = fs->ctx;
		if (ctx->before_cgroup_mount &&
		    ctx->before_cgroup_mount(ctx->before_cgroup_mount_arg, err) < 0)
			return -1;
		return husk_fs_mount_cgroup(fs, m, target, err);
	}

	_cleanup_close_ int covered = -1;
	if (m->opts.tmpcopyup && type_is(m, "tmpfs") && (covered = husk_copyup_open(target)) < 0)
		return husk_err_sys(err, "mount tmpfs on %s: open for tmpcopyup", m->destination);

	/* A read-only tmpfs is filled first and made read-only after. */
	unsigned long flags = m->opts.flags & ~MS_NOT_FLAGS;
	if (covered >= 0)
		flags &= ~(unsigned long)MS_RDONLY;
	_cleanup_free_ char *with_mode = existed ? tmpfs_mode_data(m, target) : NULL;
	const char *data = with_mode ? with_mode : m->opts.data;
	_cleanup_free_ char *labelled = wants_label(fs, m) ? labelled_data(fs, data) : NULL;
	int rc = husk_mount_on_fd(m->source ? m->source : type, target, type, flags,
				  labelled ? labelled : data);
	/* Older kernels cannot label mqueue: runc retries without, so do we. */
	if (rc < 0 && labelled && type_is(m, "mqueue"))
		rc = husk_mount_on_fd(m->source ? m->source : type, target, type, flags, data);
	if (rc < 0 && errno == EPERM && fs->userns && type_is(m, "sysfs")) {
		husk_debug("sysfs on %s: not permitted, binding the host's /sys", m->destination);
		rc = mount_sysfs_fallback(fs, m, target);
	}
	if (rc < 0)
		return husk_err_sys(err, "mount %s on %s", mount_name(m), m->destination);
	if (husk_fd_check_inside(fs, target, m->destination, err) < 0)
		return -1;
	if (covered >= 0 && copy_up(fs, m, covered, err) < 0)
		return -1;
	if (apply_after(fs, m, -1) < 0)
		return husk_err_sys(err, "mount %s on %s: set attributes", mount_name(m),
				    m->destination);
	return 0;
}

int husk_fs_mount_all(struct husk_fs *fs, struct husk_err *err)
{
	for (size_t i = 0; i < fs->spec->n_mounts; i++) {
		const struct husk_mount *m = &fs->spec->mounts[i];
		if (husk_mount_no_setattr &&
		    (m->opts.attr_set || m->opts.attr_clr || husk_mount_is_idmapped(m)))
			return husk_err_plain(err, ENOSYS,
					      "mount %s on %s: recursive and idmap options need "
					      "husk_fs_sys->mount_setattr(Linux 5.12+)",
					      mount_name(m), m->destination);
		int rc = husk_traced("mount", m->destination,
				     husk_mount_is_bind(m) ? mount_bind(fs, m, err)
							   : mount_fs(fs, m, err));
		if (rc < 0)
			return -1;
	}
	return 0;
}
