/* Making the rootfs the container's "/": propagation of the copied host
 * mounts, the rootfs bound onto itself (pivot_root wants a mount point), and
 * the switch itself with pivot_root(".", ".") or MS_MOVE + chroot. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* The mount holding `fd`'s directory, walking up until its root: the
 * kernel marks a mount's root with STATX_ATTR_MOUNT_ROOT. Each step looks
 * ".." up, which a container root (an unprivileged host uid) may not do
 * in a 0700 directory of the host's between the rootfs and that root. */
static int mount_root_by_walk(int fd)
{
	_cleanup_close_ int cur = husk_fs_sys->openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	struct statx stx;

	for (int depth = 0; cur >= 0 && depth < 256; depth++) {
		if (husk_fs_sys->statx(cur, "", AT_EMPTY_PATH, 0, &stx) < 0)
			return -1;
		if (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
			return HUSK_STEAL_FD(cur);
		int up = husk_fs_sys->openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		close(cur);
		cur = up;
	}
	return -1;
}

static int mount_id_of(int fd, uint64_t *id)
{
	struct statx stx;
	if (husk_fs_sys->statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return -1;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return errno = ENOSYS, -1;
	*id = stx.stx_mnt_id;
	return 0;
}

/* Where mount `id` is attached, as /proc/self/mountinfo names it. */
static int mount_point_of(uint64_t id, char mp[PATH_MAX])
{
	_cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!mi)
		return -1;
	while (getline(&line, &cap, mi) > 0) {
		unsigned long mid;
		if (sscanf(line, "%lu %*s %*s %*s %4095s", &mid, mp) == 2 && mid == id) {
			husk_unescape_mountinfo(mp);
			return 0;
		}
	}
	return errno = ENOENT, -1;
}

/* The same mount found by its id instead: its mount point, looked up from
 * "/", passes only through directories above that mount, not the ones
 * between its root and the rootfs. What the lookup finds must be that
 * mount's root (nothing mounted over it since). */
static int mount_root_by_id(int fd)
{
	char mp[PATH_MAX];
	uint64_t id, found;
	struct statx stx;

	if (mount_id_of(fd, &id) < 0 || mount_point_of(id, mp) < 0)
		return -1;
	_cleanup_close_ int root =
	    husk_fs_sys->openat(AT_FDCWD, mp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (root < 0 || mount_id_of(root, &found) < 0 ||
	    husk_fs_sys->statx(root, "", AT_EMPTY_PATH, 0, &stx) < 0)
		return -1;
	if (found != id || !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return errno = ESTALE, -1;
	return HUSK_STEAL_FD(root);
}

/* The root of the mount that holds `fd`'s directory: by walking up, else
 * (a directory on the way we may not search) by the mount's id. */
static int mount_root_of(int fd)
{
	int root = mount_root_by_walk(fd);
	if (root >= 0)
		return root;
	int walk_errno = errno;
	root = mount_root_by_id(fd);
	if (root < 0)
		errno = walk_errno;
	return root;
}

/* The propagation prepare gave the host mounts' copies. An unbindable
 * tree would refuse the rootfs its bind onto itself: those copies stay
 * rslave, and "unbindable" applies once the rootfs is "/" (husk_fs_pivot). */
static unsigned long host_propagation(const struct husk_fs *fs)
{
	const struct husk_linux *l = &fs->spec->linux;
	if (!l->has_rootfs_propagation || (l->rootfs_propagation & MS_UNBINDABLE))
		return MS_SLAVE | MS_REC;
	return l->rootfs_propagation;
}

/* Whether some copied host mount may still be shared: rootfsPropagation
 * "shared", or one that was not recursive. */
static bool root_may_share(const struct husk_fs *fs)
{
	unsigned long prop = host_propagation(fs);
	return !(prop & MS_REC) || (prop & MS_SHARED);
}

/* pivot_root refuses a shared parent mount: when the host mounts stay
 * shared (rootfsPropagation "shared", or not recursive), make the mount
 * that holds the rootfs private first. */
static int parent_mount_private(struct husk_fs *fs, int dir, struct husk_err *err)
{
	if (!root_may_share(fs))
		return 0;
	_cleanup_close_ int root = mount_root_of(dir);
	if (root < 0 || husk_mount_propagate(root, MS_PRIVATE) < 0)
		return husk_err_sys(err, "make the parent mount of %s private", fs->p->rootfs);
	return 0;
}

static bool same_inode(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Our own mount namespace's rootfs directory, O_PATH. The runtime cloned
 * us with it as working directory (rootfs.rootfs_dir_fd): taken from there
 * with no lookup, as an unprivileged host uid may not search the
 * directories above the bundle. Without that (a joined mount namespace, a
 * test calling in directly), by path. */
static int rootfs_dir(struct husk_fs *fs, struct husk_err *err)
{
	int fd = -1;

	if (fs->ctx->rootfs_dir_fd >= 0 && !fs->spec->linux.ns[HUSK_NS_MOUNT].path) {
		fd = husk_fs_sys->open_tree(AT_FDCWD, "", AT_EMPTY_PATH | OPEN_TREE_CLOEXEC);
		if (fd >= 0 && same_inode(fd, fs->ctx->rootfs_dir_fd))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	fd = husk_fs_sys->openat(AT_FDCWD, fs->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	return fd < 0 ? husk_err_sys(err, "open rootfs %s", fs->p->rootfs) : fd;
}

int husk_fs_prepare_root(struct husk_fs *fs, struct husk_err *err)
{
	/* Our copies of the host mounts must not push events back to the host
	 * (rslave by default, as runc); rootfsPropagation may ask otherwise. */
	if (husk_fs_sys->mount(NULL, "/", NULL, host_propagation(fs), NULL) < 0)
		return husk_err_sys(err, "set propagation of /");
	_cleanup_close_ int dir = rootfs_dir(fs, err);
	if (dir < 0 || parent_mount_private(fs, dir, err) < 0)
		return -1;
	/* The rootfs bound onto itself (a detached recursive clone attached
	 * there), or the idmapped tree the runtime made of it. */
	_cleanup_close_ int tree = HUSK_STEAL_FD(fs->ctx->idmapped_root_fd);
	bool idmapped = tree >= 0;
	if (!idmapped &&
	    (tree = husk_fs_sys->open_tree(
		 dir, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)) < 0)
		return husk_err_sys(err, "bind rootfs %s", fs->p->rootfs);
	if (husk_fs_sys->move_mount(tree, "", dir, "",
				    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return husk_err_sys(err, "%s rootfs %s", idmapped ? "attach idmapped" : "bind",
				    fs->p->rootfs);
	/* The idmapped tree was cloned in the host's namespace, before "/" was
	 * made rslave here: where the host's mounts are shared (systemd makes
	 * "/" shared), the clone is in their peer group, and pivot_root refuses
	 * a shared new root (EINVAL). It takes what the bound rootfs gets. */
	if (idmapped && husk_mount_propagate(tree, root_may_share(fs) ? MS_PRIVATE | MS_REC
								      : MS_SLAVE | MS_REC) < 0)
		return husk_err_sys(err, "set propagation of the idmapped rootfs %s",
				    fs->p->rootfs);
	/* The attached tree's fd names the new mount, where every later mount
	 * attaches and which pivot_root moves. */
	fs->ctx->root_fd = HUSK_STEAL_FD(tree);
	return 0;
}

static int do_pivot_root(struct husk_fs *fs, struct husk_err *err)
{
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then drops it without needing a directory for it. */
	if (husk_fs_sys->pivot_root(".", ".") < 0)
		return husk_err_sys(err, "pivot_root %s", fs->p->rootfs);
	/* The detach must not propagate to the host's copy of these mounts:
	 * make the old root rslave unless prepare already made it so. */
	if (root_may_share(fs) && husk_fs_sys->mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return husk_err_sys(err, "pivot_root %s: make old root rslave", fs->p->rootfs);
	if (husk_fs_sys->umount2(".", MNT_DETACH) < 0)
		return husk_err_sys(err, "pivot_root %s: detach old root", fs->p->rootfs);
	return 0;
}

/* True when mountpoint `mp` is `root` or lies under it. */
static bool path_under(const char *mp, const char *root)
{
	size_t rl = strlen(root);
	if (strcmp(root, "/") == 0)
		return true;
	return strncmp(mp, root, rl) == 0 && (mp[rl] == '/' || mp[rl] == '\0');
}

/* The mountpoints in /proc/self/mountinfo that lie outside the root and
 * are not among its ancestors, in mountinfo order (parents first). */
static char **host_mountpoints(const char *root, size_t *n)
{
	_cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, alloc = 0;
	char **v = NULL;

	*n = 0;
	if (!mi)
		return NULL;
	while (getline(&line, &cap, mi) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		husk_unescape_mountinfo(mp);
		if (path_under(mp, root) || path_under(root, mp))
			continue;
		if (*n == alloc) {
			char **bigger = realloc(v, (alloc = alloc ? 2 * alloc : 32) * sizeof(*v));
			if (!bigger)
				break;
			v = bigger;
		}
		if (!(v[*n] = strdup(mp)))
			break;
		(*n)++;
	}
	return v;
}

/* Without pivot_root the host's other mounts stay in the namespace, only
 * out of sight of the chroot. Detach every mount that is neither the root,
 * inside it, nor one of its ancestors, children before their parents; one
 * we may not detach (locked in a user namespace: EINVAL or EPERM) is
 * covered with an empty read-only tmpfs instead, as runc does. */
static int detach_host_mounts(struct husk_fs *fs, struct husk_err *err)
{
	size_t n;
	int rc = 0;

	if (husk_fs_read_root_path(fs, err) < 0)
		return -1;
	char **mps = host_mountpoints(fs->root_path, &n);
	for (size_t i = n; i-- > 0 && rc == 0;) {
		if (husk_fs_sys->umount2(mps[i], MNT_DETACH) < 0 && errno != ENOENT &&
		    ((errno != EINVAL && errno != EPERM) ||
		     husk_fs_sys->mount("tmpfs", mps[i], "tmpfs", MS_RDONLY, NULL) < 0))
			rc = husk_err_sys(err, "no-pivot: hide host mount %s", mps[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(mps[i]);
	free(mps);
	return rc;
}

static int do_move_root(struct husk_fs *fs, struct husk_err *err)
{
	if (detach_host_mounts(fs, err) < 0)
		return -1;
	if (husk_fs_sys->mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return husk_err_sys(err, "move rootfs %s onto /", fs->p->rootfs);
	if (husk_fs_sys->chroot(".") < 0)
		return husk_err_sys(err, "chroot %s", fs->p->rootfs);
	return 0;
}

int husk_fs_pivot(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_linux *l = &fs->spec->linux;

	if (husk_fs_sys->fchdir(fs->ctx->root_fd) < 0)
		return husk_err_sys(err, "chdir to rootfs %s", fs->p->rootfs);
	if ((fs->p->no_pivot ? do_move_root(fs, err) : do_pivot_root(fs, err)) < 0)
		return -1;
	if (husk_fs_sys->chdir("/") < 0)
		return husk_err_sys(err, "chdir /");
	/* Asked-for propagation of the container's "/" applies once it is "/". */
	if (l->has_rootfs_propagation &&
	    husk_fs_sys->mount(NULL, "/", NULL, l->rootfs_propagation, NULL) < 0)
		return husk_err_sys(err, "set propagation of / in the container");
	return 0;
}

int husk_fs_chroot(struct husk_fs *fs, struct husk_err *err)
{
	if (husk_fs_sys->fchdir(fs->ctx->root_fd) < 0)
		return husk_err_sys(err, "chdir to rootfs %s", fs->p->rootfs);
	if (husk_fs_sys->chroot(".") < 0)
		return husk_err_sys(err, "chroot %s", fs->p->rootfs);
	if (husk_fs_sys->chdir("/") < 0)
		return husk_err_sys(err, "chdir /");
	return 0;
}
