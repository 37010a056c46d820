/* Marking the fds past the preserved ones close-on-exec, so execve closes
 * them. close_range(2) does it in one call; where it is refused (kernels
 * before 5.11, or a seccomp filter around the runtime itself that does not
 * know it, like Docker's profiles of 2019-2021) one fcntl per open fd, the
 * fds listed from /proc/self/fd, as runc falls back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "linux/internal.h"

static int set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	if (flags < 0)
		return errno == EBADF ? 0 : -1;
	if (flags & FD_CLOEXEC)
		return 0;
	return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* One entry per open fd; the directory's own fd is closed with it. */
static int cloexec_listed(int dfd, unsigned int first)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd < first || fd == dirfd(d))
			continue;
		rc = set_cloexec((int)fd);
	}
	closedir(d);
	return rc;
}

/* Without any /proc: every number below the fd limit. */
static int cloexec_all(unsigned int first)
{
	struct rlimit rl;
	unsigned long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;

	for (unsigned long fd = first; fd < max && fd <= (unsigned long)INT32_MAX; fd++)
		if (set_cloexec((int)fd) < 0)
			return -1;
	return 0;
}

int husk_fds_cloexec_from(unsigned int first, int proc_fd, struct husk_err *err)
{
	int dfd;

	if (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EPERM && errno != EINVAL)
		return husk_err_sys(err, "close_range");
	/* proc_fd is the host's /proc (O_PATH), where the container's may be
	 * missing; exec has none and uses the container's. */
	dfd = proc_fd >= 0 ? openat(proc_fd, "self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			   : open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((dfd >= 0 ? cloexec_listed(dfd, first) : cloexec_all(first)) < 0)
		return husk_err_sys(err, "mark fds from %u close-on-exec", first);
	return 0;
}
