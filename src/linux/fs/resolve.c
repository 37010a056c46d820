/* Scoped path resolution in userspace, for where openat2() is missing
 * (ENOSYS: an old kernel, or a seccomp profile that predates it, as in
 * nested containers). It walks one component at a time with O_NOFOLLOW and
 * follows the RESOLVE_* rules husk uses: IN_ROOT (symlinks and ".." clamped
 * to the starting directory), BENEATH (leaving it is EXDEV), NO_SYMLINKS
 * (ELOOP) and NO_XDEV (crossing a mount is EXDEV). Unlike the kernel it
 * cannot stop a concurrent rename from moving a directory under it, which
 * is why openat2 is used whenever it exists. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MAX_LINKS 40

struct walk {
	int root; /* the scope */
	dev_t root_dev;
	ino_t root_ino;
	dev_t dev; /* for RESOLVE_NO_XDEV */
	uint64_t resolve;
	int links;
	char rest[2 * PATH_MAX]; /* what is left to resolve */
};

static bool is_root(const struct walk *w, int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == w->root_dev && st.st_ino == w->root_ino;
}

/* Replace the walk's remaining path with `target` followed by `after`. */
static int splice_target(struct walk *w, const char *target, const char *after)
{
	char next[sizeof(w->rest)];
	if (snprintf(next, sizeof(next), "%s/%s", target, after) >= (int)sizeof(next))
		return errno = ENAMETOOLONG, -1;
	memcpy(w->rest, next, sizeof(next));
	return 0;
}

/* An absolute path (or link target) starts again at the scope's top. */
static int restart(struct walk *w, int *cur)
{
	if (!(w->resolve & RESOLVE_IN_ROOT))
		return errno = EXDEV, -1;
	int fd = openat(w->root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(*cur);
	*cur = fd;
	return 0;
}

static int step_up(struct walk *w, int *cur)
{
	if (is_root(w, *cur)) {
		if (w->resolve & RESOLVE_IN_ROOT)
			return 0; /* ".." of the root is the root */
		return errno = EXDEV, -1;
	}
	int fd = openat(*cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(*cur);
	*cur = fd;
	return 0;
}

static int check_xdev(const struct walk *w, int fd)
{
	struct stat st;
	if (!(w->resolve & RESOLVE_NO_XDEV))
		return 0;
	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_dev == w->dev ? 0 : (errno = EXDEV, -1);
}

/* Follow symlink `name` in `cur`: its target replaces it in the walk. */
static int follow(struct walk *w, int *cur, const char *name, const char *after)
{
	char target[PATH_MAX];

	if (w->resolve & RESOLVE_NO_SYMLINKS || ++w->links > MAX_LINKS)
		return errno = ELOOP, -1;
	ssize_t n = readlinkat(*cur, name, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	if (target[0] == '/' && restart(w, cur) < 0)
		return -1;
	return splice_target(w, target, after);
}

/* The last component: opened with the caller's flags, never through a link. */
static int open_last(struct walk *w, int cur, const char *name, uint64_t flags, mode_t mode)
{
	int fd = openat(cur, name, (int)(flags | O_NOFOLLOW | O_CLOEXEC), mode);
	if (fd < 0 || check_xdev(w, fd) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		return errno = saved, -1;
	}
	return fd;
}

int husk_resolve_fallback(int dirfd, const char *path, uint64_t flags, mode_t mode,
			  uint64_t resolve)
{
	struct walk w = {.root = dirfd, .resolve = resolve};
	struct stat st;
	char name[NAME_MAX + 1];

	if (fstat(dirfd, &st) < 0)
		return -1;
	w.root_dev = w.dev = st.st_dev;
	w.root_ino = st.st_ino;
	snprintf(w.rest, sizeof(w.rest), "%s", path);
	_cleanup_close_ int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || (w.rest[0] == '/' && restart(&w, &cur) < 0))
		return -1;

	for (;;) {
		char *p = w.rest;
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n == 0) /* nothing left: the path named a directory */
			return (flags & O_PATH) ? HUSK_STEAL_FD(cur)
						: open_last(&w, cur, ".", flags, mode);
		if (n > NAME_MAX)
			return errno = ENAMETOOLONG, -1;
		memcpy(name, p, n);
		name[n] = '\0';
		const char *after = p + n;
		while (*after == '/')
			after++;
		bool last = *after == '\0';
		memmove(w.rest, after, strlen(after) + 1);

		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (step_up(&w, &cur) < 0)
				return -1;
			continue;
		}
		_cleanup_close_ int next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &st) < 0)
			return -1;
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			if (follow(&w, &cur, name, w.rest) < 0)
				return -1;
			continue;
		}
		if (last)
			return open_last(&w, cur, name, flags, mode);
		if (!S_ISDIR(st.st_mode))
			return errno = ENOTDIR, -1;
		if (check_xdev(&w, next) < 0)
			return -1;
		close(cur);
		cur = HUSK_STEAL_FD(next);
	}
}
