/* Opening and creating paths of the container by fd. A path from config.json
 * or the image is only ever looked up relative to an fd of the rootfs (or of
 * a directory inside it) with openat2's RESOLVE_* scoping, so a symlink
 * planted in the image, or swapped in by a racing container, cannot carry a
 * lookup, a mkdir or a mount out of the root. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

bool husk_fdpath_no_openat2;

int husk_openat2(int dirfd, const char *path, uint64_t flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
	    .flags = flags | O_CLOEXEC,
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = resolve,
	};
	long fd;

	if (husk_fdpath_no_openat2)
		return husk_resolve_fallback(dirfd, path, flags, mode, resolve);
	/* RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename could have
	 * let ".." escape; the kernel asks us to retry. */
	do
		fd = husk_fs_sys->openat2(dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd < 0 && errno == ENOSYS) {
		husk_fdpath_no_openat2 = true; /* remembered: one probe per process */
		return husk_resolve_fallback(dirfd, path, flags, mode, resolve);
	}
	return (int)fd;
}

int husk_open_at(int dirfd, const char *path, uint64_t flags, uint64_t resolve,
		 struct husk_err *err)
{
	int fd = husk_openat2(dirfd, path, flags, 0, resolve);
	if (fd < 0)
		return husk_err_sys(err, "open %s in rootfs", path);
	return fd;
}

/* Split "a/b/c" into parent "a/b" and base "c" (trailing slashes ignored);
 * the parent of "c" is ".", of "/c" is "/". Returns -1 when there is no
 * usable base name ("", "/", "x/..") or a part does not fit. */
int husk_split_path(const char *path, char *parent, size_t plen, char *base, size_t blen)
{
	size_t n = strlen(path), i;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (i = n; i > 0 && path[i - 1] != '/'; i--)
		;
	if (n - i == 0 || n - i >= blen || i + 2 > plen)
		return -1;
	memcpy(base, path + i, n - i);
	base[n - i] = '\0';
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -1;
	while (i > 1 && path[i - 1] == '/')
		i--;
	if (i == 0)
		memcpy(parent, ".", 2);
	else {
		memcpy(parent, path, i);
		parent[i] = '\0';
	}
	return 0;
}

static int mkdir_walk(int dirfd, const char *path, mode_t mode, uint64_t resolve, int links,
		      struct husk_err *err);

/* `name` in parent_fd exists but does not resolve: a dangling symlink. Where
 * the kernel would resolve it inside the root goes to `next`: an absolute
 * target starts again at the root, a relative one from `parent`, and a ".."
 * is resolved again from the root, so it is clamped there (IN_ROOT). */
static int dangling_target(const char *verb, int parent_fd, const char *parent, const char *name,
			   int links, char *next, size_t len, struct husk_err *err)
{
	char target[PATH_MAX];
	ssize_t n = husk_fs_sys->readlinkat(parent_fd, name, target, sizeof(target) - 1);

	if (n < 0)
		return husk_err_set(err, ENOENT, "%s %s/%s in rootfs", verb, parent, name);
	target[n] = '\0';
	if (links >= 40)
		return husk_err_set(err, ELOOP, "%s %s/%s in rootfs", verb, parent, name);
	int used = target[0] == '/' ? snprintf(next, len, "%s", target)
				    : snprintf(next, len, "%s/%s", parent, target);
	if (used >= (int)len)
		return husk_err_set(err, ENAMETOOLONG, "%s %s/%s in rootfs", verb, parent, name);
	return 0;
}

/* Continue with a dangling link's target, so the directory is made where the
 * link points, still inside the root (as runc and crun do). */
static int follow_dangling(int dirfd, int parent_fd, const char *parent, const char *name,
			   mode_t mode, uint64_t resolve, int links, struct husk_err *err)
{
	char next[PATH_MAX];

	if (dangling_target("mkdir", parent_fd, parent, name, links, next, sizeof(next), err) < 0)
		return -1;
	return mkdir_walk(dirfd, next, mode, resolve, links + 1, err);
}

/* Open directory `path`, creating what is missing from the deepest existing
 * ancestor down: each new directory is made with mkdirat() in its parent's
 * fd, which was resolved inside the scope `resolve` allows, and the path is
 * then resolved again from dirfd, so a symlink is only ever followed within
 * that scope. The common cases cost one lookup (all there) or four (the last
 * component missing). */
static int mkdir_walk(int dirfd, const char *path, mode_t mode, uint64_t resolve, int links,
		      struct husk_err *err)
{
	char parent[PATH_MAX], name[NAME_MAX + 1];
	int fd = husk_openat2(dirfd, path, O_PATH | O_DIRECTORY, 0, resolve);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return husk_err_sys(err, "open %s in rootfs", path);
	if (husk_split_path(path, parent, sizeof(parent), name, sizeof(name)) < 0)
		return husk_err_set(err, ENOENT, "mkdir %s in rootfs", path);
	_cleanup_close_ int parent_fd = mkdir_walk(dirfd, parent, mode, resolve, links, err);
	if (parent_fd < 0)
		return -1;
	if (husk_fs_sys->mkdirat(parent_fd, name, mode) < 0 && errno != EEXIST)
		return husk_err_sys(err, "mkdir %s in rootfs", path);
	fd = husk_openat2(dirfd, path, O_PATH | O_DIRECTORY, 0, resolve);
	if (fd < 0 && errno == ENOENT)
		return follow_dangling(dirfd, parent_fd, parent, name, mode, resolve, links, err);
	if (fd < 0)
		return husk_err_sys(err, "open %s in rootfs", path);
	return fd;
}

/* O_PATH fd of directory `path` under dirfd, created (with parents) if missing. */
int husk_mkdir_at(int dirfd, const char *path, mode_t mode, uint64_t resolve, struct husk_err *err)
{
	return mkdir_walk(dirfd, path, mode, resolve, 0, err);
}

static int mkfile_walk(int dirfd, const char *path, mode_t mode, uint64_t resolve, int links,
		       struct husk_err *err)
{
	char parent[PATH_MAX], base[NAME_MAX + 1], next[PATH_MAX];
	int fd = husk_openat2(dirfd, path, O_PATH, 0, resolve);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return husk_err_sys(err, "open %s in rootfs", path);
	if (husk_split_path(path, parent, sizeof(parent), base, sizeof(base)) < 0)
		return husk_err_set(err, EINVAL, "create %s in rootfs", path);

	_cleanup_close_ int dir = mkdir_walk(dirfd, parent, 0755, resolve, links, err);
	if (dir < 0)
		return -1;
	/* O_EXCL|O_NOFOLLOW: never open something that appeared meanwhile. */
	fd = husk_fs_sys->openat(dir, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
				 mode);
	if (fd < 0 && errno == EEXIST)
		fd = husk_openat2(dirfd, path, O_PATH, 0, resolve);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return husk_err_sys(err, "create %s in rootfs", path);
	/* There but not resolving: a dangling link, created at its target. */
	if (dangling_target("create", dir, parent, base, links, next, sizeof(next), err) < 0)
		return -1;
	return mkfile_walk(dirfd, next, mode, resolve, links + 1, err);
}

/* fd of the non-directory `path` under dirfd; a missing one is created as an
 * empty regular file (a bind-mount target), its parents as directories. A
 * dangling link in the way is followed inside the root, as for directories. */
int husk_mkfile_at(int dirfd, const char *path, mode_t mode, uint64_t resolve, struct husk_err *err)
{
	return mkfile_walk(dirfd, path, mode, resolve, 0, err);
}

/* Where fd lies, as a path from the container's root ("/dev/pts"); an error
 * naming `dest` when it lies outside the root. */
int husk_fd_root_path(const struct husk_fs *fs, int fd, const char *dest, char *out, size_t len,
		      struct husk_err *err)
{
	char link[32], got[PATH_MAX];
	size_t rl = strlen(fs->root_path);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = husk_fs_sys->readlinkat(AT_FDCWD, link, got, sizeof(got) - 1);
	if (n < 0)
		return husk_err_sys(err, "mount destination %s: check", dest);
	got[n] = '\0';
	if (rl == 1)
		rl = 0; /* the root is the host's "/" */
	else if (strncmp(got, fs->root_path, rl) != 0 || (got[rl] != '/' && got[rl] != '\0'))
		return husk_err_plain(err, EXDEV,
				      "mount destination %s: resolves outside the rootfs (%s)",
				      dest, got);
	snprintf(out, len, "%s", got[rl] ? got + rl : "/");
	return 0;
}

/* After mounting onto fd, make sure the place it names is still inside the
 * root: a directory renamed away by a racing process must not carry our
 * mount with it (CVE-2021-30465). */
int husk_fd_check_inside(const struct husk_fs *fs, int fd, const char *dest, struct husk_err *err)
{
	char path[PATH_MAX];
	return husk_fd_root_path(fs, fd, dest, path, sizeof(path), err);
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
void husk_unescape_mountinfo(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*out++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}
