/* exec: a new process inside a running container. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "cgroup/cgroup.h"
#include "linux/linux.h"
#include "runtime/backend.h"
#include "runtime/internal.h"

struct exec_job {
	struct husk_cgroup *cg;
	bool joined_v2;
	struct husk_cgroup_tasks tasks; /* v1: the process moves itself (cgroup.h) */
	const struct husk_exec_opts *o;
};

static int cb_child_created(void *opaque, pid_t pid, struct husk_err *err)
{
	struct exec_job *job = opaque;
	if (!job->cg)
		return 0;
	if (husk_cgroup_enter(job->cg, pid, job->joined_v2, job->tasks.n > 0, err) < 0)
		return husk_err_prefix(err, "join cgroup");
	/* --cgroup: then on into the sub-cgroups, here before the process runs */
	for (size_t i = 0; i < job->o->n_sub_cgroups; i++) {
		const struct husk_exec_subcgroup *s = &job->o->sub_cgroups[i];
		if (husk_cgroup_enter_sub(job->cg, pid, s->controller, s->path, err) < 0)
			return -1;
	}
	return 0;
}

static int check_execable(const struct husk_container *c, const struct husk_exec_opts *o,
			  struct husk_err *err)
{
	bool terminal = o->process->terminal;

	switch (c->status) {
	case HUSK_STATUS_STOPPED:
		return husk_err_set(err, 0, "cannot exec in a stopped container");
	case HUSK_STATUS_CREATING:
		return husk_err_set(err, 0, "cannot exec in a container that is being created");
	case HUSK_STATUS_PAUSED:
		if (!o->ignore_paused)
			return husk_err_set(err, 0,
					    "cannot exec in a paused container "
					    "(use --ignore-paused to override)");
		break;
	default:
		break;
	}
	if (o->detach && terminal && !o->console_socket)
		return husk_err_plain(err, EINVAL, "--tty needs --console-socket with --detach");
	if ((!o->detach || !terminal) && o->console_socket)
		return husk_err_plain(err, EINVAL, "--console-socket needs --tty and --detach");
	return 0;
}

static int exec_steps(const struct husk_ctx *ctx, struct husk_container *c,
		      const struct husk_exec_opts *o, int *exit_status, struct husk_err *err)
{
	const struct husk_spec *spec = husk_container_spec(c, err);
	struct exec_job job = {.o = o};
	struct husk_exec_params p = {
	    .target_pid = c->pid,
	    .spec = spec,
	    .process = o->process,
	    .console_socket = o->console_socket,
	    .preserve_fds = o->preserve_fds,
	    .want_pty_master = !o->detach && o->process->terminal && !o->console_socket,
	    .cgroup_fd = -1,
	    .cb = {.ctx = &job, .child_created = cb_child_created},
	    .id = c->id,
	    .bundle = c->bundle,
	    .state_dir_fd = c->dir_fd,
	};
	struct husk_spawn_result r = {.pidfd = -1, .pty_master = -1};
	const struct husk_backend *b;
	struct husk_proc proc;
	sigset_t old;

	if (!spec || husk_backend_of(c, &b, err) < 0)
		return -1;
	if (o->n_sub_cgroups && !c->cgroup_path)
		return husk_err_plain(err, EINVAL, "--cgroup: the container has no cgroup");
	if (c->cgroup_path) {
		job.cg = husk_container_cgroup(c, err);
		if (!job.cg)
			return -1;
		/* --cgroup moves the process from the runtime's side after it is
		 * placed: it must not place itself (v1 tasks files) behind our back */
		p.cgroup_fd = husk_cgroup_v2_fd(job.cg);
		job.joined_v2 = p.cgroup_fd >= 0;
		if (!ctx->cgroup_join_procs && !o->n_sub_cgroups)
			husk_cgroup_open_tasks(job.cg, &job.tasks);
		p.join_fds = job.tasks.fd;
		p.n_join_fds = job.tasks.n;
	}
	if (!o->detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	int rc = husk_traced("spawn", c->id, b->exec(&p, &r, err));
	husk_cgroup_close_tasks(&job.tasks);
	if (rc < 0)
		return -1;
	proc = (struct husk_proc){.pid = r.pid, .pidfd = r.pidfd, .pty_master = r.pty_master};
	if (o->pid_file && husk_write_pid_file(o->pid_file, r.pid, err) < 0) {
		kill(r.pid, SIGKILL);
		waitpid(r.pid, NULL, 0);
		goto fail;
	}
	*exit_status = 0;
	if (!o->detach) {
		if (proc.pidfd < 0)
			proc.pidfd = (int)syscall(SYS_pidfd_open, proc.pid, 0);
		husk_foreground_block(&old);
		if (husk_foreground_wait(&proc, &old, exit_status, err) < 0)
			goto fail;
	}
	if (proc.pidfd >= 0)
		close(proc.pidfd);
	if (proc.pty_master >= 0)
		close(proc.pty_master);
	return 0;
fail:
	if (proc.pidfd >= 0)
		close(proc.pidfd);
	if (proc.pty_master >= 0)
		close(proc.pty_master);
	return -1;
}

/* The default process over the container's own (o->process_opts). */
static int default_process(struct husk_container *c, const struct husk_exec_opts *o,
			   struct husk_process *built, struct husk_err *err)
{
	const struct husk_spec *spec = husk_container_spec(c, err);

	if (!spec)
		return -1;
	if (!spec->process)
		return husk_err_set(err, EINVAL, "container %s has no process in its config",
				    c->id);
	if (!o->process_opts)
		return husk_err_plain(err, EINVAL, "no process to run");
	return husk_exec_process_from_opts(spec->process, o->process_opts, built, err);
}

int husk_exec_container(const struct husk_ctx *ctx, struct husk_container *c,
			const struct husk_exec_opts *o, int *exit_status, struct husk_err *err)
{
	struct husk_exec_opts with = *o;
	struct husk_process built = {0};
	int r = -1;

	if (!o->process) {
		if (default_process(c, o, &built, err) < 0)
			return husk_err_prefix(err, "exec %s", c->id);
		with.process = &built;
	}
	if (husk_guard_entry(HUSK_ENTRY_EXEC, NULL, err) == 0 && check_execable(c, &with, err) == 0)
		r = exec_steps(ctx, c, &with, exit_status, err);
	if (!o->process)
		husk_exec_process_release(&built);
	return r < 0 ? husk_err_prefix(err, "exec %s", c->id) : 0;
}

int husk_exec(const struct husk_ctx *ctx, const char *id, const struct husk_exec_opts *o,
	      int *exit_status, struct husk_err *err)
{
	struct husk_container *c;
	int r;

	/* Re-exec (when needed) before any work, which would be done twice. */
	if (husk_guard_entry(HUSK_ENTRY_EXEC, NULL, err) < 0 ||
	    husk_container_load(ctx, id, &c, err) < 0)
		return husk_err_prefix(err, "exec %s", id);
	r = husk_exec_container(ctx, c, o, exit_status, err);
	husk_container_free(c);
	return r;
}
