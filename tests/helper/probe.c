/* probe: runs inside a test container and prints what it sees as JSON.
 *
 * Usage: probe CMD [ARGS] [+ CMD [ARGS]]...
 * Each command prints one JSON object on its own line, so one container run
 * can answer several questions. Exit status: 0, or 2 on a usage error. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

extern char **environ;

/* ---- tiny JSON writer: commas are tracked per nesting level ---- */
static int need_comma[32];
static int depth;

static void sep(void)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = 1;
}

static void jstr_raw(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f) /* UTF-8 passes through as is */
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void key(const char *k)
{
	sep();
	if (!k)
		return;
	jstr_raw(k);
	putchar(':');
}

static void open_c(const char *k, char c)
{
	key(k);
	putchar(c);
	need_comma[++depth] = 0;
}

#define obj(k) open_c(k, '{')
#define arr(k) open_c(k, '[')

static void end(char c)
{
	depth--;
	putchar(c);
}

static void jstr(const char *k, const char *v)
{
	key(k);
	if (v)
		jstr_raw(v);
	else
		fputs("null", stdout);
}

static void jint(const char *k, long long v)
{
	key(k);
	printf("%lld", v);
}

static void jbool(const char *k, int v)
{
	key(k);
	fputs(v ? "true" : "false", stdout);
}

/* ---- helpers ---- */
static char *read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

/* ---- commands ---- */
static int cmd_ids(char **argv)
{
	gid_t groups[256];
	int n = getgroups(256, groups);
	mode_t mask = umask(0);
	umask(mask);
	jint("uid", getuid());
	jint("gid", getgid());
	jint("euid", geteuid());
	jint("egid", getegid());
	arr("groups");
	for (int i = 0; i < n; i++)
		jint(NULL, groups[i]);
	end(']');
	jint("umask", mask);
	return 0;
}

static int cmd_caps(char **argv)
{
	static const char *fields[][2] = {
	    {"CapInh", "inheritable"}, {"CapPrm", "permitted"},
	    {"CapEff", "effective"},   {"CapBnd", "bounding"},
	    {"CapAmb", "ambient"},     {"NoNewPrivs", "no_new_privs"},
	    {"Seccomp", "seccomp"},    {"Seccomp_filters", "seccomp_filters"}};
	FILE *f = fopen("/proc/self/status", "re");
	char line[512], k[64], v[128];
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %127s", k, v) != 2)
			continue;
		for (size_t i = 0; i < 8; i++)
			if (strcmp(k, fields[i][0]) == 0 && i < 5) /* masks stay hex strings */
				jstr(fields[i][1], v);
			else if (strcmp(k, fields[i][0]) == 0)
				jint(fields[i][1], atoll(v));
	}
	fclose(f);
	return 0;
}

static int cmd_ns(char **argv)
{
	DIR *d = opendir("/proc/self/ns");
	struct dirent *de;
	struct stat st;
	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			jint(de->d_name, (long long)st.st_ino);
	closedir(d);
	return 0;
}

static int cmd_rlimits(char **argv)
{
#define RL(r)                                                                                      \
	{                                                                                          \
		r, #r                                                                              \
	}
	static const struct {
		int res;
		const char *name;
	} lims[] = {
	    RL(RLIMIT_AS),     RL(RLIMIT_CORE),	  RL(RLIMIT_CPU),	 RL(RLIMIT_DATA),
	    RL(RLIMIT_FSIZE),  RL(RLIMIT_LOCKS),  RL(RLIMIT_MEMLOCK),	 RL(RLIMIT_MSGQUEUE),
	    RL(RLIMIT_NICE),   RL(RLIMIT_NOFILE), RL(RLIMIT_NPROC),	 RL(RLIMIT_RSS),
	    RL(RLIMIT_RTPRIO), RL(RLIMIT_RTTIME), RL(RLIMIT_SIGPENDING), RL(RLIMIT_STACK)};
#undef RL
	struct rlimit rl;
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		if (getrlimit(lims[i].res, &rl) < 0)
			continue;
		obj(lims[i].name);
		/* -1 stands for RLIM_INFINITY */
		jint("soft", rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
		jint("hard", rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
		end('}');
	}
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static char *unescape(char *s)
{
	char *o = s, *r = s;
	while (*r) {
		if (r[0] == '\\' && isdigit((unsigned char)r[1]) && isdigit((unsigned char)r[2]) &&
		    isdigit((unsigned char)r[3])) {
			*o++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*o++ = *r++;
		}
	}
	*o = 0;
	return s;
}

static int cmd_mounts(char **argv)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	if (!f)
		return 1;
	arr("mounts");
	while (fgets(line, sizeof(line), f)) {
		char *fields[64], *save = NULL, *tok;
		int n = 0, dash = -1;
		line[strcspn(line, "\n")] = 0;
		for (tok = strtok_r(line, " ", &save); tok && n < 64;
		     tok = strtok_r(NULL, " ", &save)) {
			if (strcmp(tok, "-") == 0 && dash < 0)
				dash = n;
			fields[n++] = tok;
		}
		if (dash < 6 || n < dash + 3)
			continue;
		obj(NULL);
		jstr("mount_point", unescape(fields[4]));
		jstr("root", unescape(fields[3]));
		jstr("options", fields[5]);
		/* optional fields (shared:N master:N ...) come before the dash */
		arr("propagation");
		for (int i = 6; i < dash; i++)
			jstr(NULL, fields[i]);
		end(']');
		jstr("fstype", fields[dash + 1]);
		jstr("source", unescape(fields[dash + 2]));
		jstr("super_options", n > dash + 3 ? fields[dash + 3] : "");
		end('}');
	}
	end(']');
	fclose(f);
	return 0;
}

static int cmd_open(char **argv)
{
	int rw = argv[1] && strcmp(argv[1], "rw") == 0;
	int fd = open(argv[0], (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	jstr("path", argv[0]);
	jint("errno", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Each entry tries one syscall in a way that is harmless when it succeeds;
 * the result is 0 or the errno it failed with. */
static long try_syscall(const char *name, const char *arg)
{
	long a = arg ? strtol(arg, NULL, 0) : 0;
	long r;
	if (strcmp(name, "getpid") == 0)
		r = syscall(SYS_getpid);
	else if (strcmp(name, "keyctl") == 0)
		r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	else if (strcmp(name, "add_key") == 0)
		r = syscall(SYS_add_key, "user", "probe", "x", 1, -3);
	else if (strcmp(name, "unshare-user") == 0)
		r = unshare(CLONE_NEWUSER);
	else if (strcmp(name, "unshare-ns") == 0)
		r = unshare(CLONE_NEWNS);
	else if (strcmp(name, "unshare") == 0)
		r = unshare(0);
	else if (strcmp(name, "mount") == 0) {
		r = mount("probe", "/tmp", "tmpfs", 0, "size=16k");
		if (r == 0)
			umount("/tmp");
	} else if (strcmp(name, "bpf") == 0) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		r = syscall(SYS_bpf, BPF_MAP_GET_NEXT_ID, &attr, sizeof(attr));
	} else if (strcmp(name, "ptrace") == 0)
		r = ptrace(PTRACE_PEEKUSER, getpid(), 0, 0); /* ESRCH when allowed */
	else if (strcmp(name, "mknod") == 0) {
		r = mknod("/tmp/.probe-node", S_IFCHR | 0600, makedev(1, 3));
		if (r == 0)
			unlink("/tmp/.probe-node");
	} else if (strcmp(name, "personality") == 0) {
		r = personality(arg ? (unsigned long)a : 0xffffffffUL);
		if (r >= 0 && arg)
			personality((unsigned long)r); /* restore */
		r = r < 0 ? -1 : 0;
	} else if (strcmp(name, "getpriority") == 0)
		r = getpriority(PRIO_PROCESS, 0);
	else if (strcmp(name, "uname") == 0) {
		struct utsname u;
		r = uname(&u);
	} else if (strcmp(name, "chroot") == 0)
		r = chroot("/");
	else if (strcmp(name, "sethostname") == 0) {
		char h[65] = "";
		gethostname(h, sizeof(h) - 1);
		r = sethostname(h, strlen(h));
	} else if (strcmp(name, "setuid") == 0)
		r = setuid(getuid());
	else if (strcmp(name, "kill") == 0)
		r = kill(getpid(), (int)a);
	else if (strcmp(name, "getpriority-x86") == 0) {
		/* the i386 entry (nr 96), audited as AUDIT_ARCH_I386 */
		long ret;
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(96L), "b"(0L), "c"(0L) : "memory");
		return ret < 0 && ret > -4096 ? -ret : 0;
	} else if (strcmp(name, "mkdir") == 0)
		r = mkdir("/tmp/.probe-dir", 0700); /* left: `stat` shows if it was made */
	else if (strcmp(name, "dup3") == 0) {
		r = dup3(1, (int)(a ? a : 100), O_CLOEXEC);
		if (r >= 0)
			close((int)r);
	} else
		return -2;
	return r < 0 ? errno : 0;
}

static int cmd_syscall(char **argv)
{
	for (; *argv; argv++) {
		char name[64];
		const char *arg = strchr(*argv, ':');
		size_t len = arg ? (size_t)(arg - *argv) : strlen(*argv);
		long r;
		snprintf(name, sizeof(name), "%.*s", (int)len, *argv);
		r = try_syscall(name, arg ? arg + 1 : NULL);
		if (r == -2) {
			fprintf(stderr, "probe: unknown syscall %s\n", name);
			return 2;
		}
		jint(*argv, r);
	}
	return 0;
}

static volatile sig_atomic_t sigsys_count;
static volatile int sigsys_nr;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	sigsys_count++;
	sigsys_nr = si->si_syscall;
}

/* SCMP_ACT_TRAP: a shell cannot catch SIGSYS, so the probe does and says
 * which syscall number the kernel reported. */
static int cmd_trap_syscall(char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	sigsys_count = 0;
	if (try_syscall(argv[0], NULL) == -2) {
		fprintf(stderr, "probe: unknown syscall %s\n", argv[0]);
		return 2;
	}
	jint("sigsys", sigsys_count);
	jint("nr", sigsys_count ? sigsys_nr : -1);
	return 0;
}

static int cmd_cwd(char **argv)
{
	char buf[4096];
	jstr("cwd", getcwd(buf, sizeof(buf)));
	return 0;
}

static int cmd_fds(char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char target[4096];
	if (!d)
		return 1;
	obj("fds");
	while ((de = readdir(d))) {
		ssize_t n;
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = 0;
		jstr(de->d_name, target);
	}
	end('}');
	closedir(d);
	return 0;
}

static int cmd_env(char **argv)
{
	arr("env");
	for (char **e = environ; *e; e++)
		jstr(NULL, *e);
	end(']');
	return 0;
}

static int cmd_tty(char **argv)
{
	char stat[1024];
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	arr("isatty");
	for (int i = 0; i < 3; i++)
		jbool(NULL, isatty(i));
	end(']');
	jstr("ttyname", ttyname(0));
	jint("devtty_errno", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	/* field 7 of /proc/self/stat is tty_nr; the comm field may contain spaces */
	if (read_file("/proc/self/stat", stat, sizeof(stat))) {
		char *p = strrchr(stat, ')');
		int tty_nr = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr) == 1)
			jint("ctty", tty_nr);
		jint("sid", getsid(0));
		jint("pgrp", getpgrp());
	}
	return 0;
}

static int cmd_hostname(char **argv)
{
	struct utsname u;
	if (uname(&u) < 0)
		return 1;
	jstr("hostname", u.nodename);
	jstr("domainname", u.domainname);
	return 0;
}

/* oom, personality and sched: how the kernel will schedule and kill us */
static int cmd_sched(char **argv)
{
	char buf[64];
	cpu_set_t cpus;
	if (!read_file("/proc/self/oom_score_adj", buf, sizeof(buf)))
		return 1;
	jint("oom_score_adj", atol(buf));
	jint("personality", personality(0xffffffffUL));
	jint("policy", sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
	jint("nice", getpriority(PRIO_PROCESS, 0));
	jint("ioprio", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
	jint("cpus", sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : -1);
	return 0;
}

static int cmd_pid(char **argv)
{
	jint("pid", getpid());
	jint("ppid", getppid());
	return 0;
}

static int cmd_stat(char **argv)
{
	struct stat st;
	char target[4096];
	for (; *argv; argv++) {
		obj(*argv);
		if (lstat(*argv, &st) < 0) {
			jint("errno", errno);
			end('}');
			continue;
		}
		jstr("type", S_ISCHR(st.st_mode)    ? "char"
			     : S_ISBLK(st.st_mode)  ? "block"
			     : S_ISDIR(st.st_mode)  ? "dir"
			     : S_ISLNK(st.st_mode)  ? "symlink"
			     : S_ISFIFO(st.st_mode) ? "fifo"
						    : "file");
		jint("mode", st.st_mode & 07777);
		jint("uid", st.st_uid);
		jint("gid", st.st_gid);
		jint("major", major(st.st_rdev));
		jint("minor", minor(st.st_rdev));
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(*argv, target, sizeof(target) - 1);
			target[n < 0 ? 0 : n] = 0;
			jstr("target", target);
		}
		end('}');
	}
	return 0;
}

static int cmd_sleep(char **argv)
{
	unsigned n = argv[0] ? (unsigned)atoi(argv[0]) : 1;
	while (n)
		n = sleep(n);
	jint("slept", 1);
	return 0;
}

/* Blocks every signal, says it is ready, then reports the first one. */
static int cmd_signal_wait(char **argv)
{
	sigset_t all;
	siginfo_t si;
	int sig;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	jbool("ready", 1);
	putchar('}');
	putchar('\n');
	fflush(stdout);
	need_comma[0] = 0;
	putchar('{');
	/* SIGURG is skipped: runc's Go runtime uses it for preemption and its
	 * foreground `run` forwards it to the container. */
	do
		sig = sigwaitinfo(&all, &si);
	while (sig == SIGURG);
	jint("signal", sig);
	return 0;
}

/* clang-format off */
static const struct {
	const char *name;
	int min_args;
	int (*run)(char **argv);
} commands[] = {
	{"ids", 0, cmd_ids}, {"caps", 0, cmd_caps}, {"ns", 0, cmd_ns}, {"rlimits", 0, cmd_rlimits},
	{"mounts", 0, cmd_mounts}, {"open", 1, cmd_open}, {"syscall", 1, cmd_syscall},
	{"cwd", 0, cmd_cwd}, {"fds", 0, cmd_fds}, {"env", 0, cmd_env}, {"tty", 0, cmd_tty},
	{"hostname", 0, cmd_hostname}, {"oom", 0, cmd_sched}, {"personality", 0, cmd_sched},
	{"sched", 0, cmd_sched}, {"pid", 0, cmd_pid}, {"stat", 1, cmd_stat},
	{"sleep", 0, cmd_sleep}, {"signal-wait", 0, cmd_signal_wait},
	{"trap-syscall", 1, cmd_trap_syscall}
};
/* clang-format on */

static int run_one(char **argv, int argc)
{
	if (strcmp(argv[0], "exit") == 0) {
		fflush(stdout);
		_exit(argv[1] ? atoi(argv[1]) : 0);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int rc;
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (argc - 1 < commands[i].min_args) {
			fprintf(stderr, "probe: %s needs an argument\n", argv[0]);
			return 2;
		}
		need_comma[0] = 0; /* every command leaves depth balanced at 0 */
		putchar('{');
		rc = commands[i].run(argv + 1);
		putchar('}');
		putchar('\n');
		fflush(stdout);
		return rc;
	}
	fprintf(stderr, "probe: unknown command %s\n", argv[0]);
	return 2;
}

int main(int argc, char **argv)
{
	int start = 1, rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: probe CMD [ARGS] [+ CMD [ARGS]]...\n");
		return 2;
	}
	/* split argv on "+" and run each command in turn */
	for (int i = 1; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], "+") != 0)
			continue;
		argv[i < argc ? i : argc] = NULL;
		if (i > start)
			rc = run_one(argv + start, i - start);
		if (rc)
			return rc;
		start = i + 1;
	}
	return rc;
}
