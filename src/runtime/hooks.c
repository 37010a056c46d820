/* OCI hooks: each runs with the container state JSON on stdin, in order,
 * and is killed when it outlives its timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "spec/tables.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

/* The hook's stdin. The state goes in a memfd rather than a pipe, so a hook
 * that never reads its stdin can neither block us nor get us a SIGPIPE.
 * Where memfd_create is refused (a seccomp profile, for the hooks run in
 * the container) a pipe does, as long as the state fits its buffer. */
static int state_fd(const char *state_json, struct husk_err *err)
{
	size_t len = strlen(state_json);
	int fd = memfd_create("husk-hook-state", MFD_CLOEXEC), p[2];

	if (fd >= 0) {
		if (husk_write_all(fd, state_json, len) < 0) {
			husk_err_sys(err, "write hook state");
			close(fd);
			return -1;
		}
		lseek(fd, 0, SEEK_SET);
		return fd;
	}
	if (len > 65536 || pipe2(p, O_CLOEXEC) < 0)
		return husk_err_sys(err, "memfd_create for the hook's state");
	if (husk_write_all(p[1], state_json, len) < 0) {
		husk_err_sys(err, "write hook state");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

/* A hook with "env" gets exactly it (an empty list too). Without, it gets
 * the environment of the process that runs it, as in runc: the runtime's
 * (that of `husk create`, `start` or `delete`) for prestart, createRuntime,
 * poststart and poststop; the container init runs createContainer and
 * startContainer hooks and sets environ to process.env (startContainer: the
 * program's, with HOME) for them. */
static void __attribute__((noreturn)) hook_child(const struct husk_hook *h, int state_fd)
{
	sigset_t none;
	char *argv0[] = {h->path, NULL};
	char **envp = h->env.v ? h->env.v : environ; /* v is set when "env" is given */

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* dup2 onto itself would keep close-on-exec (husk run with stdin closed). */
	if (state_fd == STDIN_FILENO ? fcntl(state_fd, F_SETFD, 0) < 0
				     : dup2(state_fd, STDIN_FILENO) < 0)
		_exit(127);
	execve(h->path, h->args.n ? h->args.v : argv0, envp);
	_exit(127);
}

/* Wait for the hook, killing it at its deadline. Returns its wait status. */
static int wait_hook(pid_t pid, int timeout_s, int *status, struct husk_err *err)
{
	int pidfd = timeout_s > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;

	if (pidfd >= 0) {
		int r = husk_pidfd_wait_exit(pidfd, timeout_s * 1000);
		close(pidfd);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return husk_err_set(err, ETIMEDOUT, "timed out after %d s", timeout_s);
		}
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return husk_err_sys(err, "wait");
	}
	return 0;
}

static int run_one(const struct husk_hook *h, const char *state_json, struct husk_err *err)
{
	_cleanup_close_ int in = state_fd(state_json, err);
	int status;
	pid_t pid;

	if (in < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return husk_err_sys(err, "fork");
	if (pid == 0)
		hook_child(h, in);
	if (wait_hook(pid, h->has_timeout ? h->timeout : 0, &status, err) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return husk_err_set(err, 0, "exit status %d", WEXITSTATUS(status));
	return husk_err_set(err, 0, "killed by signal %d", WTERMSIG(status));
}

int husk_hooks_run(const struct husk_hook_list *hooks, enum husk_hook_kind kind,
		   const char *state_json, struct husk_err *err)
{
	for (size_t i = 0; i < hooks->n; i++) {
		if (husk_traced(husk_hook_names[kind], hooks->v[i].path,
				run_one(&hooks->v[i], state_json, err)) < 0)
			return husk_err_prefix(err, "%s hook #%zu %s", husk_hook_names[kind], i,
					       hooks->v[i].path);
	}
	return 0;
}

/* c's state as hooks read it on stdin: the spec's fields, with `status`. */
static char *hook_state(const struct husk_container *c, enum husk_status status)
{
	struct husk_container shown = *c;

	shown.status = status;
	return husk_state_encode(&shown, HUSK_STATE_SPEC, false);
}

int husk_hooks_run_state(const struct husk_container *c, const struct husk_spec *spec,
			 enum husk_hook_kind kind, enum husk_status status, struct husk_err *err)
{
	_cleanup_free_ char *state = NULL;

	if (spec->hooks[kind].n == 0)
		return 0;
	state = hook_state(c, status);
	if (!state)
		return husk_err_set(err, errno, "%s hooks: encode state", husk_hook_names[kind]);
	return husk_hooks_run(&spec->hooks[kind], kind, state, err);
}

void husk_hooks_run_logged(const struct husk_container *c, const struct husk_spec *spec,
			   enum husk_hook_kind kind, enum husk_status status)
{
	const struct husk_hook_list *hooks = &spec->hooks[kind];
	_cleanup_free_ char *state = NULL;
	struct husk_err err;

	if (hooks->n == 0)
		return;
	state = hook_state(c, status);
	if (!state) {
		husk_warn("%s hooks of %s: cannot encode state", husk_hook_names[kind], c->id);
		return;
	}
	/* Each hook runs even when an earlier one failed: these are
	 * notifications and the spec only asks that failures be logged. */
	for (size_t i = 0; i < hooks->n; i++) {
		struct husk_hook_list one = {.v = &hooks->v[i], .n = 1};
		husk_err_clear(&err);
		if (husk_hooks_run(&one, kind, state, &err) < 0)
			husk_warn("%s: %s", c->id, err.msg);
	}
}
