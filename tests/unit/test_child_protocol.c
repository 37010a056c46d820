/* The parent/child conversation of the linux backend without root: a
 * forked child runs a recipe of steps (husk_steps_run, the runner of
 * child.c's tables) and reports over the socketpair as the container
 * process does; the parent serves it with husk_spawn_complete, as spawn and
 * exec do. Every way the child can fail reaches the parent with the failed
 * step's name and errno, and nothing is left behind: no process, no fd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "linux/internal.h"

/* ---- the harness ----------------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void assert_nothing_left(int fds_before)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(count_fds(), fds_before);
}

struct hooks_seen {
	int calls[HUSK_HOOK_KIND_COUNT];
	int fail_kind; /* -1: none fails */
};

static int fake_run_hooks(void *ctx, enum husk_hook_kind kind, pid_t pid, struct husk_err *err)
{
	struct hooks_seen *seen = ctx;
	seen->calls[kind]++;
	assert_true(pid > 0);
	if ((int)kind == seen->fail_kind)
		return husk_err_set(err, EIO, "hook %d", (int)kind);
	return 0;
}

/* What the parent does to the child before serving it: nothing, or send
 * a message (a GO, or one the child's phase does not expect). */
struct run_opts {
	int parent_sends; /* a message type, 0 for none */
	int setup_rc;	  /* the parent's own set-up result before serving */
	bool want_hooks;
	struct hooks_seen *hooks;
};

struct run_result {
	int rc;
	struct husk_err err;
	struct husk_spawn_result out;
};

static struct husk_spec spec;
static struct husk_process proc;
static struct husk_spawn_params params;

/* Fork a child that runs `steps` as the container process runs its recipe
 * (husk_child_enter, the runner, an error message or READY) and serve it. */
static struct run_result run_child(const struct husk_step *steps, size_t n,
				   const struct run_opts *o)
{
	struct run_result r = {.out = {.pid = -1, .pidfd = -1, .pty_master = -1}};
	struct husk_child c = husk_child_new(&spec, &proc, true, NULL, 0);
	struct husk_spawn_callbacks cb = {.ctx = o->hooks,
					  .run_hooks = o->want_hooks ? fake_run_hooks : NULL};

	params = (struct husk_spawn_params){.spec = &spec, .cb = cb};
	c.p = &params;
	husk_err_clear(&r.err);
	int sock = husk_child_socketpair(&c, &r.err);
	assert_true(sock >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct husk_err err;
		husk_err_clear(&err);
		husk_child_enter(&c);
		if (husk_steps_run(steps, n, &c, &err) < 0)
			husk_child_fail(&c, &err);
		if (husk_msg_write(c.sock, HUSK_MSG_READY, 0, &err) < 0)
			_exit(1);
		_exit(0);
	}
	close(c.sock);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	if (o->parent_sends)
		assert_int_equal(husk_msg_send(sock, o->parent_sends, pid, -1, &r.err), 0);
	struct husk_serve_ctx s = {.spec = &spec, .id = "t", .bundle = "/", .cb = &cb, .pid = pid};
	r.rc = husk_spawn_complete(&s, sock, pidfd, o->setup_rc, &r.out, &r.err);
	close(sock);
	if (r.rc == 0) {
		/* a child that reached "ready" exits by itself here */
		assert_int_equal(r.out.pid, pid);
		assert_true(waitpid(pid, NULL, 0) == pid);
		close(r.out.pidfd);
	}
	return r;
}

/* ---- fake steps -------------------------------------------------------------- */

static int ran; /* in the child: how many steps ran (reported in errors) */

static int step_ok(struct husk_child *c, struct husk_err *err)
{
	ran++;
	return 0;
}

static int step_fails(struct husk_child *c, struct husk_err *err)
{
	errno = EACCES;
	return husk_err_sys(err, "fake failure after %d steps", ran);
}

static int step_exits(struct husk_child *c, struct husk_err *err)
{
	_exit(3);
}

static int step_killed(struct husk_child *c, struct husk_err *err)
{
	raise(SIGKILL);
	return 0;
}

static int step_sends_pty(struct husk_child *c, struct husk_err *err)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int rc = husk_msg_send(c->sock, HUSK_MSG_PTY_MASTER, 0, fd, err);
	close(fd);
	return rc;
}

static int step_sends_pty_without_fd(struct husk_child *c, struct husk_err *err)
{
	return husk_msg_send(c->sock, HUSK_MSG_PTY_MASTER, 0, -1, err);
}

static int step_sends_go(struct husk_child *c, struct husk_err *err)
{
	return husk_msg_write(c->sock, HUSK_MSG_GO, 0, err);
}

/* What the create recipe's "prestart hooks" step does. */
static int step_asks_hooks(struct husk_child *c, struct husk_err *err)
{
	struct husk_msg m;
	if (husk_msg_write(c->sock, HUSK_MSG_RUN_HOOKS, 0, err) < 0)
		return -1;
	return husk_msg_expect(c->sock, HUSK_PHASE_HOOKS, &m, err);
}

/* What "wait for the runtime" does. */
static int step_waits_go(struct husk_child *c, struct husk_err *err)
{
	struct husk_msg m;
	if (husk_msg_expect(c->sock, HUSK_PHASE_GO, &m, err) < 0)
		return -1;
	c->host_pid = (pid_t)m.value;
	return c->host_pid == getpid() ? 0 : husk_err_set(err, EINVAL, "GO with a wrong pid");
}

static bool never(const struct husk_child *c)
{
	return false;
}

/* ---- the runner ---------------------------------------------------------------- */

static void test_all_steps_ok_reaches_ready(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"a", step_ok}, {"b", step_ok}, {"c", step_ok}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 3, &o);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out.pty_master, -1);
	assert_nothing_left(fds);
}

/* Step N of a recipe fails: the parent gets its name, its errno, and the
 * steps before it ran (and none after it). */
static void test_failure_at_each_step(void **state)
{
	enum { K = 5 };
	static const char *const names[K] = {"first", "second", "third", "fourth", "fifth"};
	int fds = count_fds();

	for (int n = 0; n < K; n++) {
		struct husk_step steps[K];
		char want[128];
		for (int i = 0; i < K; i++)
			steps[i] = (struct husk_step){names[i], i == n ? step_fails : step_ok};
		struct run_opts o = {0};
		struct run_result r = run_child(steps, K, &o);
		assert_int_equal(r.rc, -1);
		assert_int_equal(r.err.code, EACCES);
		snprintf(want, sizeof(want), "%s: fake failure after %d steps: %s", names[n], n,
			 strerror(EACCES));
		assert_string_equal(r.err.msg, want);
		assert_nothing_left(fds);
	}
}

static void test_step_that_does_not_apply_is_skipped(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"skipped", step_fails, never}, {"runs", step_fails}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err.msg, "runs: fake failure after 0 steps: Permission denied");
	assert_nothing_left(fds);
}

/* The production recipes are data: each of their steps replaced by a fake,
 * the one at N failing. The parent sees that step's name: the error names
 * the step that failed, whichever it is. */
static void check_recipe(const struct husk_steps *recipe)
{
	int fds = count_fds();
	struct husk_step *steps = calloc(recipe->n, sizeof(*steps));

	assert_non_null(steps);
	assert_true(recipe->n > 10);
	for (size_t n = 0; n < recipe->n; n++) {
		char want[256];
		for (size_t i = 0; i < recipe->n; i++)
			steps[i] =
			    (struct husk_step){recipe->v[i].name, i == n ? step_fails : step_ok};
		struct run_opts o = {0};
		struct run_result r = run_child(steps, recipe->n, &o);
		assert_int_equal(r.rc, -1);
		assert_int_equal(r.err.code, EACCES);
		snprintf(want, sizeof(want), "%s: fake failure after %zu steps: %s",
			 recipe->v[n].name, n, strerror(EACCES));
		assert_string_equal(r.err.msg, want);
		assert_nothing_left(fds);
	}
	free(steps);
}

static void test_create_recipe_names_every_step(void **state)
{
	check_recipe(&husk_create_steps);
}

static void test_exec_recipe_names_every_step(void **state)
{
	check_recipe(&husk_exec_steps);
}

/* The order that matters, read off the tables. */
static size_t index_of(const struct husk_steps *r, const char *name, size_t from)
{
	for (size_t i = from; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return i;
	fail_msg("no step %s", name);
	return 0;
}

static void test_recipe_order(void **state)
{
	const struct husk_steps *recipes[] = {&husk_create_steps, &husk_exec_steps};
	for (size_t k = 0; k < 2; k++) {
		const struct husk_steps *r = recipes[k];
		/* the process is in its cgroups and undumpable before anything else */
		assert_int_equal(index_of(r, "cgroup join", 0), 0);
		assert_int_equal(index_of(r, "wait for the runtime", 0), 1);
		size_t undump = index_of(r, "undumpable", 0);
		size_t fds = index_of(r, "close-on-exec fds", 0);
		size_t seccomp1 = index_of(r, "seccomp", 0);
		size_t bounding = index_of(r, "capabilities bounding set", 0);
		size_t user = index_of(r, "user", 0);
		size_t caps = index_of(r, "capabilities", 0);
		size_t nnp = index_of(r, "no_new_privs", 0);
		size_t seccomp2 = index_of(r, "seccomp", seccomp1 + 1);
		assert_true(undump < fds && fds < seccomp1 && seccomp1 < bounding);
		assert_true(bounding < user && user < caps && caps < nnp && nnp < seccomp2);
		assert_int_equal(seccomp2, r->n - 1);
	}
	const struct husk_steps *c = &husk_create_steps;
	/* a new cgroup namespace and the hooks see the container's cgroup */
	assert_true(index_of(c, "wait for cgroup join before cgroup namespace", 0) <
		    index_of(c, "namespaces unshare", 0));
	assert_true(index_of(c, "wait for cgroup join", 0) < index_of(c, "prestart hooks", 0));
	/* the offsets file is opened before the user namespace is joined */
	assert_true(index_of(c, "time offsets", 0) < index_of(c, "namespaces join", 0));
	assert_true(index_of(c, "undumpable", 0) < index_of(c, "mounts", 0));
	assert_true(index_of(c, "mounts", 0) < index_of(c, "pivot_root", 0));
}

/* ---- the conversation ------------------------------------------------------------ */

static void test_phase_table(void **state)
{
	assert_true(husk_phase_accepts(HUSK_PHASE_GO, HUSK_MSG_GO));
	assert_false(husk_phase_accepts(HUSK_PHASE_GO, HUSK_MSG_JOINED));
	assert_true(husk_phase_accepts(HUSK_PHASE_JOINED, HUSK_MSG_JOINED));
	assert_true(husk_phase_accepts(HUSK_PHASE_HOOKS, HUSK_MSG_HOOKS_DONE));
	assert_true(husk_phase_accepts(HUSK_PHASE_CHILD_PID, HUSK_MSG_CHILD_PID));
	assert_true(husk_phase_accepts(HUSK_PHASE_SERVE, HUSK_MSG_READY));
	assert_true(husk_phase_accepts(HUSK_PHASE_SERVE, HUSK_MSG_PTY_MASTER));
	assert_false(husk_phase_accepts(HUSK_PHASE_SERVE, HUSK_MSG_GO));
	assert_false(husk_phase_accepts(HUSK_PHASE_SERVE, 99));
	for (int p = 0; p < HUSK_PHASE_COUNT; p++)
		assert_true(husk_phase_accepts(p, HUSK_MSG_ERROR));
	assert_string_equal(husk_msg_name(HUSK_MSG_JOINED), "JOINED");
	assert_string_equal(husk_msg_name(77), "unknown");
}

static void test_go_then_ready(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"wait for the runtime", step_waits_go}};
	struct run_opts o = {.parent_sends = HUSK_MSG_GO};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, 0);
	assert_nothing_left(fds);
}

/* The child waits for GO and gets something else: its step fails with
 * EPROTO, naming the phase, and the parent hears it. */
static void test_child_refuses_message_out_of_phase(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"wait for the runtime", step_waits_go}};
	struct run_opts o = {.parent_sends = HUSK_MSG_JOINED};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, EPROTO);
	assert_non_null(strstr(r.err.msg, "wait for the runtime: unexpected message JOINED (9) "
					  "while waiting for GO"));
	assert_nothing_left(fds);
}

static void test_parent_refuses_message_out_of_phase(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"rogue", step_sends_go}, {"then waits", step_waits_go}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, EPROTO);
	assert_non_null(strstr(r.err.msg, "unexpected message GO"));
	assert_nothing_left(fds);
}

static void test_pty_master_comes_back(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"terminal", step_sends_pty}, {"b", step_ok}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, 0);
	assert_true(r.out.pty_master >= 0);
	close(r.out.pty_master);
	assert_nothing_left(fds);
}

/* A pty master sent, then a failure: the parent drops the fd it got. */
static void test_failure_after_pty_drops_it(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"terminal", step_sends_pty}, {"later", step_fails}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.out.pty_master, -1);
	assert_int_equal(r.err.code, EACCES);
	assert_nothing_left(fds);
}

static void test_pty_message_without_fd(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"terminal", step_sends_pty_without_fd}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, EPROTO);
	assert_nothing_left(fds);
}

static void test_hooks_run_in_the_parent(void **state)
{
	int fds = count_fds();
	struct hooks_seen seen = {.fail_kind = -1};
	const struct husk_step steps[] = {{"prestart hooks", step_asks_hooks}, {"b", step_ok}};
	struct run_opts o = {.want_hooks = true, .hooks = &seen};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, 0);
	assert_int_equal(seen.calls[HUSK_HOOK_PRESTART], 1);
	assert_int_equal(seen.calls[HUSK_HOOK_CREATE_RUNTIME], 1);
	assert_nothing_left(fds);
}

static void test_hook_failure_stops_the_child(void **state)
{
	int fds = count_fds();
	struct hooks_seen seen = {.fail_kind = HUSK_HOOK_CREATE_RUNTIME};
	const struct husk_step steps[] = {{"prestart hooks", step_asks_hooks}, {"b", step_ok}};
	struct run_opts o = {.want_hooks = true, .hooks = &seen};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, EIO);
	assert_non_null(strstr(r.err.msg, "hook 1"));
	assert_nothing_left(fds);
}

static void test_hooks_without_a_runner(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"prestart hooks", step_asks_hooks}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, EPROTO);
	assert_nothing_left(fds);
}

static void test_child_exits_without_a_word(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"a", step_ok}, {"gone", step_exits}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 2, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, ECHILD);
	assert_string_equal(r.err.msg, "container process exited with status 3 during setup");
	assert_nothing_left(fds);
}

static void test_child_killed(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"killed", step_killed}};
	struct run_opts o = {0};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.code, ECHILD);
	assert_non_null(strstr(r.err.msg, "killed by signal 9"));
	assert_nothing_left(fds);
}

/* The parent's own set-up failed (maps, cgroups): the child, waiting for
 * GO, is killed and reaped. */
static void test_parent_setup_failure_kills_the_child(void **state)
{
	int fds = count_fds();
	const struct husk_step steps[] = {{"wait for the runtime", step_waits_go}};
	struct run_opts o = {.setup_rc = -1};
	struct run_result r = run_child(steps, 1, &o);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.out.pid, -1);
	assert_nothing_left(fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_steps_ok_reaches_ready),
	    cmocka_unit_test(test_failure_at_each_step),
	    cmocka_unit_test(test_step_that_does_not_apply_is_skipped),
	    cmocka_unit_test(test_create_recipe_names_every_step),
	    cmocka_unit_test(test_exec_recipe_names_every_step),
	    cmocka_unit_test(test_recipe_order),
	    cmocka_unit_test(test_phase_table),
	    cmocka_unit_test(test_go_then_ready),
	    cmocka_unit_test(test_child_refuses_message_out_of_phase),
	    cmocka_unit_test(test_parent_refuses_message_out_of_phase),
	    cmocka_unit_test(test_pty_master_comes_back),
	    cmocka_unit_test(test_failure_after_pty_drops_it),
	    cmocka_unit_test(test_pty_message_without_fd),
	    cmocka_unit_test(test_hooks_run_in_the_parent),
	    cmocka_unit_test(test_hook_failure_stops_the_child),
	    cmocka_unit_test(test_hooks_without_a_runner),
	    cmocka_unit_test(test_child_exits_without_a_word),
	    cmocka_unit_test(test_child_killed),
	    cmocka_unit_test(test_parent_setup_failure_kills_the_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
