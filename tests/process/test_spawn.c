/* husk_linux_spawn driven for real on a busybox image: namespaces, id
 * maps, capabilities, rlimits, seccomp, hooks order, terminal, preserved
 * fds, the cwd escape (CVE-2024-21626), time namespace, cgroup placement,
 * and errors from the child arriving with their step and errno. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptest.h"

static bool exited_ok(const struct tresult *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

#define RUN(tc, r)                                                                                 \
	do {                                                                                       \
		CHECK(ptest_run(tc, r) == 0, "harness failed");                                    \
	} while (0)
#define SPAWNED(r) CHECK((r)->rc == 0, "spawn failed: %s", (r)->err.msg)

static int test_new_namespaces(void)
{
	struct tcase tc = {.script = "for n in pid net ipc uts mnt cgroup; do readlink "
				     "/proc/self/ns/$n; done; echo pid=$$"};
	struct tresult r;
	const char *names[] = {"pid", "net", "ipc", "uts", "mnt", "cgroup"};
	char own[64];

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ptest_ns(0, names[i], own, sizeof(own));
		CHECK(strncmp(own, names[i], strlen(names[i])) == 0, "readlink %s", names[i]);
		CHECK(!strstr(r.out, own), "%s namespace shared with the runtime: %s", names[i],
		      r.out);
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "%s:[", names[i]);
		CHECK(strstr(r.out, prefix), "no %s namespace in output: %s", names[i], r.out);
	}
	CHECK(strstr(r.out, "pid=1\n"), "not pid 1 in its namespace: %s", r.out);
	ptest_free(&r);
	return 0;
}

static const char *const userns_ns =
    "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
    "{\"type\":\"user\"}]";
static const char *const userns_maps =
    ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
    "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]";

static int host_uid_of(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ptest_read_all(fd, buf, sizeof(buf));
	close(fd);
	const char *u = strstr(buf, "\nUid:");
	return u ? atoi(u + 5) : -1;
}

static int test_user_namespace(void)
{
	struct tcase tc = {
	    .script = "cat /proc/self/uid_map; id",
	    .namespaces = userns_ns,
	    .linux_extra = userns_maps,
	    .process_extra = ",\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[10]}",
	    .keep_running = true,
	};
	struct tresult r;
	unsigned a, b, c;

	RUN(&tc, &r);
	SPAWNED(&r);
	int uid = host_uid_of(r.pid);
	CHECK(uid == 101000, "host sees uid %d, want 101000", uid);
	ptest_free(&r);
	kill(r.pid, SIGKILL);
	waitpid(r.pid, NULL, 0);

	tc.keep_running = false;
	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	CHECK(sscanf(r.out, " %u %u %u", &a, &b, &c) == 3 && a == 0 && b == 100000 && c == 65536,
	      "uid_map: %s", r.out);
	CHECK(strstr(r.out, "uid=1000(user) gid=1000 groups=10"), "id: %s", r.out);
	ptest_free(&r);
	return 0;
}

/* Joining a user namespace by path (a pod's) with new pid and mount
 * namespaces: they must belong to the joined user namespace, or mounting
 * /proc fails. */
static int test_join_user_namespace(void)
{
	struct tcase holder = {.args = "[\"sleep\",\"60\"]",
			       .namespaces = userns_ns,
			       .linux_extra = userns_maps,
			       .keep_running = true};
	struct tresult h, r;
	char ns[1024], user[64], pid[64];

	RUN(&holder, &h);
	SPAWNED(&h);
	CHECK(ptest_start(&h) == 0, "start holder");
	ptest_ns(h.pid, "user", user, sizeof(user));
	ptest_ns(h.pid, "pid", pid, sizeof(pid));
	snprintf(ns, sizeof(ns),
		 "[{\"type\":\"user\",\"path\":\"/proc/%d/ns/user\"},"
		 "{\"type\":\"ipc\",\"path\":\"/proc/%d/ns/ipc\"},"
		 "{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"}]",
		 (int)h.pid, (int)h.pid);
	struct tcase tc = {.script = "readlink /proc/self/ns/user; readlink /proc/self/ns/pid; "
				     "cat /proc/self/uid_map; echo pid=$$",
			   .namespaces = ns};
	RUN(&tc, &r);
	kill(h.pid, SIGKILL);
	waitpid(h.pid, NULL, 0);
	ptest_free(&h);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	CHECK(strstr(r.out, user), "not in the holder's user namespace %s: %s", user, r.out);
	CHECK(!strstr(r.out, pid) && strstr(r.out, "pid=1\n"), "pid namespace: %s", r.out);
	CHECK(strstr(r.out, "100000"), "uid_map: %s", r.out);
	CHECK(!r.orphans, "child left behind");
	ptest_free(&r);
	return 0;
}

static unsigned long long cap_field(const char *out, const char *name)
{
	const char *p = strstr(out, name);
	return p ? strtoull(p + strlen(name) + 1, NULL, 16) : ~0ULL;
}

static int test_capabilities(void)
{
	struct tcase tc = {
	    .script = "grep Cap /proc/self/status",
	    .process_extra = ",\"user\":{\"uid\":0,\"gid\":0},\"capabilities\":{"
			     "\"bounding\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
			     "\"effective\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
			     "\"permitted\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]}",
	};
	struct tresult r;

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	CHECK(cap_field(r.out, "CapEff:") == 0x420, "%s", r.out);
	CHECK(cap_field(r.out, "CapPrm:") == 0x420, "%s", r.out);
	CHECK(cap_field(r.out, "CapBnd:") == 0x420, "%s", r.out);
	CHECK(cap_field(r.out, "CapInh:") == 0, "inheritable not empty: %s", r.out);
	CHECK(cap_field(r.out, "CapAmb:") == 0, "%s", r.out);
	ptest_free(&r);

	tc.process_extra = ",\"user\":{\"uid\":1000,\"gid\":1000},\"capabilities\":{"
			   "\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
			   "\"permitted\":[\"CAP_KILL\"],\"inheritable\":[\"CAP_KILL\"],"
			   "\"ambient\":[\"CAP_KILL\"]}";
	RUN(&tc, &r);
	SPAWNED(&r);
	/* A non-root user keeps capabilities across execve only as ambient. */
	CHECK(cap_field(r.out, "CapInh:") == 0x20 && cap_field(r.out, "CapAmb:") == 0x20 &&
		  cap_field(r.out, "CapEff:") == 0x20 && cap_field(r.out, "CapBnd:") == 0x20,
	      "%s", r.out);
	ptest_free(&r);
	return 0;
}

static int test_rlimits(void)
{
	struct tcase tc = {
	    .script = "grep -E 'open files|core file' /proc/self/limits",
	    .process_extra =
		",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":512,\"hard\":1000},"
		"{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]",
	};
	struct tresult r;
	unsigned soft, hard;

	RUN(&tc, &r);
	SPAWNED(&r);
	const char *l = strstr(r.out, "Max open files");
	CHECK(l && sscanf(l, "Max open files %u %u", &soft, &hard) == 2 && soft == 512 &&
		  hard == 1000,
	      "%s", r.out);
	l = strstr(r.out, "Max core file size");
	CHECK(l && sscanf(l, "Max core file size %u %u", &soft, &hard) == 2 && soft == 0 &&
		  hard == 0,
	      "%s", r.out);
	ptest_free(&r);
	return 0;
}

/* Over fs.nr_open the kernel refuses even with CAP_SYS_RESOURCE. */
static int test_rlimit_error(void)
{
	char extra[256], buf[32];
	int fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "nr_open");
	ptest_read_all(fd, buf, sizeof(buf));
	close(fd);
	snprintf(extra, sizeof(extra),
		 ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":%lld}]",
		 atoll(buf) + 1);
	struct tcase tc = {.script = "true", .process_extra = extra};
	struct tresult r;

	RUN(&tc, &r);
	CHECK(r.rc < 0, "spawn succeeded");
	/* the failed step's name first (child.c's recipe), then the call */
	CHECK(strcmp(r.err.msg, "rlimits: setrlimit RLIMIT_NOFILE: Operation not permitted") == 0 &&
		  r.err.code == EPERM,
	      "error: %s (%d)", r.err.msg, r.err.code);
	CHECK(!r.orphans, "child left behind");
	ptest_free(&r);
	return 0;
}

static int test_missing_binary(void)
{
	struct tcase tc = {.args = "[\"nosuchbin\"]"};
	struct tresult r;

	RUN(&tc, &r);
	CHECK(r.rc < 0 && r.err.code == ENOENT, "rc %d: %s", r.rc, r.err.msg);
	CHECK(strstr(r.err.msg, "\"nosuchbin\": executable file not found in $PATH"), "%s",
	      r.err.msg);
	CHECK(!r.orphans, "child left behind");
	ptest_free(&r);
	return 0;
}

static int test_seccomp(void)
{
	struct tcase tc = {
	    .script = "mkdir /tmp/d; touch /tmp/f; chmod 777 /tmp/f || echo chmod777-denied; "
		      "chmod 755 /tmp/f && echo chmod755-ok; grep Seccomp: /proc/self/status",
	    .linux_extra =
		",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
		"\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":["
		"{\"names\":[\"mkdir\",\"mkdirat\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_"
		"ERRNO\","
		"\"errnoRet\":1},"
		"{\"names\":[\"chmod\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":1,\"value\":511,\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"fchmodat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":2,\"value\":511,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	    .process_extra = ",\"noNewPrivileges\":true",
	};
	struct tresult r;

	/* The image's /tmp is writable: the root is not read-only. */
	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(strstr(r.out, "can't create directory '/tmp/d': Operation not permitted"), "%s",
	      r.out);
	CHECK(strstr(r.out, "chmod777-denied"), "%s", r.out);
	CHECK(strstr(r.out, "chmod755-ok"), "%s", r.out);
	CHECK(strstr(r.out, "Seccomp:\t2"), "%s", r.out);
	ptest_free(&r);

	/* Without noNewPrivileges the filter is loaded before the caps go. */
	tc.process_extra = ",\"noNewPrivileges\":false";
	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(strstr(r.out, "Operation not permitted") && strstr(r.out, "Seccomp:\t2"), "%s",
	      r.out);
	ptest_free(&r);
	return 0;
}

static int test_seccomp_kill(void)
{
	struct tcase tc = {
	    .script = "uname -s; echo rc=$?",
	    .linux_extra = ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			   "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
	};
	struct tresult r;

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(!strstr(r.out, "Linux"), "uname ran: %s", r.out);
	CHECK(strstr(r.out, "rc=159") || (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS),
	      "not killed by SIGSYS: status %d: %s", r.status, r.out);
	ptest_free(&r);

	/* Killed during setup, before it can say anything: create says how. */
	tc.linux_extra = ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			 "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}";
	tc.process_extra = ",\"noNewPrivileges\":false";
	RUN(&tc, &r);
	CHECK(r.rc < 0 && r.err.code == ECHILD &&
		  strcmp(r.err.msg,
			 "container process killed by signal 31 (Bad system call) during setup") ==
		      0,
	      "rc %d: %s", r.rc, r.err.msg);
	CHECK(!r.orphans, "child left behind");
	ptest_free(&r);
	return 0;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

/* One message with an fd, as the seccomp agent receives it. */
static int recv_with_fd(int conn, char *buf, size_t len, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.b,
			    .msg_controllen = sizeof(control.b)};
	ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	*fd = -1;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* SCMP_ACT_NOTIFY: the listener reaches listenerPath with the state; once
 * the agent closes it, the notified syscall fails with ENOSYS. */
static int test_seccomp_notify(void)
{
	char sock[160], extra[512], msg[4096], link[64], target[64] = "";
	snprintf(sock, sizeof(sock), "%s/agent.sock", ptest_base);
	int lfd = listen_unix(sock);
	CHECK(lfd >= 0, "listen %s: %s", sock, strerror(errno));
	snprintf(extra, sizeof(extra),
		 ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
		 "\"listenerMetadata\":\"meta-1\",\"syscalls\":[{\"names\":[\"mknod\",\"mknodat\"],"
		 "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		 sock);
	struct tcase tc = {.script = "mknod /tmp/p p; echo rc=$?",
			   .linux_extra = extra,
			   .process_extra = ",\"noNewPrivileges\":true",
			   .keep_running = true};
	struct tresult r;
	RUN(&tc, &r);
	SPAWNED(&r);
	int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), nfd = -1;
	close(lfd);
	int got = conn >= 0 ? recv_with_fd(conn, msg, sizeof(msg), &nfd) : -1;
	if (nfd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", nfd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		close(nfd);
	}
	if (conn >= 0)
		close(conn);
	char pidfield[32];
	snprintf(pidfield, sizeof(pidfield), "\"pid\":%d", (int)r.pid);
	ptest_start(&r);
	waitpid(r.pid, &r.status, 0);
	ptest_free(&r);
	CHECK(got == 0 && nfd >= 0, "no listener fd received");
	CHECK(strstr(target, "seccomp"), "fd is %s", target);
	CHECK(strstr(msg, "\"seccompFd\"") && strstr(msg, "\"meta-1\"") && strstr(msg, pidfield) &&
		  strstr(msg, "\"id\":\"ptest\""),
	      "state: %s", msg);
	return 0;
}

/* personality, ioPriority, scheduler, execCPUAffinity, oomScoreAdj. */
static int test_attributes(void)
{
	struct tcase tc = {
	    .script = "uname -m; ionice -p $$; grep Cpus_allowed_list /proc/self/status; "
		      "cat /proc/self/oom_score_adj; cut -d' ' -f19 /proc/self/stat; "
		      "grep -E '^policy' /proc/self/sched",
	    .process_extra = ",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":5},"
			     "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7},"
			     "\"execCPUAffinity\":{\"initial\":\"0-1\",\"final\":\"0\"},"
			     "\"oomScoreAdj\":123",
	    .linux_extra = ",\"personality\":{\"domain\":\"LINUX32\"}",
	};
	struct tresult r;

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	CHECK(strncmp(r.out, "i686\n", 5) == 0, "personality: %s", r.out);
	CHECK(strstr(r.out, "best-effort: prio 5"), "ioprio: %s", r.out);
	CHECK(strstr(r.out, "Cpus_allowed_list:\t0\n"), "affinity: %s", r.out);
	CHECK(strstr(r.out, "\n123\n"), "oom_score_adj: %s", r.out);
	CHECK(strstr(r.out, "\n7\n"), "nice: %s", r.out);
	CHECK(strstr(r.out, "policy") && strstr(r.out, " 3\n"), "SCHED_BATCH: %s", r.out);
	ptest_free(&r);
	return 0;
}

/* A strict allow list without sendmsg: the end of setup must not need it. */
static const char *const strict_allow =
    "\"read\",\"write\",\"open\",\"openat\",\"close\",\"fstat\",\"newfstatat\",\"stat\","
    "\"mmap\",\"mprotect\",\"munmap\",\"brk\",\"rt_sigaction\",\"rt_sigprocmask\","
    "\"rt_sigreturn\",\"ioctl\",\"access\",\"getpid\",\"getppid\",\"exit\",\"exit_group\","
    "\"wait4\",\"uname\",\"fcntl\",\"getcwd\",\"chdir\",\"getuid\",\"getgid\",\"geteuid\","
    "\"getegid\",\"setgroups\",\"setresuid\",\"setresgid\",\"prctl\",\"arch_prctl\","
    "\"set_tid_address\",\"set_robust_list\",\"rseq\",\"prlimit64\",\"execve\",\"clone\","
    "\"fork\",\"vfork\",\"close_range\",\"umask\",\"getrandom\",\"readlink\",\"futex\","
    "\"sigaltstack\",\"gettid\",\"tgkill\",\"sched_getaffinity\",\"madvise\",\"mremap\"";

static int test_seccomp_strict_allow_list(void)
{
	char extra[2048];
	snprintf(
	    extra, sizeof(extra),
	    ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":95,"
	    "\"syscalls\":[{\"names\":[%s,\"capget\",\"capset\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
	    strict_allow);
	for (int nnp = 0; nnp < 2; nnp++) {
		struct tcase tc = {.script = "echo alive; mkdir /tmp/x",
				   .linux_extra = extra,
				   .process_extra = nnp ? ",\"noNewPrivileges\":true"
							: ",\"noNewPrivileges\":false"};
		struct tresult r;
		RUN(&tc, &r);
		SPAWNED(&r);
		CHECK(strstr(r.out, "alive") && strstr(r.out, "Operation not supported"),
		      "nnp %d: %s", nnp, r.out);
		ptest_free(&r);
	}
	/* capset denied after the filter is in: the error still travels. */
	snprintf(extra, sizeof(extra),
		 ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":95,"
		 "\"syscalls\":[{\"names\":[%s],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		 strict_allow);
	struct tcase tc = {
	    .script = "true", .linux_extra = extra, .process_extra = ",\"noNewPrivileges\":false"};
	struct tresult r;
	RUN(&tc, &r);
	CHECK(r.rc < 0 && strcmp(r.err.msg, "capabilities: capset: Operation not supported") == 0,
	      "rc %d: %s", r.rc, r.err.msg);
	CHECK(!r.orphans, "child left behind");
	ptest_free(&r);
	return 0;
}

static int test_home_from_passwd(void)
{
	const char *users[] = {",\"user\":{\"uid\":0,\"gid\":0}",
			       ",\"user\":{\"uid\":1000,\"gid\":1000}",
			       ",\"user\":{\"uid\":1234,\"gid\":1234}"};
	const char *want[] = {"HOME=/root\n", "HOME=/home/user\n", "HOME=/\n"};
	for (int i = 0; i < 3; i++) {
		struct tcase tc = {.script = "env | grep ^HOME=", .process_extra = users[i]};
		struct tresult r;
		RUN(&tc, &r);
		SPAWNED(&r);
		CHECK(strcmp(r.out, want[i]) == 0, "want %s got %s", want[i], r.out);
		ptest_free(&r);
	}
	return 0;
}

static int cache_files(const char *dir, char *first, size_t len)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strstr(e->d_name, ".bpf") && e->d_name[0] != '.') {
			if (n++ == 0)
				snprintf(first, len, "%s/%s", dir, e->d_name);
		}
	if (d)
		closedir(d);
	return n;
}

/* Rewrite a cache entry with an allow-everything program, keeping its
 * profile text (flip_text: also change one byte of that text). */
static int plant_allow_all(const char *path, bool flip_text)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	uint64_t text_len;
	if (n < 16)
		return -1;
	memcpy(&text_len, buf + 8, 8);
	size_t off = 16 + (size_t)text_len;
	if (flip_text)
		buf[20] ^= 1;
	uint64_t count = 1;
	memcpy(buf + off, &count, 8);
	struct {
		uint16_t code;
		uint8_t jt, jf;
		uint32_t k;
	} allow = {0x06, 0, 0, 0x7fff0000};
	memcpy(buf + off + 8, &allow, 8);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, off + 16) != (ssize_t)(off + 16))
		return -1;
	close(fd);
	return 0;
}

/* The compiled-filter cache: used on a hit (a planted program shows it),
 * ignored when the stored profile text differs, unused when not private. */
static int test_seccomp_cache(void)
{
	char dir[160], entry[256];
	snprintf(dir, sizeof(dir), "%s/sc-cache", ptest_base);
	CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
	husk_linux_set_seccomp_cache_dir(dir);
	struct tcase tc = {
	    .script = "mkdir /tmp/cache-probe && echo made; rmdir /tmp/cache-probe",
	    .linux_extra = ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			   "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"};
	struct tresult r;
	int failed = 0;
	const char *step = "";

	RUN(&tc, &r);
	bool denied =
	    r.rc == 0 && strstr(r.out, "Operation not permitted") && !strstr(r.out, "made");
	ptest_free(&r);
	if (!denied || cache_files(dir, entry, sizeof(entry)) != 1 ||
	    plant_allow_all(entry, false)) {
		step = "first run: denied and stored";
		failed = 1;
	}
	if (!failed) {
		RUN(&tc, &r);
		failed = !(r.rc == 0 && strstr(r.out, "made"));
		step = "planted program not used: the cache is not read";
		ptest_free(&r);
	}
	if (!failed) {
		plant_allow_all(entry, true);
		RUN(&tc, &r);
		failed = !(r.rc == 0 && !strstr(r.out, "made"));
		step = "entry with another profile text was used";
		ptest_free(&r);
	}
	if (!failed) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -f %s/*.bpf && chmod 0777 %s", dir, dir);
		failed = system(cmd) != 0;
		RUN(&tc, &r);
		ptest_free(&r);
		failed = failed || cache_files(dir, entry, sizeof(entry)) != 0;
		step = "a directory others can write was used";
	}
	husk_linux_set_seccomp_cache_dir(NULL);
	CHECK(!failed, "%s", step);
	return 0;
}

static const char *const all_hooks =
    ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}],"
    "\"createRuntime\":[{\"path\":\"/bin/true\"}],\"createContainer\":[{\"path\":\"/bin/true\"}],"
    "\"startContainer\":[{\"path\":\"/bin/true\"}]}";

static int report_fd = -1;

/* The runtime's prestart step: say which process waits, then hang. */
static int hang_in_hooks(void *ctx, enum husk_hook_kind kind, pid_t pid, struct husk_err *err)
{
	if (write(report_fd, &pid, sizeof(pid)) != sizeof(pid))
		return husk_err_set(err, EIO, "report");
	pause();
	return 0;
}

/* The runtime dies (SIGKILL) while the container process waits on it:
 * the process must notice and exit, not stay behind. */
static int test_runtime_death(void)
{
	struct tcase tc = {.script = "true", .top_extra = all_hooks};
	struct husk_spec *spec = ptest_spec(&tc);
	char fifo_path[160];
	int pfd[2];

	CHECK(spec && pipe2(pfd, O_CLOEXEC) == 0, "setup");
	snprintf(fifo_path, sizeof(fifo_path), "%s/death.fifo", ptest_base);
	mkfifo(fifo_path, 0622);
	pid_t runtime = fork();
	if (runtime == 0) {
		report_fd = pfd[1];
		struct husk_spawn_params p = {.id = "death",
					      .spec = spec,
					      .bundle = ptest_base,
					      .rootfs = ptest_rootfs,
					      .exec_fifo = fifo_path,
					      .cgroup_fd = -1,
					      .cb = {.run_hooks = hang_in_hooks}};
		struct husk_spawn_result out;
		struct husk_err err;
		_exit(husk_linux_spawn(&p, &out, &err) < 0 ? 1 : 0);
	}
	close(pfd[1]);
	pid_t child = -1;
	ssize_t n = read(pfd[0], &child, sizeof(child));
	close(pfd[0]);
	kill(runtime, SIGKILL);
	waitpid(runtime, NULL, 0);
	husk_spec_free(spec);
	CHECK(n == sizeof(child) && child > 0, "no container process reported");
	/* We are the subreaper: the orphan is ours to reap. */
	int status = 0, waited = 0;
	for (; waited < 5000; waited++) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		usleep(1000);
	}
	if (waited == 5000) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	unlink(fifo_path);
	CHECK(waited < 5000, "container process %d outlived its runtime", (int)child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	return 0;
}

static int test_hooks_order(void)
{
	struct tcase tc = {.script = "echo ran", .top_extra = all_hooks};
	struct tresult r;
	char log[2048], own[64], want[512];

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r) && strstr(r.out, "ran"), "%s", r.out);
	ptest_hook_log(log, sizeof(log));
	ptest_ns(0, "mnt", own, sizeof(own));
	/* Runtime hooks in our mount namespace, container ones elsewhere. */
	snprintf(want, sizeof(want), "prestart:runtime:%s\ncreateRuntime:runtime:%s\n", own, own);
	CHECK(strncmp(log, want, strlen(want)) == 0, "log:\n%s", log);
	const char *cc = log + strlen(want);
	CHECK(strncmp(cc, "createContainer:container:mnt:[", 31) == 0 && !strstr(cc, own),
	      "log:\n%s", log);
	const char *sc = strchr(cc, '\n');
	CHECK(sc && strncmp(sc + 1, "startContainer:container:mnt:[", 30) == 0, "log:\n%s", log);
	ptest_free(&r);
	return 0;
}

static int test_hook_failure(void)
{
	const char *kinds[] = {"createRuntime", "createContainer"};
	for (size_t i = 0; i < 2; i++) {
		struct tcase tc = {.script = "true", .top_extra = all_hooks, .fail_hook = kinds[i]};
		struct tresult r;
		char want[64];
		RUN(&tc, &r);
		snprintf(want, sizeof(want), "hook %s failed", kinds[i]);
		CHECK(r.rc < 0 && strstr(r.err.msg, want), "rc %d: %s", r.rc, r.err.msg);
		CHECK(!r.orphans, "child left behind");
		ptest_free(&r);
	}
	/* startContainer fails after "ready" and after the fifo byte (start
	 * succeeds, as with runc, and goes on to the poststart hooks): the
	 * process says why on its stderr and exits without running the program. */
	struct tcase tc = {
	    .script = "echo must-not-run", .top_extra = all_hooks, .fail_hook = "startContainer"};
	struct tresult r;
	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(!r.start_failed, "start failed");
	CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1, "status %d", r.status);
	CHECK(strstr(r.out, "hook startContainer failed") && !strstr(r.out, "must-not-run"), "%s",
	      r.out);
	ptest_free(&r);
	return 0;
}

static int test_terminal(void)
{
	struct tcase tc = {
	    .script = "tty; stty size; ls -l /dev/console",
	    .terminal = true,
	    .process_extra = ",\"consoleSize\":{\"height\":30,\"width\":100}",
	};
	struct tresult r;

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(exited_ok(&r), "status %d: %s", r.status, r.out);
	CHECK(strstr(r.out, "/dev/pts/0\r\n30 100\r\n"), "%s", r.out);
	CHECK(strstr(r.out, "136,   0"), "/dev/console is not the pty: %s", r.out);
	ptest_free(&r);
	return 0;
}

static int test_preserve_fds(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/preserved", ptest_base);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "preserved-ok\n", 13) == 13, "write %s", path);
	lseek(fd, 0, SEEK_SET);
	CHECK(dup2(fd, 3) == 3, "dup2");
	if (fd != 3)
		close(fd);
	/* fd 4 is open in the runtime too, but not preserved. */
	int extra = open("/dev/null", O_RDONLY);
	CHECK(extra == 4, "fd 4 expected, got %d", extra);

	struct tcase tc = {.args = "[\"sleep\",\"30\"]", .preserve_fds = 1, .keep_running = true};
	struct tresult r;
	RUN(&tc, &r);
	close(3);
	close(extra);
	SPAWNED(&r);
	CHECK(ptest_start(&r) == 0, "start");
	/* Once sleep runs, exactly stdio and the preserved fd are open. */
	char dir[64], cmdline[64] = "", fds[128] = "", target[256] = "";
	snprintf(dir, sizeof(dir), "/proc/%d/cmdline", (int)r.pid);
	for (int i = 0; i < 2000 && strcmp(cmdline, "sleep") != 0; i++) {
		int cfd = open(dir, O_RDONLY | O_CLOEXEC);
		if (cfd >= 0) {
			ptest_read_all(cfd, cmdline, sizeof(cmdline));
			close(cfd);
		}
		usleep(1000);
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)r.pid);
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.')
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s ", e->d_name);
	if (d)
		closedir(d);
	snprintf(dir, sizeof(dir), "/proc/%d/fd/3", (int)r.pid);
	ssize_t n = readlink(dir, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	kill(r.pid, SIGKILL);
	waitpid(r.pid, NULL, 0);
	ptest_free(&r);
	CHECK(strcmp(cmdline, "sleep") == 0, "never exec'd: %s", cmdline);
	CHECK(strcmp(fds, "0 1 2 3 ") == 0, "fds in the container: %s", fds);
	CHECK(strcmp(target, path) == 0, "fd 3 is %s", target);
	return 0;
}

/* CVE-2024-21626: cwd through a runtime fd must not land on the host. */
static int test_cwd_escape(void)
{
	for (int n = 3; n < 16; n++) {
		char extra[64];
		snprintf(extra, sizeof(extra), ",\"cwd\":\"/proc/self/fd/%d\"", n);
		struct tcase tc = {.script = "pwd", .process_extra = extra};
		struct tresult r;
		RUN(&tc, &r);
		if (r.rc == 0)
			CHECK(r.out[0] == '/' && !strstr(r.out, "unreachable"),
			      "fd %d: cwd escaped: %s", n, r.out);
		else
			CHECK(!r.orphans, "child left behind");
		ptest_free(&r);
	}
	return 0;
}

static int test_time_namespace(void)
{
	struct tcase tc = {
	    .script = "cat /proc/uptime",
	    .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"time\"}]",
	    .linux_extra = ",\"timeOffsets\":{\"boottime\":{\"secs\":100000000,\"nanosecs\":0}}",
	};
	struct tresult r;

	RUN(&tc, &r);
	SPAWNED(&r);
	CHECK(atof(r.out) > 100000000.0, "uptime %s", r.out);
	ptest_free(&r);
	return 0;
}

/* CLONE_INTO_CGROUP (or its fallback) on the cgroup2 hierarchy. */
static int test_cgroup(void)
{
	char dir[128], name[64];
	const char *root = NULL;

	if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
		root = "/sys/fs/cgroup/unified";
	else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		root = "/sys/fs/cgroup";
	if (!root) {
		fprintf(stderr, "  no cgroup2 hierarchy: skipped\n");
		return 0;
	}
	snprintf(name, sizeof(name), "husk-ptest-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	CHECK(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct tcase tc = {
	    .script = "grep ^0:: /proc/self/cgroup", .cgroup_fd = fd, .keep_running = true};
	struct tresult r;
	int ret = ptest_run(&tc, &r);
	char path[64], buf[1024], want[96];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)r.pid);
	int cfd = r.rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	buf[0] = '\0';
	if (cfd >= 0) {
		ptest_read_all(cfd, buf, sizeof(buf));
		close(cfd);
	}
	if (r.rc == 0) {
		ptest_start(&r);
		waitpid(r.pid, &r.status, 0);
	}
	close(fd);
	rmdir(dir);
	CHECK(ret == 0 && r.rc == 0, "spawn: %s", r.err.msg);
	snprintf(want, sizeof(want), "0::/%s\n", name);
	CHECK(strstr(buf, want), "host view of the cgroup: %s", buf);
	ptest_free(&r);
	return 0;
}

static const struct ptest_case tests[] = {
    {"new_namespaces", test_new_namespaces},
    {"user_namespace", test_user_namespace},
    {"join_user_namespace", test_join_user_namespace},
    {"capabilities", test_capabilities},
    {"rlimits", test_rlimits},
    {"rlimit_error", test_rlimit_error},
    {"attributes", test_attributes},
    {"missing_binary", test_missing_binary},
    {"seccomp", test_seccomp},
    {"seccomp_kill", test_seccomp_kill},
    {"seccomp_notify", test_seccomp_notify},
    {"seccomp_cache", test_seccomp_cache},
    {"seccomp_strict_allow_list", test_seccomp_strict_allow_list},
    {"home_from_passwd", test_home_from_passwd},
    {"hooks_order", test_hooks_order},
    {"hook_failure", test_hook_failure},
    {"runtime_death", test_runtime_death},
    {"terminal", test_terminal},
    {"preserve_fds", test_preserve_fds},
    {"cwd_escape", test_cwd_escape},
    {"time_namespace", test_time_namespace},
    {"cgroup", test_cgroup},
};

int main(int argc, char **argv)
{
	return ptest_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
