/* Harness for the process-side tests; see ptest.h. */
#include "ptest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char ptest_base[64];
char ptest_rootfs[128];
pid_t ptest_pid;
static char hook_log[160];
static char fifo[160];

static const char *const hook_names[] = {"prestart",	   "createRuntime", "createContainer",
					 "startContainer", "poststart",	    "poststop"};

static int sh(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "setup failed (%d): %s\n", rc, cmd);
	return rc;
}

int ptest_init(void)
{
	char cmd[512];

	if (geteuid() != 0) {
		fprintf(stderr, "not root: skipped\n");
		return 77;
	}
	if (access("/bin/busybox", X_OK) != 0) {
		fprintf(stderr, "no /bin/busybox: skipped\n");
		return 77;
	}
	/* Reap whatever a case leaves behind; the host's PID 1 may not. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	ptest_pid = getpid();
	strcpy(ptest_base, "/tmp/husk-ptest-XXXXXX");
	if (!mkdtemp(ptest_base))
		return 1;
	chmod(ptest_base, 0755);
	snprintf(ptest_rootfs, sizeof(ptest_rootfs), "%s/rootfs", ptest_base);
	snprintf(hook_log, sizeof(hook_log), "%s/hooks.log", ptest_base);
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", ptest_base);
	/* Relative links: busybox --install -s would point them at the host path. */
	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir -p %s && cd %s && mkdir -p bin proc dev sys tmp etc && "
	    "cp /bin/busybox bin/ && "
	    "for a in $(bin/busybox --list); do [ $a = busybox ] || ln -sf busybox bin/$a; done && "
	    "touch husk-image-marker && printf 'root:x:0:0:root:/root:/bin/sh\\n"
	    "user:x:1000:1000::/home/user:/bin/sh\\n' >etc/passwd",
	    ptest_rootfs, ptest_rootfs);
	return sh(cmd) == 0 ? 0 : 1;
}

void ptest_cleanup(void)
{
	char cmd[128];
	if (!ptest_base[0] || getenv("PTEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", ptest_base);
	sh(cmd);
}

struct husk_spec *ptest_spec(const struct tcase *tc)
{
	static char json[16384];
	char args[4096];
	struct husk_err err = {0};

	if (tc->args)
		snprintf(args, sizeof(args), "%s", tc->args);
	else
		snprintf(args, sizeof(args), "[\"sh\",\"-c\",\"%s\"]", tc->script);
	const char *extra = tc->process_extra ? tc->process_extra : "";
	snprintf(
	    json, sizeof(json),
	    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\"},"
	    "\"process\":{\"args\":%s,%s\"env\":[\"PATH=/bin\"],"
	    "\"terminal\":%s%s%s},"
	    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
	    "\"options\":[\"nosuid\",\"mode=755\"]},"
	    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
	    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]}"
	    "],\"linux\":{\"namespaces\":%s%s}%s}",
	    ptest_rootfs, args, strstr(extra, "\"cwd\"") ? "" : "\"cwd\":\"/\",",
	    tc->terminal ? "true" : "false",
	    strstr(extra, "\"user\"") ? "" : ",\"user\":{\"uid\":0,\"gid\":0}", extra,
	    tc->namespaces ? tc->namespaces
			   : "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
			     "{\"type\":\"uts\"},{\"type\":\"network\"},{\"type\":\"cgroup\"}]",
	    tc->linux_extra ? tc->linux_extra : "", tc->top_extra ? tc->top_extra : "");
	struct husk_spec *spec = husk_spec_parse(json, strlen(json), &err);
	if (!spec)
		fprintf(stderr, "  spec: %s\n  in %s\n", err.msg, json);
	return spec;
}

static const char *fail_hook;
static int hook_log_fd = -1;

static int cb_created(void *ctx, pid_t pid, struct husk_err *err)
{
	return 0;
}

static int cb_hooks(void *ctx, enum husk_hook_kind kind, pid_t pid, struct husk_err *err)
{
	char ns[64] = "";
	if (readlink("/proc/self/ns/mnt", ns, sizeof(ns) - 1) < 0)
		strcpy(ns, "?");
	/* An fd from before pivot: startContainer runs where host paths are gone. */
	dprintf(hook_log_fd, "%s:%s:%s\n", hook_names[kind],
		getpid() == ptest_pid ? "runtime" : "container", ns);
	if (fail_hook && strcmp(fail_hook, hook_names[kind]) == 0)
		return husk_err_set(err, EIO, "hook %s failed", hook_names[kind]);
	return 0;
}

void ptest_read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break; /* EIO on a pty master once the slave is gone */
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
}

void ptest_ns(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	ssize_t n = readlink(path, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

void ptest_hook_log(char *buf, size_t len)
{
	int fd = open(hook_log, O_RDONLY | O_CLOEXEC);
	buf[0] = '\0';
	if (fd >= 0) {
		ptest_read_all(fd, buf, len);
		close(fd);
	}
}

static bool has_children(void)
{
	return waitpid(-1, NULL, WNOHANG) >= 0 || errno != ECHILD;
}

/* Spawn with fds 1 and 2 on the pipe's write end, so the container's
 * output comes back to us. */
static int spawn_on_pipe(const struct tcase *tc, struct tresult *r, int pipe_w, int *pty)
{
	struct husk_spawn_params p = {
	    .id = "ptest",
	    .spec = r->spec,
	    .bundle = ptest_base,
	    .rootfs = ptest_rootfs,
	    .exec_fifo = fifo,
	    .preserve_fds = tc->preserve_fds,
	    .want_pty_master = tc->terminal,
	    .cgroup_fd = tc->cgroup_fd > 0 ? tc->cgroup_fd : -1,
	    .cb = {.child_created = cb_created, .run_hooks = cb_hooks},
	};
	struct husk_spawn_result out;
	int saved1 = dup(1), saved2 = dup(2);

	fflush(stdout);
	fflush(stderr);
	dup2(pipe_w, 1);
	dup2(pipe_w, 2);
	fail_hook = tc->fail_hook;
	r->rc = husk_linux_spawn(&p, &out, &r->err);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	r->pid = r->rc == 0 ? out.pid : -1;
	r->pidfd = r->rc == 0 ? out.pidfd : -1;
	*pty = r->rc == 0 ? out.pty_master : -1;
	return 0;
}

/* As `start` does: the fifo's byte, or the init's death (never hang). */
int ptest_start(struct tresult *r)
{
	char b = 0;
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = r->pidfd, .events = POLLIN}};
	int n = poll(p, r->pidfd >= 0 ? 2 : 1, 10000);
	if (n > 0 && (p[0].revents & POLLIN))
		n = (int)read(fd, &b, 1);
	else
		n = -1;
	close(fd);
	unlink(fifo);
	if (n != 1)
		fprintf(stderr, "  start: the container process never wrote the fifo\n");
	return n == 1 && b == '0' ? 0 : -1;
}

int ptest_run(const struct tcase *tc, struct tresult *r)
{
	int pfd[2];

	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->pidfd = -1;
	if (hook_log_fd >= 0)
		close(hook_log_fd);
	hook_log_fd = -1;
	unlink(hook_log);
	unlink(fifo);
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
		return -1;
	r->spec = ptest_spec(tc);
	if (!r->spec || pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	int pty;
	if (hook_log_fd < 0)
		hook_log_fd = open(hook_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	spawn_on_pipe(tc, r, pfd[1], &pty);
	close(pfd[1]);
	if (r->rc < 0) {
		close(pfd[0]);
		unlink(fifo);
		r->orphans = has_children();
		return 0;
	}
	if (tc->keep_running) {
		close(pfd[0]);
		return 0;
	}
	/* Without the fifo's byte the process is dead, or made so. */
	r->start_failed = ptest_start(r) < 0;
	if (r->start_failed)
		kill(r->pid, SIGKILL);
	ptest_read_all(pty >= 0 ? pty : pfd[0], r->out, sizeof(r->out));
	if (pty >= 0)
		close(pty);
	close(pfd[0]);
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

void ptest_free(struct tresult *r)
{
	if (r->pidfd >= 0)
		close(r->pidfd);
	husk_spec_free(r->spec);
	r->spec = NULL;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int ptest_main(int argc, char **argv, const struct ptest_case *cases, size_t n)
{
	int rc = ptest_init(), failed = 0;
	if (rc)
		return rc;
	/* Filters are compiled every time unless a case sets a cache. */
	husk_linux_set_seccomp_cache_dir(NULL);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		int r = cases[i].fn();
		fprintf(stderr, "%s %s\n", r ? "FAIL" : "ok  ", cases[i].name);
		failed += r != 0;
	}
	ptest_cleanup();
	fprintf(stderr, "%d failed\n", failed);
	return failed ? 1 : 0;
}
