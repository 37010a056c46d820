/* tmpcopyup (crun's extension, used by Podman): a tmpfs mounted over an
 * image directory starts with a copy of what the directory held. The copy
 * walks both trees by fd with O_NOFOLLOW, so links in the image are copied
 * as links and never followed. */
#include "linux/fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define COPYUP_MAX_DEPTH 64

static int copy_tree(int src, int dst, int depth);

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in =
	    husk_fs_sys->openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (in < 0)
		return -1;
	_cleanup_close_ int out = husk_fs_sys->openat(
	    dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -1;
	for (off_t left = st->st_size; left > 0;) {
		ssize_t n = sendfile(out, in, NULL, (size_t)(left > 1 << 30 ? 1 << 30 : left));
		if (n <= 0)
			return n < 0 ? -1 : 0; /* the file shrank meanwhile */
		left -= n;
	}
	return 0;
}

static int copy_entry(int src, int dst, const char *name, int depth)
{
	struct stat st;
	char target[PATH_MAX];

	if (husk_fs_sys->fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if (husk_fs_sys->mkdirat(dst, name, 0700) < 0)
			return -1;
		_cleanup_close_ int s = husk_fs_sys->openat(
		    src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		_cleanup_close_ int d = husk_fs_sys->openat(
		    dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (s < 0 || d < 0 || copy_tree(s, d, depth + 1) < 0)
			return -1;
	} else if (S_ISREG(st.st_mode)) {
		if (copy_file(src, dst, name, &st) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = husk_fs_sys->readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return husk_fs_sys->symlinkat(target, dst, name) < 0
			   ? -1
			   : husk_fs_sys->fchownat(dst, name, st.st_uid, st.st_gid,
						   AT_SYMLINK_NOFOLLOW);
	} else if (husk_fs_sys->mknodat(dst, name, st.st_mode & ~07777, st.st_rdev) < 0) {
		return -1;
	}
	if (husk_fs_sys->fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return husk_fs_sys->fchmodat(dst, name, st.st_mode & 07777, 0);
}

static int copy_tree(int src, int dst, int depth)
{
	if (depth > COPYUP_MAX_DEPTH)
		return errno = ELOOP, -1;
	int dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 3); /* fdopendir takes it over */
	if (dup_fd < 0)
		return -1;
	_cleanup_closedir_ DIR *dir = fdopendir(dup_fd);
	if (!dir) {
		close(dup_fd);
		return -1;
	}
	for (struct dirent *e; (errno = 0, e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (copy_entry(src, dst, e->d_name, depth) < 0)
			return -1;
	}
	return errno ? -1 : 0;
}

/* Open the directory about to be covered, so its entries stay reachable. */
int husk_copyup_open(int target_fd)
{
	return husk_fs_sys->openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
}

/* Copy everything from the covered directory into the tmpfs now on top of
 * it, keeping the top directory's own mode and owner too. */
int husk_copyup(int covered_fd, int tmpfs_fd)
{
	struct stat st;
	if (husk_fs_sys->fstat(covered_fd, &st) < 0 || copy_tree(covered_fd, tmpfs_fd, 0) < 0)
		return -1;
	if (husk_fs_sys->fchown(tmpfs_fd, st.st_uid, st.st_gid) < 0)
		return -1;
	return husk_fs_sys->fchmod(tmpfs_fd, st.st_mode & 07777);
}
