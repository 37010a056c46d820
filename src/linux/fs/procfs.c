/* The container's procfs, reached only through a handle we made: the fd of
 * the proc mount we attached at the spec's /proc, or, when the spec mounts
 * none, a private detached proc. Writes never go through a path in the
 * container, which the image or a racing mount could redirect
 * (CVE-2019-16884, CVE-2019-19921, CVE-2025-52881). */
#include "linux/fs/fs.h"

#include <errno.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>

int husk_procfs_check(int fd)
{
	struct statfs sfs;
	if (husk_fs_sys->fstatfs(fd, &sfs) < 0)
		return -1;
	if (sfs.f_type != PROC_SUPER_MAGIC) {
		errno = EXDEV;
		return -1;
	}
	return 0;
}

int husk_procfs_handle(struct husk_fs *fs, struct husk_err *err)
{
	if (fs->ctx->proc_fd >= 0) {
		if (husk_procfs_check(fs->ctx->proc_fd) < 0)
			return husk_err_sys(err, "procfs handle is not procfs");
		return fs->ctx->proc_fd;
	}
	int fd = husk_fs_new_mount("proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open a private procfs");
	fs->ctx->proc_fd = fd;
	return fd;
}
