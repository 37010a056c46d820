#include "state/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/io.h"

int husk_state_dir_create(const char *root, const char *id, struct husk_err *err)
{
	_cleanup_close_ int root_fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int fd;

	if (root_fd < 0 && errno == ENOENT) {
		if (husk_mkdir_parents(root, 0755, 0700, err) < 0)
			return -1;
		root_fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	}
	if (root_fd < 0)
		return husk_err_sys(err, "open state root %s", root);
	if (mkdirat(root_fd, id, 0711) < 0) {
		if (errno == EEXIST)
			return husk_err_plain(err, EEXIST, "container already exists");
		return husk_err_sys(err, "mkdir %s/%s", root, id);
	}
	fd = openat(root_fd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open %s/%s", root, id);
	return fd;
}

int husk_state_dir_open(const char *root, const char *id, struct husk_err *err)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/%s", root, id) < 0)
		return husk_err_sys(err, "allocate");
	fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return husk_err_plain(err, ENOENT, "container does not exist");
	if (fd < 0)
		return husk_err_sys(err, "open %s", path);
	return fd;
}

int husk_state_lock(int dir_fd, struct husk_err *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = openat(dir_fd, HUSK_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return husk_err_sys(err, "open lock file");
	while (fcntl(fd, F_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			husk_err_sys(err, "lock container state");
			close(fd);
			return -1;
		}
	}
	return fd;
}

bool husk_state_lock_held(int dir_fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	_cleanup_close_ int fd = openat(dir_fd, HUSK_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	/* F_GETLK names a conflicting lock of another process, if any. */
	return fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/* No fsync: the store lives on tmpfs (/run) and dies with the machine, so
 * rename alone gives readers the whole old or the whole new file. */
int husk_state_write_file(int dir_fd, const char *name, const char *data, size_t len, mode_t mode,
			  struct husk_err *err)
{
	char tmp[256];
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	/* The pid file may live in a directory others can write (/tmp): never
	 * follow or reuse whatever sits at the temporary name. */
	for (int tries = 0;; tries++) {
		fd =
		    openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST || tries == 3)
			break;
		unlinkat(dir_fd, tmp, 0);
	}
	if (fd < 0)
		return husk_err_sys(err, "create %s", tmp);
	if (husk_write_all(fd, data, len) < 0) {
		husk_err_sys(err, "write %s", tmp);
		close(fd);
		unlinkat(dir_fd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		husk_err_sys(err, "rename %s to %s", tmp, name);
		unlinkat(dir_fd, tmp, 0);
		return -1;
	}
	return 0;
}

int husk_state_save(int dir_fd, const struct husk_container *c, struct husk_err *err)
{
	_cleanup_free_ char *text = husk_state_encode(c, HUSK_STATE_RECORD, false);

	if (!text)
		return husk_err_plain(err, errno, "encode state of %s: %s", c->id,
				      errno == ENOMEM ? "out of memory" : "a string is not UTF-8");
	return husk_state_write_file(dir_fd, HUSK_STATE_FILE, text, strlen(text), 0600, err);
}

int husk_state_load(int dir_fd, struct husk_container *c, struct husk_err *err)
{
	_cleanup_free_ char *text =
	    husk_read_file(dir_fd, HUSK_STATE_FILE, HUSK_STATE_MAX, NULL, err);

	if (!text)
		return -1;
	if (husk_state_decode(text, HUSK_STATE_RECORD, c, err) < 0)
		return husk_err_prefix(err, err->code == ENOMEM ? "load %s" : "corrupt %s",
				       HUSK_STATE_FILE);
	return 0;
}

/* A directory a backend made in the state directory (the vm backend's
 * share: empty mount points whose bind mounts lived in another mount
 * namespace), emptied and removed. Never across a mount point: a directory
 * that is one here is refused, and nothing below it touched. */
static int remove_subdir(int parent, const char *name, int depth)
{
	struct statx stx;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int fd;

	if (depth > 4 || statx(parent, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0 ||
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT &&
	     stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		errno = EBUSY;
		return -1;
	}
	fd = openat(parent, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0 &&
		    (errno != EISDIR || remove_subdir(fd, e->d_name, depth + 1) < 0))
			return -1;
	}
	return unlinkat(parent, name, AT_REMOVEDIR);
}

/* Every entry of the directory (fd, taken over), listed: only for what the
 * store does not know by name (a temporary file left by a crash, what a
 * backend keeps there). */
static int remove_listed(int fd, const char *path, struct husk_err *err)
{
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		close(fd);
		return husk_err_sys(err, "open %s", path);
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT &&
		    (errno != EISDIR || remove_subdir(fd, e->d_name, 1) < 0))
			return husk_err_sys(err, "remove %s/%s", path, e->d_name);
	}
	if (rmdir(path) < 0 && errno != ENOENT)
		return husk_err_sys(err, "remove %s", path);
	return 0;
}

int husk_state_remove(const char *root, const char *id, struct husk_err *err)
{
	static const char *const known[] = {HUSK_CONFIG_FILE, HUSK_FIFO_FILE, HUSK_CGROUP_FILE,
					    HUSK_STATE_FILE, HUSK_LOCK_FILE};
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/%s", root, id) < 0)
		return husk_err_sys(err, "allocate");
	fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : husk_err_sys(err, "open %s", path);
	/* The files the store writes, by name: no listing in the usual case. */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (unlinkat(fd, known[i], 0) < 0 && errno != ENOENT) {
			husk_err_sys(err, "remove %s/%s", path, known[i]);
			close(fd);
			return -1;
		}
	}
	if (rmdir(path) == 0 || errno == ENOENT) {
		close(fd);
		return 0;
	}
	if (errno != ENOTEMPTY && errno != EEXIST) {
		husk_err_sys(err, "remove %s", path);
		close(fd);
		return -1;
	}
	return remove_listed(fd, path, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int husk_state_list(const char *root, char ***ids, size_t *n, struct husk_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	char **v = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : husk_err_sys(err, "open state root %s", root);
	while ((e = readdir(d))) {
		/* Ids may start with "." (".c1"); only "." and ".." are not ids.
		 * "@" is no id character: "@userns" (userns_auto.c) and any
		 * other directory of husk's own beside the containers. */
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    e->d_name[0] == '@' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if (count == cap) {
			char **bigger = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!bigger)
				goto oom;
			v = bigger;
		}
		if (!(v[count] = strdup(e->d_name)))
			goto oom;
		count++;
	}
	if (count > 1)
		qsort(v, count, sizeof(*v), cmp_str);
	*ids = v;
	*n = count;
	return 0;
oom:
	for (size_t i = 0; i < count; i++)
		free(v[i]);
	free(v);
	return husk_err_set(err, ENOMEM, "list containers");
}

/* "/proc/<pid>/stat" into path (at least 32 bytes), without printf. */
static void proc_stat_path(char *path, pid_t pid)
{
	char digits[16], *d = digits + sizeof(digits);
	unsigned v = (unsigned)pid;
	size_t n;

	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = (size_t)(digits + sizeof(digits) - d);
	memcpy(path, "/proc/", 6);
	memcpy(path + 6, d, n);
	memcpy(path + 6 + n, "/stat", 6);
}

int husk_proc_stat(pid_t pid, uint64_t *start_time, bool *alive, struct husk_err *err)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	unsigned long long start = 0;
	char state = 0, *p;
	ssize_t n;

	*alive = false;
	*start_time = 0;
	proc_stat_path(path, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : husk_err_sys(err, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ESRCH ? 0 : husk_err_sys(err, "read %s", path);
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: parse after the last
	 * ')'. Then state (field 3) and, 19 fields on, starttime (22); by hand,
	 * sscanf costs more than the rest of the read. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return husk_err_plain(err, EINVAL, "parse %s", path);
	state = p[2];
	p += 3;
	for (int field = 4; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || p[1] < '0' || p[1] > '9')
		return husk_err_plain(err, EINVAL, "parse %s", path);
	start = strtoull(p + 1, NULL, 10);
	*start_time = start;
	*alive = state != 'Z' && state != 'X';
	return 0;
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian, the
 * usual era arithmetic). Not gmtime_r(): glibc's loads the time zone
 * (/etc/localtime, seven syscalls) on its first call, even for UTC. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void husk_rfc3339(const struct timespec *ts, char *buf, size_t size)
{
	int64_t secs = ts->tv_sec % 86400, days = ts->tv_sec / 86400;
	unsigned month, day;
	int year;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ", year, month, day,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), ts->tv_nsec);
}

void husk_rfc3339_now(char *buf, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	husk_rfc3339(&ts, buf, size);
}
