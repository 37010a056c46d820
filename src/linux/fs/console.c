/* /dev/console: the pty slave bound onto an empty file in the container's
 * /dev. The target is opened without following links and must be a regular
 * file or a device node: a planted symlink (CVE-2025-52565) gets an error. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

static int open_console_target(int dev_fd, struct husk_err *err)
{
	struct stat st;
	int fd = husk_fs_sys->openat(dev_fd, "console",
				     O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST)
		fd = husk_openat2(dev_fd, "console", O_PATH | O_NOFOLLOW, 0, HUSK_RESOLVE_STRICT);
	if (fd < 0)
		return husk_err_sys(err, "create /dev/console");
	if (husk_fs_sys->fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		close(fd);
		return husk_err_plain(err, EINVAL, "/dev/console: not a regular file or device");
	}
	return fd;
}

/* The slave's devpts mount may belong to another mount namespace, where
 * open_tree() refuses to clone it; classic bind through /proc/self/fd then. */
static int bind_slave(int slave_fd, int target_fd)
{
	char src[32];
	_cleanup_close_ int tree = husk_fs_sys->open_tree(
	    slave_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree >= 0)
		return husk_move_onto(tree, target_fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", slave_fd);
	return husk_mount_on_fd(src, target_fd, NULL, MS_BIND, NULL);
}

int husk_fs_bind_console(struct husk_fs *fs, int pty_slave_fd, struct husk_err *err)
{
	_cleanup_close_ int dev_fd = husk_fs_open_dev(fs->ctx->root_fd, err);
	if (dev_fd < 0)
		return -1;
	_cleanup_close_ int target = open_console_target(dev_fd, err);
	if (target < 0)
		return -1;
	if (bind_slave(pty_slave_fd, target) < 0)
		return husk_err_sys(err, "mount pty on /dev/console");
	return husk_fd_check_inside(fs, target, "/dev/console", err);
}
