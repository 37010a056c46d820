/* husk_linux_exec on running containers: the new process sits in exactly
 * the init's namespaces, gets its own user and capabilities, failures come
 * back as errors without leftovers, and the rootless path (the caller may
 * not join the pid namespace itself) works too. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptest.h"

struct exec_out {
	int rc;
	struct husk_err err;
	char out[8192];
	int status;
};

static int exec_in(pid_t init, const struct husk_spec *spec, const char *process_json,
		   struct exec_out *o)
{
	struct husk_err perr = {0};
	struct husk_process *proc = husk_process_parse(process_json, strlen(process_json), &perr);
	int pfd[2];

	memset(o, 0, sizeof(*o));
	if (!proc) {
		fprintf(stderr, "  process: %s\n", perr.msg);
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	struct husk_exec_params p = {
	    .target_pid = init, .spec = spec, .process = proc, .cgroup_fd = -1};
	struct husk_spawn_result res;
	int saved1 = dup(1), saved2 = dup(2);
	fflush(stdout);
	fflush(stderr);
	dup2(pfd[1], 1);
	dup2(pfd[1], 2);
	o->rc = husk_linux_exec(&p, &res, &o->err);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	close(pfd[1]);
	if (o->rc == 0) {
		ptest_read_all(pfd[0], o->out, sizeof(o->out));
		while (waitpid(res.pid, &o->status, 0) < 0 && errno == EINTR)
			;
		close(res.pidfd);
	}
	close(pfd[0]);
	husk_process_free(proc);
	return 0;
}

static void stop(struct tresult *r)
{
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	ptest_free(r);
}

static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

#define NS_SCRIPT                                                                                  \
	"for n in pid net ipc uts mnt cgroup user time; do readlink /proc/self/ns/$n; done"

static int check_same_namespaces(pid_t init, const char *out)
{
	const char *names[] = {"pid", "net", "ipc", "uts", "mnt", "cgroup", "user", "time"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char ns[64], line[80];
		ptest_ns(init, names[i], ns, sizeof(ns));
		snprintf(line, sizeof(line), "%s\n", ns);
		CHECK(ns[0] && strstr(out, line), "%s: init has %s, exec'd process:\n%s", names[i],
		      ns, out);
	}
	return 0;
}

static int run_sleeper(const struct tcase *tc, struct tresult *r)
{
	CHECK(ptest_run(tc, r) == 0 && r->rc == 0, "spawn: %s", r->err.msg);
	CHECK(ptest_start(r) == 0, "start");
	/* Until its execve the init is not dumpable (CVE-2019-5736), and an
	 * unprivileged caller may not join it; wait for the exec. */
	char link[64], exe[256];
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)r->pid);
	for (int i = 0; i < 2000; i++) {
		ssize_t n = readlink(link, exe, sizeof(exe) - 1);
		exe[n < 0 ? 0 : n] = '\0';
		if (strstr(exe, "busybox"))
			return 0;
		usleep(1000);
	}
	FAILF("init never exec'd busybox (exe %s)", exe);
}

/* As root in the container: NS_SCRIPT, then TAIL (a shell command). */
#define NS_PROCESS(tail)                                                                           \
	"{\"args\":[\"sh\",\"-c\",\"" NS_SCRIPT "; " tail "\"],\"cwd\":\"/\","                     \
	"\"user\":{\"uid\":0,\"gid\":0},\"env\":[\"PATH=/bin\"]}"

/* Start TC's sleeper and exec PROCESS_JSON (an NS_PROCESS) in it: the new
 * process must sit in exactly the init's namespaces and exit 0. */
static int exec_in_init_namespaces(const struct tcase *tc, const char *process_json,
				   struct exec_out *o)
{
	struct tresult r;

	if (run_sleeper(tc, &r))
		return 1;
	int bad = exec_in(r.pid, r.spec, process_json, o);
	if (!bad && o->rc == 0)
		bad = check_same_namespaces(r.pid, o->out);
	stop(&r);
	CHECK(o->rc == 0, "exec: %s", o->err.msg);
	CHECK(!bad, "namespaces differ");
	CHECK(WIFEXITED(o->status) && WEXITSTATUS(o->status) == 0, "status %d", o->status);
	return 0;
}

static int exec_namespaces_with(const char *namespaces, const char *linux_extra)
{
	struct tcase tc = {.args = "[\"sleep\",\"60\"]",
			   .namespaces = namespaces,
			   .linux_extra = linux_extra,
			   .keep_running = true};
	struct exec_out o;

	if (exec_in_init_namespaces(&tc, NS_PROCESS("echo pid=$$"), &o))
		return 1;
	bool pidns = strstr(namespaces, "\"pid\"") != NULL;
	CHECK(!pidns || strstr(o.out, "pid=2\n") || strstr(o.out, "pid=3\n"),
	      "pid in container: %s", o.out);
	return 0;
}

static int test_exec_namespaces(void)
{
	return exec_namespaces_with(
	    "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	    "{\"type\":\"network\"},{\"type\":\"cgroup\"},{\"type\":\"time\"}]",
	    NULL);
}

static int test_exec_namespaces_userns(void)
{
	return exec_namespaces_with(
	    "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	    "{\"type\":\"user\"},{\"type\":\"cgroup\"}]",
	    ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]");
}

/* A container sharing the host's pid namespace: no pid namespace to join. */
static int test_exec_host_pid(void)
{
	return exec_namespaces_with("[{\"type\":\"mount\"},{\"type\":\"uts\"}]", NULL);
}

static int test_exec_user_caps(void)
{
	struct tcase tc = {.args = "[\"sleep\",\"60\"]", .keep_running = true};
	struct tresult r;
	struct exec_out o;

	if (run_sleeper(&tc, &r))
		return 1;
	exec_in(r.pid, r.spec,
		"{\"args\":[\"sh\",\"-c\",\"id; grep -E 'CapEff|CapInh|NoNewPrivs' "
		"/proc/self/status; pwd\"],\"cwd\":\"/tmp\",\"noNewPrivileges\":true,"
		"\"user\":{\"uid\":1000,\"gid\":1000},\"env\":[\"PATH=/bin\"],"
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
		"\"permitted\":[\"CAP_KILL\"],\"inheritable\":[\"CAP_KILL\"],"
		"\"ambient\":[\"CAP_KILL\"]}}",
		&o);
	stop(&r);
	CHECK(o.rc == 0, "exec: %s", o.err.msg);
	CHECK(strstr(o.out, "uid=1000(user) gid=1000"), "%s", o.out);
	CHECK(strstr(o.out, "CapEff:\t0000000000000020"), "%s", o.out);
	CHECK(strstr(o.out, "CapInh:\t0000000000000020"), "%s", o.out);
	CHECK(strstr(o.out, "NoNewPrivs:\t1"), "%s", o.out);
	CHECK(strstr(o.out, "\n/tmp\n"), "cwd: %s", o.out);
	return 0;
}

static int test_exec_errors(void)
{
	struct tcase tc = {.args = "[\"sleep\",\"60\"]", .keep_running = true};
	struct tresult r;
	struct exec_out o1, o2;

	if (run_sleeper(&tc, &r))
		return 1;
	exec_in(r.pid, r.spec,
		"{\"args\":[\"nosuchbin\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}", &o1);
	exec_in(r.pid, r.spec,
		"{\"args\":[\"true\"],\"cwd\":\"/nonexistent\",\"user\":{\"uid\":0,\"gid\":0},"
		"\"env\":[\"PATH=/bin\"]}",
		&o2);
	stop(&r);
	CHECK(o1.rc < 0 && o1.err.code == ENOENT && strstr(o1.err.msg, "executable file not found"),
	      "rc %d: %s", o1.rc, o1.err.msg);
	CHECK(o2.rc < 0 && strstr(o2.err.msg, "chdir /nonexistent"), "rc %d: %s", o2.rc,
	      o2.err.msg);
	CHECK(no_children(), "a process was left behind");
	return 0;
}

/* As an unprivileged user: a rootless container (one mapping, setgroups
 * denied), then exec, which cannot join the pid namespace from here and
 * goes through the CLONE_PARENT intermediate. */
static int rootless_body(void)
{
	struct tcase tc = {
	    .args = "[\"sleep\",\"60\"]",
	    .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
			  "{\"type\":\"uts\"},{\"type\":\"user\"}]",
	    .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}],"
			   "\"gidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}]",
	    .keep_running = true,
	};
	struct exec_out o;

	if (exec_in_init_namespaces(&tc, NS_PROCESS("id -u"), &o))
		return 1;
	CHECK(strstr(o.out, "\n0\n"), "id: %s", o.out);
	return 0;
}

static int test_exec_rootless(void)
{
	chmod(ptest_base, 0777);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		/* As if exec'd by the user: setresuid left us non-dumpable, which
		 * would make our children's /proc files root's. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		_exit(rootless_body());
	}
	int status;
	waitpid(pid, &status, 0);
	chmod(ptest_base, 0755);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rootless case: status %d", status);
	CHECK(no_children(), "a process was left behind");
	return 0;
}

static const struct ptest_case tests[] = {
    {"exec_namespaces", test_exec_namespaces},
    {"exec_namespaces_userns", test_exec_namespaces_userns},
    {"exec_host_pid", test_exec_host_pid},
    {"exec_user_caps", test_exec_user_caps},
    {"exec_errors", test_exec_errors},
    {"exec_rootless", test_exec_rootless},
};

int main(int argc, char **argv)
{
	return ptest_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
