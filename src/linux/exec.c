/* husk_linux_exec: a new process inside a running container.
 *
 * A pid namespace only applies to children of the process that joins it,
 * and the host's PID 1 may not reap orphans, so the design is:
 *  - direct (privileged caller): this process joins the container's pid
 *    namespace for its children only (setns CLONE_NEWPID), clone3s the
 *    process straight into it (and into the cgroup), and returns to its own
 *    pid namespace. The child joins the rest with one setns(pidfd, flags),
 *    which enters the user namespace first.
 *  - via an intermediate (the caller may not join the pid namespace, e.g.
 *    rootless): a short-lived child joins every namespace with setns(pidfd)
 *    (user first, so it gains the rights for the rest) and clone3s the
 *    final process with CLONE_PARENT, so that process is still *our* child
 *    (no orphan, we reap it and get its exit status). The intermediate
 *    reports the pid and exits; we reap it.
 * Either way the final process waits for "go" while we put it in its
 * cgroups, then sets itself up (child.c's exec recipe) and execve()s; the
 * close-on-exec socket reaching EOF tells us the exec happened. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

struct exec_job {
	const struct husk_exec_params *p;
	struct husk_child c;
	int target_pidfd;  /* the container's init */
	int time_fd;	   /* its time_for_children, or -1 */
	int root_fd;	   /* its root when it shares our mount namespace, or -1 */
	uint64_t ns_flags; /* joined through target_pidfd */
};

static int join_container(const struct exec_job *job, uint64_t flags, struct husk_err *err)
{
	if (flags && setns(job->target_pidfd, (int)flags) < 0)
		return husk_err_sys(err, "join the namespaces of pid %d", (int)job->p->target_pid);
	if (job->time_fd >= 0 && setns(job->time_fd, CLONE_NEWTIME) < 0)
		return husk_err_sys(err, "join the time namespace of pid %d",
				    (int)job->p->target_pid);
	/* No mount namespace to join: the init's root is a chroot in ours. */
	if (job->root_fd >= 0 && (fchdir(job->root_fd) < 0 || chroot(".") < 0))
		return husk_err_sys(err, "chroot to the root of pid %d", (int)job->p->target_pid);
	return 0;
}

/* The init enters its time namespace only at its own execve; until then
 * the pidfd would give the host's. time_for_children is right either way.
 * Without a mount namespace of its own the init is chrooted in ours: its
 * root comes from /proc too. Both are opened by pid, so the pidfd then
 * proves the init still alive (the pid was not reused). */
static int open_proc_fds(struct exec_job *job, struct husk_err *err)
{
	int pid = (int)job->p->target_pid;
	char path[64];

	if (job->ns_flags & CLONE_NEWTIME) {
		job->ns_flags &= ~(uint64_t)CLONE_NEWTIME;
		snprintf(path, sizeof(path), "/proc/%d/ns/time_for_children", pid);
		job->time_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (job->time_fd < 0)
			return husk_err_sys(err, "open %s", path);
	}
	if (!(job->ns_flags & CLONE_NEWNS)) {
		snprintf(path, sizeof(path), "/proc/%d/root", pid);
		job->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (job->root_fd < 0)
			return husk_err_sys(err, "open %s", path);
	}
	if ((job->time_fd >= 0 || job->root_fd >= 0) &&
	    syscall(SYS_pidfd_send_signal, job->target_pidfd, 0, NULL, 0) < 0)
		return husk_err_sys(err, "container init %d", pid);
	return 0;
}

__attribute__((noreturn)) static void intermediate_main(struct exec_job *job)
{
	struct husk_err err;
	int pidfd = -1;
	bool into;

	husk_err_clear(&err);
	husk_child_enter(&job->c);
	if (join_container(job, job->ns_flags, &err) < 0)
		husk_child_fail(&job->c, &err);
	pid_t pid = husk_clone3(CLONE_PARENT, job->p->cgroup_fd, &pidfd, &into, &err);
	if (pid == 0)
		husk_child_exec_main(&job->c);
	husk_intermediate_report(&job->c, pid, into, &err);
}

/* Direct mode. Returns 0 when we may not join the pid namespace (EPERM),
 * so the caller falls back to the intermediate. */
static pid_t clone_direct(struct exec_job *job, int *pidfd, bool *into, struct husk_err *err)
{
	bool pidns = job->ns_flags & CLONE_NEWPID;
	_cleanup_close_ int own = -1;

	if (pidns) {
		own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own < 0)
			return husk_err_sys(err, "open /proc/self/ns/pid");
		if (setns(job->target_pidfd, CLONE_NEWPID) < 0) {
			if (errno == EPERM)
				return 0;
			return husk_err_sys(err, "join the pid namespace of %d",
					    (int)job->p->target_pid);
		}
	}
	pid_t pid = husk_clone3(0, job->p->cgroup_fd, pidfd, into, err);
	if (pid == 0) {
		struct husk_err cerr;
		husk_err_clear(&cerr);
		husk_child_enter(&job->c);
		if (join_container(job, job->ns_flags & ~(uint64_t)CLONE_NEWPID, &cerr) < 0)
			husk_child_fail(&job->c, &cerr);
		husk_child_exec_main(&job->c);
	}
	if (pidns && setns(own, CLONE_NEWPID) < 0 && pid > 0) {
		husk_err_sys(err, "return to our pid namespace");
		husk_kill_and_reap(pid, *pidfd);
		return -1;
	}
	return pid;
}

static pid_t clone_via_intermediate(struct exec_job *job, int sock, int *pidfd, bool *into,
				    struct husk_err *err)
{
	int ipidfd = -1;
	bool unused;
	pid_t ipid = husk_clone3(0, -1, &ipidfd, &unused, err);

	if (ipid == 0)
		intermediate_main(job);
	if (ipid < 0)
		return -1;
	return husk_intermediate_result(ipid, ipidfd, &job->c, sock, pidfd, into, err);
}

static int job_prepare(struct exec_job *job, struct husk_err *err)
{
	const struct husk_exec_params *p = job->p;

	job->target_pidfd = (int)syscall(SYS_pidfd_open, p->target_pid, 0);
	if (job->target_pidfd < 0)
		return husk_err_sys(err, "pidfd_open %d", (int)p->target_pid);
	if (open_proc_fds(job, err) < 0)
		return -1;
	if (p->console_socket &&
	    (job->c.console_fd = husk_console_connect(p->console_socket, err)) < 0)
		return -1;
	if (p->spec->linux.seccomp &&
	    husk_seccomp_compile(p->spec->linux.seccomp, &job->c.seccomp, err) < 0)
		return -1;
	return 0;
}

static void job_release(struct exec_job *job)
{
	if (job->target_pidfd >= 0)
		close(job->target_pidfd);
	if (job->time_fd >= 0)
		close(job->time_fd);
	if (job->root_fd >= 0)
		close(job->root_fd);
	job->time_fd = job->root_fd = -1;
	if (job->c.console_fd >= 0)
		close(job->c.console_fd);
	if (job->c.sock >= 0)
		close(job->c.sock);
	husk_seccomp_release(job->c.seccomp);
	job->target_pidfd = job->c.console_fd = job->c.sock = -1;
	job->c.seccomp = NULL;
}

static int start_final(const struct husk_exec_params *p, pid_t pid, bool into, int sock,
		       struct husk_err *err)
{
	if (p->cgroup_fd >= 0 && !into && husk_cgroup_fd_attach(p->cgroup_fd, pid, err) < 0)
		return -1;
	if (p->cb.child_created && p->cb.child_created(p->cb.ctx, pid, err) < 0)
		return -1;
	if (p->process->has_oom_score_adj &&
	    husk_oom_score_adj_set(pid, p->process->oom_score_adj, err) < 0)
		return -1;
	return husk_msg_send(sock, HUSK_MSG_GO, pid, -1, err);
}

int husk_linux_exec(const struct husk_exec_params *p, struct husk_spawn_result *out,
		    struct husk_err *err)
{
	struct exec_job job = {
	    .p = p,
	    .c = husk_child_new(p->spec, p->process, p->want_pty_master, p->console_socket,
				p->preserve_fds),
	    .target_pidfd = -1,
	    .time_fd = -1,
	    .root_fd = -1,
	    .ns_flags = husk_ns_all_flags(p->spec),
	};
	int pidfd = -1;
	bool into = false;
	pid_t pid = -1;

	out->pid = -1;
	out->pidfd = -1;
	out->pty_master = -1;
	if (husk_lsm_check(p->process, NULL, true, err) < 0)
		return -1;
	job.c.join_fds = p->join_fds;
	job.c.n_join_fds = p->n_join_fds;
	_cleanup_close_ int sock = husk_child_socketpair(&job.c, err);
	if (sock < 0)
		return -1;
	if (job_prepare(&job, err) == 0) {
		pid = clone_direct(&job, &pidfd, &into, err);
		if (pid == 0)
			pid = clone_via_intermediate(&job, sock, &pidfd, &into, err);
	}
	job_release(&job);
	if (pid < 0)
		return -1;

	struct husk_serve_ctx s = {.spec = p->spec,
				   .id = p->id ? p->id : "",
				   .bundle = p->bundle ? p->bundle : "",
				   .cb = &p->cb,
				   .pid = pid,
				   .init_pid = p->target_pid,
				   .eof_is_success = true};
	return husk_spawn_complete(&s, sock, pidfd, start_final(p, pid, into, sock, err), out, err);
}
