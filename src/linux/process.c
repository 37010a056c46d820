/* husk_linux_spawn, the parent side: one socketpair for the whole
 * conversation, clone3 straight into the new namespaces (the child runs
 * child.c in a copy of this address space, no re-exec), id maps and
 * cgroups while the child waits, then serve its requests until "ready". */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/log.h"
#include "util/cleanup.h"

static bool into_cgroup_refused(int e)
{
	return e == EINVAL || e == EOPNOTSUPP || e == EBUSY || e == E2BIG || e == EPERM ||
	       e == EACCES || e == ENOENT;
}

/* Plain clone(2) where clone3 is missing: seccomp profiles that answer
 * ENOSYS (Docker's default), valgrind. No CLONE_INTO_CGROUP there; the pidfd
 * comes back through parent_tid. Stack 0: the child runs on a copy of ours,
 * as with fork. */
static long legacy_clone(uint64_t flags, int *pidfd)
{
	unsigned long f = (unsigned long)flags | CLONE_PIDFD;

	if (!(flags & CLONE_PARENT))
		f |= SIGCHLD;
#if defined(__s390x__) || defined(__s390__)
	return syscall(SYS_clone, 0UL, f, pidfd, NULL, 0UL);
#else
	return syscall(SYS_clone, f, 0UL, pidfd, NULL, 0UL);
#endif
}

pid_t husk_clone3(uint64_t flags, int cgroup_fd, int *pidfd, bool *into_cgroup,
		  struct husk_err *err)
{
	struct clone_args args = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    /* With CLONE_PARENT the kernel takes the caller's exit signal. */
	    .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
	};
	long pid;

	*into_cgroup = cgroup_fd >= 0;
	if (*into_cgroup) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && *into_cgroup && into_cgroup_refused(errno)) {
		/* The caller's fallback (cgroup.procs) puts the child in. */
		*into_cgroup = false;
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (pid < 0 && errno == ENOSYS) {
		*into_cgroup = false;
		pid = legacy_clone(flags, pidfd);
	}
	if (pid < 0)
		return husk_err_sys(err, "clone3");
	return (pid_t)pid;
}

int husk_cgroup_fd_attach(int cgroup_fd, pid_t pid, struct husk_err *err)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
	_cleanup_close_ int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return husk_err_sys(err, "add %d to cgroup.procs", (int)pid);
	return 0;
}

void husk_kill_and_reap(pid_t pid, int pidfd)
{
	int saved = errno;
	if (pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	else
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = saved;
}

struct husk_child husk_child_new(const struct husk_spec *spec, const struct husk_process *proc,
				 bool want_pty_master, const char *console_socket, int preserve_fds)
{
	struct husk_child c = {.spec = spec,
			       .proc = proc,
			       .sock = -1,
			       .parent_sock = -1,
			       .console_fd = -1,
			       .want_pty_master = want_pty_master && !console_socket,
			       .preserve_fds = preserve_fds,
			       .fifo_fd = -1,
			       .proc_fd = -1,
			       .setgroups_denied = husk_userns_setgroups_denied(spec),
			       .timens_offsets_fd = -1};
	husk_ns_fds_init(&c.ns);
	husk_rootfs_ctx_init(&c.rootfs);
	husk_netdevs_init(&c.netdevs);
	return c;
}

int husk_child_socketpair(struct husk_child *c, struct husk_err *err)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return husk_err_sys(err, "socketpair");
	c->sock = sv[1];
	c->parent_sock = sv[0];
	return sv[0];
}

int husk_console_connect(const char *path, struct husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_err_set(err, ENAMETOOLONG, "console socket %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return husk_err_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		husk_err_sys(err, "connect to console socket %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int open_host_proc(struct husk_err *err)
{
	struct statfs sfs;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return husk_err_sys(err, "open /proc");
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return husk_err_set(err, EPERM, "/proc is not a procfs");
	}
	return fd;
}

/* A child cloned into a user namespace has no privilege over the host's
 * filesystems: the runtime opens (and idmaps) its bind sources for it. */
static bool needs_host_sources(const struct husk_spec *spec)
{
	return husk_userns_is_new(spec) || husk_ns_user_by_path(spec);
}

static int open_exec_fifo(const struct husk_spawn_params *p, struct husk_child *c,
			  struct husk_err *err)
{
	if (!p->exec_fifo)
		return husk_err_plain(err, EINVAL, "no exec fifo");
	c->fifo_fd = open(p->exec_fifo, O_PATH | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return husk_err_sys(err, "open exec fifo %s", p->exec_fifo);
	return 0;
}

static int open_rootfs_dir(const struct husk_spawn_params *p, struct husk_err *err)
{
	int fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? husk_err_sys(err, "open rootfs %s", p->rootfs) : fd;
}

/* The hand-off: everything the child needs that only the runtime can open
 * or find, into *c, one line each. The console socket and the exec fifo
 * may be out of reach once the child is inside a user namespace, host
 * paths are gone after pivot, and the host's interfaces out of sight in a
 * new network namespace. */
static int child_prepare(const struct husk_spawn_params *p, struct husk_child *c,
			 struct husk_err *err)
{
	const struct husk_spec *spec = c->spec;

	if (p->console_socket && (c->console_fd = husk_console_connect(p->console_socket, err)) < 0)
		return -1;
	if (open_exec_fifo(p, c, err) < 0)
		return -1;
	if ((c->proc_fd = open_host_proc(err)) < 0)
		return -1;
	if (husk_ns_open_paths(spec, &c->ns, err) < 0)
		return -1;
	if ((c->rootfs.rootfs_dir_fd = open_rootfs_dir(p, err)) < 0)
		return -1;
	if (husk_rootfs_open_idmapped_root(p, &c->rootfs.idmapped_root_fd, err) < 0)
		return -1;
	if (needs_host_sources(spec) &&
	    husk_rootfs_open_sources(spec, p->bundle, c->ns.fd[HUSK_NS_USER], &c->rootfs, err) < 0)
		return -1;
	if (husk_netdev_prepare(spec, &c->netdevs, err) < 0)
		return -1;
	if (spec->linux.seccomp && husk_seccomp_compile(spec->linux.seccomp, &c->seccomp, err) < 0)
		return -1;
	return 0;
}

/* The parent's copies of the hand-off, once the child has its own. */
static void child_release(struct husk_child *c)
{
	int *fds[] = {&c->sock, &c->console_fd, &c->fifo_fd, &c->proc_fd};
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	husk_ns_fds_close(&c->ns);
	husk_rootfs_drop_sources(&c->rootfs);
	husk_rootfs_drop_idmapped_root(&c->rootfs);
	if (c->rootfs.rootfs_dir_fd >= 0)
		close(c->rootfs.rootfs_dir_fd);
	c->rootfs.rootfs_dir_fd = -1;
	husk_netdev_release(&c->netdevs);
	husk_seccomp_release(c->seccomp);
	c->seccomp = NULL;
}

/* The child died without a word (killed, or a seccomp filter ate its
 * message): say how, keeping ECHILD as the errno without its text. */
static int describe_exit(pid_t pid, struct husk_err *err)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		husk_err_set(err, 0, "container process killed by signal %d (%s) during setup",
			     WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		husk_err_set(err, 0, "container process exited with status %d during setup",
			     WEXITSTATUS(status));
	err->code = ECHILD;
	return -1;
}

static int serve_hooks(const struct husk_serve_ctx *s, int sock, struct husk_err *err)
{
	if (!s->cb->run_hooks)
		return husk_err_set(err, EPROTO, "hooks requested without a hook runner");
	if (s->cb->run_hooks(s->cb->ctx, HUSK_HOOK_PRESTART, s->pid, err) < 0 ||
	    s->cb->run_hooks(s->cb->ctx, HUSK_HOOK_CREATE_RUNTIME, s->pid, err) < 0)
		return -1;
	return husk_msg_send(sock, HUSK_MSG_HOOKS_DONE, 0, -1, err);
}

static int serve_one(const struct husk_serve_ctx *s, int sock, const struct husk_msg *m, int fd,
		     struct husk_spawn_result *out, struct husk_err *err)
{
	switch (m->type) {
	case HUSK_MSG_ERROR:
		err->code = m->code;
		snprintf(err->msg, sizeof(err->msg), "%s", m->text);
		return -1;
	case HUSK_MSG_RUN_HOOKS:
		return serve_hooks(s, sock, err);
	case HUSK_MSG_PTY_MASTER:
		if (out->pty_master >= 0)
			close(out->pty_master);
		out->pty_master = fd;
		return fd >= 0 ? 0 : husk_err_set(err, EPROTO, "pty master missing");
	case HUSK_MSG_SECCOMP_FD: {
		_cleanup_close_ int notify = fd;
		if (notify < 0)
			return husk_err_set(err, EPROTO, "seccomp listener missing");
		return husk_seccomp_send_listener(s->spec, s->id, s->bundle, s->pid, s->init_pid,
						  notify, err);
	}
	default: /* READY ends the phase before we get here */
		if (fd >= 0)
			close(fd);
		return husk_err_set(err, EPROTO,
				    "unexpected message %s (%u) from the container process",
				    husk_msg_name(m->type), m->type);
	}
}

/* Returns 0 at "ready" (or, for exec, at execve), -1 with the child's own
 * error otherwise. The caller kills and reaps on failure. */
int husk_serve_child(const struct husk_serve_ctx *s, int sock, struct husk_spawn_result *out,
		     struct husk_err *err)
{
	for (;;) {
		struct husk_msg m;
		int fd;
		int r = husk_msg_recv(sock, &m, &fd, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return s->eof_is_success ? 0 : describe_exit(s->pid, err);
		if (!husk_phase_accepts(HUSK_PHASE_SERVE, m.type)) {
			if (fd >= 0)
				close(fd);
			return husk_err_set(err, EPROTO,
					    "unexpected message %s (%u) from the container process",
					    husk_msg_name(m.type), m.type);
		}
		if (m.type == HUSK_MSG_READY)
			return 0;
		if (serve_one(s, sock, &m, fd, out, err) < 0)
			return -1;
	}
}

int husk_spawn_complete(const struct husk_serve_ctx *s, int sock, int pidfd, int setup_rc,
			struct husk_spawn_result *out, struct husk_err *err)
{
	if (setup_rc < 0 || husk_serve_child(s, sock, out, err) < 0) {
		husk_kill_and_reap(s->pid, pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (out->pty_master >= 0)
			close(out->pty_master);
		out->pty_master = -1;
		return -1;
	}
	out->pid = s->pid;
	out->pidfd = pidfd;
	return 0;
}

/* After GO, while the child sets up: a v1 hierarchy's first cgroup.procs
 * write waits for an RCU grace period (milliseconds, idle), so the child
 * does not wait for it until it needs its cgroup (wait_joined, child.c). */
static int join_cgroups(const struct husk_spawn_params *p, pid_t pid, bool into_cgroup, int sock,
			struct husk_err *err)
{
	if ((p->cgroup_fd >= 0 && !into_cgroup &&
	     husk_cgroup_fd_attach(p->cgroup_fd, pid, err) < 0) ||
	    (p->cb.child_created && p->cb.child_created(p->cb.ctx, pid, err) < 0) ||
	    husk_msg_send(sock, HUSK_MSG_JOINED, 0, -1, err) < 0) {
		/* A child that failed meanwhile has the first word. */
		husk_msg_take_error(sock, err);
		return -1;
	}
	return 0;
}

static int parent_setup_child(const struct husk_spawn_params *p, pid_t pid, bool into_cgroup,
			      int sock, int idmap_tree, struct husk_err *err)
{
	const struct husk_process *proc = p->spec->process;

	if (husk_userns_is_new(p->spec) &&
	    husk_traced("uid and gid maps", p->id, husk_userns_write_maps(p->spec, pid, err)) < 0)
		return -1;
	/* The child waits for GO before it attaches the tree. */
	if (husk_rootfs_idmap_root(p, idmap_tree, pid, err) < 0)
		return -1;
	if (proc->has_oom_score_adj && husk_oom_score_adj_set(pid, proc->oom_score_adj, err) < 0)
		return -1;
	if (husk_msg_send(sock, HUSK_MSG_GO, pid, -1, err) < 0)
		return -1;
	return husk_traced("cgroup join", "runtime moves the container process",
			   join_cgroups(p, pid, into_cgroup, sock, err));
}

/* A user namespace given by path: an intermediate joins it and the other
 * paths, then clone3s the container process with CLONE_PARENT, so the new
 * namespaces belong to that user namespace and the process is still our
 * child (no orphan). The intermediate reports the pid and exits. */
__attribute__((noreturn)) static void intermediate_main(const struct husk_spawn_params *p,
							struct husk_child *c)
{
	struct husk_err err;
	int pidfd = -1;
	bool into;

	husk_err_clear(&err);
	husk_child_enter(c);
	if (husk_ns_child_join(p->spec, &c->ns, &err) < 0)
		husk_child_fail(c, &err);
	pid_t pid = husk_clone3(CLONE_PARENT | husk_ns_clone_flags(p->spec), p->cgroup_fd, &pidfd,
				&into, &err);
	if (pid == 0)
		husk_child_main(c);
	husk_intermediate_report(c, pid, into, &err);
}

void husk_intermediate_report(struct husk_child *c, pid_t pid, bool into,
			      const struct husk_err *err)
{
	struct husk_err serr;

	if (pid < 0)
		husk_child_fail(c, err);
	struct husk_msg m = {.type = HUSK_MSG_CHILD_PID, .code = into, .value = pid};
	if (husk_send_fd(c->sock, &m, sizeof(m) - sizeof(m.text) + 1, -1, &serr) < 0)
		_exit(1);
	_exit(0);
}

/* Parent side of the intermediate: its report, then reap it. */
pid_t husk_intermediate_result(pid_t ipid, int ipidfd, struct husk_child *c, int sock, int *pidfd,
			       bool *into, struct husk_err *err)
{
	struct husk_msg m;
	int rc;

	/* Our copy of the child's end goes first, or a failed intermediate
	 * would leave the socket open and the wait for its report would not
	 * end. */
	close(c->sock);
	c->sock = -1;
	rc = husk_msg_expect(sock, HUSK_PHASE_CHILD_PID, &m, err);

	husk_kill_and_reap(ipid, ipidfd); /* it exits on its own; this reaps it */
	if (ipidfd >= 0)
		close(ipidfd);
	if (rc < 0)
		return -1;
	*into = m.code != 0;
	pid_t pid = (pid_t)m.value;
	/* Our child thanks to CLONE_PARENT, so the pid cannot be reused. */
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd < 0) {
		husk_err_sys(err, "pidfd_open %d", (int)pid);
		husk_kill_and_reap(pid, -1);
		return -1;
	}
	return pid;
}

/* clone3 with CLONE_NEWNS gives the child its own copy of the mount under
 * our working directory: run it from the rootfs, and the child (in a user
 * namespace, an unprivileged host uid) starts there without looking the
 * rootfs up through host directories. Our own directory, in *saved. */
static int cwd_to_rootfs(const struct husk_spawn_params *p, const struct husk_child *c, int *saved,
			 struct husk_err *err)
{
	const struct husk_namespace *mnt = &p->spec->linux.ns[HUSK_NS_MOUNT];

	*saved = -1;
	if (!mnt->enabled || mnt->path || c->rootfs.rootfs_dir_fd < 0)
		return 0;
	if ((*saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return husk_err_sys(err, "open current directory");
	if (fchdir(c->rootfs.rootfs_dir_fd) < 0)
		return husk_err_sys(err, "chdir to rootfs %s", p->rootfs);
	return 0;
}

static int cwd_restore(int *saved, struct husk_err *err)
{
	int rc = 0;
	if (*saved >= 0 && fchdir(*saved) < 0)
		rc = husk_err_sys(err, "restore current directory");
	if (*saved >= 0)
		close(*saved);
	*saved = -1;
	return rc;
}

static pid_t spawn_clone(const struct husk_spawn_params *p, struct husk_child *c, int sock,
			 int *pidfd, bool *into_cgroup, struct husk_err *err)
{
	struct husk_ns_saved saved;
	bool via_intermediate = husk_ns_user_by_path(p->spec);
	int rc = husk_ns_parent_enter(p->spec, &c->ns, &saved, err), ipidfd = -1, cwd = -1;
	pid_t pid = -1;

	if (rc == 0)
		rc = cwd_to_rootfs(p, c, &cwd, err);

	if (rc == 0 && via_intermediate)
		pid = husk_clone3(0, -1, &ipidfd, into_cgroup, err);
	else if (rc == 0)
		pid = husk_clone3(husk_ns_clone_flags(p->spec), p->cgroup_fd, pidfd, into_cgroup,
				  err);
	if (pid == 0 && via_intermediate)
		intermediate_main(p, c);
	if (pid == 0)
		husk_child_main(c);
	int restored = cwd_restore(&cwd, err);
	if ((husk_ns_parent_leave(&saved, err) < 0 || restored < 0) && pid > 0) {
		husk_kill_and_reap(pid, via_intermediate ? ipidfd : *pidfd);
		return -1;
	}
	if (rc < 0 || pid < 0)
		return -1;
	if (!via_intermediate)
		return pid;
	return husk_intermediate_result(pid, ipidfd, c, sock, pidfd, into_cgroup, err);
}

int husk_linux_spawn(const struct husk_spawn_params *p, struct husk_spawn_result *out,
		     struct husk_err *err)
{
	struct husk_child c = husk_child_new(p->spec, p->spec->process, p->want_pty_master,
					     p->console_socket, p->preserve_fds);
	int pidfd = -1;
	bool into_cgroup;
	_cleanup_close_ int idmap_tree = -1;

	c.p = p;
	c.join_fds = p->join_fds;
	c.n_join_fds = p->n_join_fds;
	out->pid = -1;
	out->pidfd = -1;
	out->pty_master = -1;
	if (!c.proc)
		return husk_err_plain(err, EINVAL, "config has no process");
	if (husk_lsm_check(c.proc, p->spec->linux.mount_label, false, err) < 0)
		return -1;
	_cleanup_close_ int sock = husk_child_socketpair(&c, err);
	if (sock < 0)
		return -1;
	pid_t pid = -1;
	char nsbuf[160];
	if (husk_traced("prepare",
			"console, exec fifo, /proc, namespace paths, rootfs tree, bind sources, "
			"network devices, seccomp",
			child_prepare(p, &c, err)) == 0) {
		uint64_t t0 = husk_trace_begin();
		pid = spawn_clone(p, &c, sock, &pidfd, &into_cgroup, err);
		if (t0)
			husk_trace_end(t0, "clone", husk_ns_describe(p->spec, nsbuf, sizeof(nsbuf)),
				       pid < 0);
	}
	/* The child has its copy of the rootfs tree; ours is idmapped once
	 * the child's maps are written (parent_setup_child). */
	idmap_tree = HUSK_STEAL_FD(c.rootfs.idmapped_root_fd);
	child_release(&c);
	if (pid < 0)
		return -1;

	struct husk_serve_ctx s = {
	    .spec = p->spec, .id = p->id, .bundle = p->bundle, .cb = &p->cb, .pid = pid};
	uint64_t t0 = husk_trace_begin();
	int rc = husk_spawn_complete(&s, sock, pidfd,
				     parent_setup_child(p, pid, into_cgroup, sock, idmap_tree, err),
				     out, err);
	if (t0)
		husk_trace_end(t0, "container process set-up", "until ready", rc < 0);
	return rc;
}
