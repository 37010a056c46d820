/* run: create + start, then (in the foreground) wait for the init and
 * delete the container. */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/log.h"

static void close_proc(struct husk_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->pty_master >= 0)
		close(p->pty_master);
	p->pidfd = p->pty_master = -1;
}

/* The container could not be started: kill it, reap it, remove it. */
static void abandon(const struct husk_ctx *ctx, const char *id, struct husk_proc *p)
{
	struct husk_err ignored;

	if (p->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	husk_delete(ctx, id, true, &ignored);
	if (p->pid > 0)
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static int run_detached(const struct husk_ctx *ctx, const char *id, const struct husk_run_opts *o,
			int *exit_status, struct husk_err *err)
{
	struct husk_proc p = {.pidfd = -1, .pty_master = -1};

	if (husk_create_internal(ctx, id, &o->create, false, &p, err) < 0)
		return -1;
	if (husk_start(ctx, id, err) < 0) {
		abandon(ctx, id, &p);
		close_proc(&p);
		return -1;
	}
	close_proc(&p);
	*exit_status = 0;
	return 0;
}

int husk_run(const struct husk_ctx *ctx, const char *id, const struct husk_run_opts *o,
	     int *exit_status, struct husk_err *err)
{
	struct husk_proc p = {.pidfd = -1, .pty_master = -1};
	sigset_t old;
	int r;

	if (o->detach)
		return run_detached(ctx, id, o, exit_status, err);
	/* Should the container process double fork, its init still comes
	 * back to us to be reaped. */
	if (!o->no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (husk_create_internal(ctx, id, &o->create, true, &p, err) < 0)
		return -1;
	if (p.pidfd < 0)
		p.pidfd = (int)syscall(SYS_pidfd_open, p.pid, 0);
	husk_foreground_block(&old);
	if (husk_start(ctx, id, err) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		abandon(ctx, id, &p);
		close_proc(&p);
		return -1;
	}
	r = husk_foreground_wait(&p, &old, exit_status, err);
	close_proc(&p);
	if (r < 0) {
		abandon(ctx, id, &p);
		return -1;
	}
	if (!o->keep && husk_delete(ctx, id, true, err) < 0)
		return -1;
	return 0;
}
