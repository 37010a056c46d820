/* maskedPaths, readonlyPaths and root.readonly, done after pivot_root. Paths
 * are resolved inside the root by fd; mounts are built detached and then
 * attached onto the resolved fd, so nothing is visible half-done. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"

/* The container's /dev/null, only if it really is the null device: an image
 * that made it a link to a procfs file would otherwise have us bind that
 * file read-write over the path we were told to hide (CVE-2025-31133). */
static int open_dev_null(struct husk_fs *fs, struct husk_err *err)
{
	struct stat st;
	int fd = husk_openat2(fs->ctx->root_fd, "dev/null", O_PATH | O_NOFOLLOW, 0,
			      HUSK_RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd < 0 && errno == ELOOP)
		return husk_err_set(err, 0,
				    "mask paths: /dev/null in rootfs is not the null device");
	if (fd < 0)
		return husk_err_sys(err, "mask paths: open /dev/null");
	if (husk_fs_sys->fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3)) {
		close(fd);
		return husk_err_set(err, 0,
				    "mask paths: /dev/null in rootfs is not the null device");
	}
	return fd;
}

/* Open a configured path inside the root; 0 with *fd = -1 when it does not
 * exist, which the spec does not treat as an error. */
static int open_optional(struct husk_fs *fs, const char *path, int *fd, const char *what,
			 struct husk_err *err)
{
	*fd = husk_openat2(fs->ctx->root_fd, path, O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
	if (*fd < 0 && errno != ENOENT)
		return husk_err_sys(err, "%s %s", what, path);
	return 0;
}

/* Masking a directory: an empty read-only tmpfs hides its entries. One
 * tmpfs serves every masked directory of the container (each gets a clone of
 * the same detached mount), which saves a superblock and its kernel memory
 * per directory; a kernel that cannot clone a detached mount gets a tmpfs
 * each, as before. */
static int empty_dir_tree(int *empty_fd)
{
	if (*empty_fd < 0) {
		*empty_fd = husk_fs_new_mount("tmpfs", "tmpfs", "ro", MS_RDONLY);
		if (*empty_fd < 0)
			return -1;
	}
	int tree = husk_fs_sys->open_tree(*empty_fd, "",
					  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	return tree >= 0 ? tree : husk_fs_new_mount("tmpfs", "tmpfs", "ro", MS_RDONLY);
}

static int mask_one(struct husk_fs *fs, const char *path, int *null_fd, int *empty_fd,
		    struct husk_err *err)
{
	struct stat st;
	_cleanup_close_ int target = -1;
	_cleanup_close_ int tree = -1;

	if (open_optional(fs, path, &target, "mask", err) < 0)
		return -1;
	if (target < 0)
		return 0;
	if (husk_fs_sys->fstat(target, &st) < 0)
		return husk_err_sys(err, "mask %s", path);
	if (S_ISDIR(st.st_mode)) {
		tree = empty_dir_tree(empty_fd);
	} else {
		if (*null_fd < 0 && (*null_fd = open_dev_null(fs, err)) < 0)
			return -1;
		tree = husk_fs_sys->open_tree(*null_fd, "",
					      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	}
	if (tree < 0 || husk_move_onto(tree, target) < 0)
		return husk_err_sys(err, "mask %s", path);
	return 0;
}

int husk_fs_masked_paths(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_strv *paths = &fs->spec->linux.masked_paths;
	_cleanup_close_ int null_fd = -1;
	_cleanup_close_ int empty_fd = -1;

	for (size_t i = 0; i < paths->n; i++)
		if (mask_one(fs, paths->v[i], &null_fd, &empty_fd, err) < 0)
			return -1;
	return 0;
}

/* Bind the path onto itself read-only. The whole subtree turns read-only,
 * so a mount below it cannot be written through either; flags the original
 * had (nosuid, noexec, ...) are kept because only RDONLY is set. */
static int readonly_one(struct husk_fs *fs, const char *path, struct husk_err *err)
{
	_cleanup_close_ int target = -1;

	if (open_optional(fs, path, &target, "make read-only", err) < 0)
		return -1;
	if (target < 0)
		return 0;
	_cleanup_close_ int tree = husk_fs_sys->open_tree(
	    target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0 || husk_attach(tree, target, true, MOUNT_ATTR_RDONLY, 0) < 0)
		return husk_err_sys(err, "make read-only %s", path);
	return 0;
}

int husk_fs_readonly_paths(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_strv *paths = &fs->spec->linux.readonly_paths;

	for (size_t i = 0; i < paths->n; i++)
		if (readonly_one(fs, paths->v[i], err) < 0)
			return -1;
	return 0;
}

int husk_fs_readonly_root(struct husk_fs *fs, struct husk_err *err)
{
	if (!fs->spec->root_readonly)
		return 0;
	/* Without mount_setattr(), a remount of "/" (we are past pivot_root). */
	int rc = husk_mount_no_setattr
		     ? husk_fs_sys->mount(NULL, "/", NULL,
					  MS_REMOUNT | MS_BIND | MS_RDONLY |
					      husk_mount_flags(fs->ctx->root_fd),
					  NULL)
		     : husk_mount_setattr(fs->ctx->root_fd, false, MOUNT_ATTR_RDONLY, 0);
	if (rc < 0)
		return husk_err_sys(err, "remount / read-only");
	return 0;
}
