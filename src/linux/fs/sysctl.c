/* linux.sysctl: each key written under the container's procfs handle. The
 * lookup may not leave procfs (no symlinks, no mount crossing) and the file
 * opened is checked to be procfs before anything is written to it. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

static int write_sysctl(int proc_fd, const char *key, const char *value, struct husk_err *err)
{
	char path[PATH_MAX];
	size_t len = strlen(value);

	/* "net.ipv4.ip_forward" names /proc/sys/net/ipv4/ip_forward. */
	if (snprintf(path, sizeof(path), "sys/%s", key) >= (int)sizeof(path))
		return husk_err_set(err, ENAMETOOLONG, "sysctl %s", key);
	for (char *c = path + 4; *c; c++)
		if (*c == '.')
			*c = '/';
	_cleanup_close_ int fd = husk_openat2(proc_fd, path, O_WRONLY | O_NOFOLLOW, 0,
					      HUSK_RESOLVE_STRICT | RESOLVE_NO_XDEV);
	if (fd < 0)
		return husk_err_sys(err, "sysctl %s: open /proc/%s", key, path);
	if (husk_procfs_check(fd) < 0)
		return husk_err_sys(err, "sysctl %s: /proc/%s is not procfs", key, path);
	if (write(fd, value, len) != (ssize_t)len)
		return husk_err_sys(err, "sysctl %s: write %s", key, value);
	return 0;
}

int husk_fs_sysctl(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_kvv *sysctl = &fs->spec->linux.sysctl;

	if (sysctl->n == 0)
		return 0;
	int proc_fd = husk_procfs_handle(fs, err);
	if (proc_fd < 0)
		return -1;
	for (size_t i = 0; i < sysctl->n; i++)
		if (write_sysctl(proc_fd, sysctl->v[i].key, sysctl->v[i].value, err) < 0)
			return -1;
	return 0;
}
