#include "linux/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"

/* Every seal: the copy can never change size or content again, and nobody
 * can lift the seals. */
#define SELFEXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static char **saved_argv;

void husk_selfexe_init(char **argv)
{
	saved_argv = argv;
}

bool husk_selfexe_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & SELFEXE_SEALS) == SELFEXE_SEALS;
}

static int copy_all(int dst, int src, off_t size, struct husk_err *err)
{
	off_t done = 0;
	while (done < size) {
		ssize_t n = sendfile(dst, src, NULL, (size_t)(size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return husk_err_set(err, n < 0 ? errno : EIO,
					    "copy husk binary into memfd");
		done += n;
	}
	return 0;
}

static int sealed_copy(struct husk_err *err)
{
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int mfd = -1;
	struct stat st;

	if (src < 0 || fstat(src, &st) < 0)
		return husk_err_sys(err, "open /proc/self/exe");
	mfd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return husk_err_sys(err, "memfd_create husk");
	if (copy_all(mfd, src, st.st_size, err) < 0)
		return -1;
	if (fchmod(mfd, 0555) < 0 || fcntl(mfd, F_ADD_SEALS, SELFEXE_SEALS) < 0)
		return husk_err_sys(err, "seal husk memfd");
	return HUSK_STEAL_FD(mfd);
}

int husk_selfexe_protect(struct husk_err *err)
{
	_cleanup_close_ int mfd = -1;

	if (husk_selfexe_is_sealed())
		return 0;
	/* Skipping the copy would leave the on-disk binary open to the
	 * container: a program that never said how to re-execute itself gets
	 * an error, never a silent run without the protection. */
	if (!saved_argv)
		return husk_err_plain(err, EPERM,
				      "protect the husk binary (CVE-2019-5736): "
				      "husk_selfexe_init() was never called, so husk cannot "
				      "re-execute from a sealed copy");
	mfd = sealed_copy(err);
	if (mfd < 0)
		return -1;
	husk_debug("re-executing from a sealed memfd copy");
	fexecve(mfd, saved_argv, environ);
	return husk_err_sys(err, "re-exec husk from sealed memfd");
}
