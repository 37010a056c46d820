#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

int husk_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Room for one more byte and the NUL after `used`; false with err set. */
static bool grow(char **buf, size_t *cap, size_t used, const char *name, struct husk_err *err)
{
	size_t need = used + 1;
	char *bigger;

	if (need < *cap)
		return true;
	bigger = realloc(*buf, *cap * 2);
	if (!bigger) {
		husk_err_set(err, ENOMEM, "read %s", name);
		return false;
	}
	*buf = bigger;
	*cap *= 2;
	return true;
}

/* No fstat for the size: the files read most (state.json, the cgroup
 * note) are small, and one buffer of 4 KiB takes them in one read. */
char *husk_read_fd(int fd, const char *name, size_t max, size_t *len, struct husk_err *err)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);

	if (!buf) {
		husk_err_set(err, ENOMEM, "read %s", name);
		return NULL;
	}
	for (;;) {
		ssize_t n;
		if (!grow(&buf, &cap, used, name, err))
			goto fail;
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			husk_err_sys(err, "read %s", name);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (max && used > max) {
			husk_err_plain(err, EFBIG, "read %s: larger than %zu bytes", name, max);
			goto fail;
		}
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
fail:
	free(buf);
	return NULL;
}

char *husk_read_file(int dir_fd, const char *path, size_t max, size_t *len, struct husk_err *err)
{
	_cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		husk_err_sys(err, "open %s", path);
		return NULL;
	}
	return husk_read_fd(fd, path, max, len, err);
}

int husk_mkdir_parents(const char *path, mode_t parents_mode, mode_t mode, struct husk_err *err)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return husk_err_sys(err, "allocate");
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, parents_mode) < 0 && errno != EEXIST)
			return husk_err_sys(err, "mkdir %s", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return husk_err_sys(err, "mkdir %s", copy);
	return 0;
}
