/* The container process, from clone3 to execve. It runs in a copy of the
 * runtime's address space (no re-exec); every failure before "ready" goes
 * to the parent as {errno, message} and ends the process with _exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void husk_child_fail(struct husk_child *c, const struct husk_err *e)
{
	husk_msg_send_error(c->sock, e);
	_exit(1);
}

/* After "ready" nobody listens on the socket: the message goes to the
 * process's stderr, where the user of `start` sees it. */
__attribute__((noreturn)) static void child_die(const struct husk_err *e, int status)
{
	dprintf(STDERR_FILENO, "husk: error: %s\n", e->msg);
	_exit(status);
}

/* CVE-2019-5736: until execve this process is the runtime's binary, and a
 * process already in the container (a joined pid namespace, or any with
 * exec) must not reach it through /proc/PID/exe. Only after the parent's
 * /proc/PID writes, which need it dumpable when rootless; execve resets it. */
static int undumpable(struct husk_child *c, struct husk_err *err)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return husk_err_sys(err, "prctl PR_SET_DUMPABLE");
	return 0;
}

static int wait_go(struct husk_child *c, struct husk_err *err)
{
	struct husk_msg m;
	if (husk_msg_expect(c->sock, HUSK_PHASE_GO, &m, err) < 0)
		return -1;
	c->host_pid = (pid_t)m.value;
	return 0;
}

/* On a v1 (or hybrid) host the runtime writes our pid into each hierarchy
 * after GO: the first write waits out an RCU grace period in the kernel's
 * cgroup migration, so we set up meanwhile and wait only where our own
 * cgroup matters: a new cgroup namespace (rooted at it), a cgroup mount
 * (which shows it), and before any hook runs or the process goes on. */
static int wait_joined(struct husk_child *c, struct husk_err *err)
{
	struct husk_msg m;

	if (c->joined)
		return 0;
	if (husk_msg_expect(c->sock, HUSK_PHASE_JOINED, &m, err) < 0)
		return -1;
	c->joined = true;
	return 0;
}

static int wait_joined_cb(void *arg, struct husk_err *err)
{
	if (wait_joined(arg, err) < 0)
		return husk_err_prefix(err, "wait for the cgroup");
	return 0;
}

/* Moving our own (only) thread needs no global lock in the kernel, unlike the
 * runtime moving us (see husk_cgroup_open_tasks). First thing, so every
 * kernel object of the container is charged to its cgroups. */
static int join_cgroups(struct husk_child *c, struct husk_err *err)
{
	const char *initial = c->proc ? c->proc->exec_cpu_affinity_initial : NULL;
	int rc = 0;

	/* execCPUAffinity.initial: the CPUs to move into the cgroup on. */
	if (initial)
		rc = husk_affinity_apply(initial, "initial", err);
	for (size_t i = 0; i < c->n_join_fds && rc == 0; i++)
		if (write(c->join_fds[i], "0", 1) != 1)
			rc = husk_err_sys(err, "join cgroup: move into v1 hierarchy %zu", i + 1);
	for (size_t i = 0; i < c->n_join_fds; i++)
		close(c->join_fds[i]);
	c->n_join_fds = 0;
	return rc;
}

static bool new_cgroup_ns(const struct husk_child *c)
{
	const struct husk_namespace *ns = &c->spec->linux.ns[HUSK_NS_CGROUP];
	return ns->enabled && !ns->path;
}

static bool new_net_ns(const struct husk_child *c)
{
	const struct husk_namespace *ns = &c->spec->linux.ns[HUSK_NS_NETWORK];
	return ns->enabled && !ns->path;
}

static int run_hooks_here(struct husk_child *c, enum husk_hook_kind kind, struct husk_err *err)
{
	const struct husk_spawn_callbacks *cb = &c->p->cb;
	if (!cb->run_hooks || c->spec->hooks[kind].n == 0)
		return 0;
	return cb->run_hooks(cb->ctx, kind, c->host_pid, err);
}

/* As in runc, where they run in its init once it took the process's
 * environment: a createContainer hook without "env" gets process.env. */
static int run_create_container_hooks(struct husk_child *c, struct husk_err *err)
{
	char *none[] = {NULL};
	char **saved = environ;

	environ = c->proc->env.v ? c->proc->env.v : none;
	int rc = run_hooks_here(c, HUSK_HOOK_CREATE_CONTAINER, err);
	environ = saved;
	return rc;
}

/* prestart and createRuntime run in the runtime's namespaces: ask the
 * parent and wait until they are done. */
static int run_runtime_hooks(struct husk_child *c, struct husk_err *err)
{
	const struct husk_hook_list *h = c->spec->hooks;
	struct husk_msg m;

	if (!c->p->cb.run_hooks || h[HUSK_HOOK_PRESTART].n + h[HUSK_HOOK_CREATE_RUNTIME].n == 0)
		return 0;
	if (husk_msg_write(c->sock, HUSK_MSG_RUN_HOOKS, 0, err) < 0)
		return husk_err_prefix(err, "ask for prestart hooks");
	return husk_msg_expect(c->sock, HUSK_PHASE_HOOKS, &m, err);
}

static int set_names(struct husk_child *c, struct husk_err *err)
{
	const struct husk_spec *spec = c->spec;

	/* An empty name keeps the one the new UTS namespace copied, as in runc. */
	if (spec->hostname && *spec->hostname &&
	    sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return husk_err_sys(err, "sethostname %s", spec->hostname);
	if (spec->domainname && *spec->domainname &&
	    setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return husk_err_sys(err, "setdomainname %s", spec->domainname);
	return 0;
}

static int load_seccomp(struct husk_child *c, struct husk_err *err)
{
	int notify_fd;

	if (!c->seccomp || c->seccomp_loaded)
		return 0;
	if (husk_seccomp_load(c->seccomp, &notify_fd, err) < 0)
		return -1;
	c->seccomp_loaded = true;
	if (notify_fd < 0)
		return 0;
	int rc = husk_msg_send(c->sock, HUSK_MSG_SECCOMP_FD, 0, notify_fd, err);
	close(notify_fd);
	return rc;
}

/* Every call after the load must pass the profile, and a profile that
 * allows only what the workload needs knows nothing of the runtime's
 * calls: the filter waits until just before execve (husk_child_exec) when
 * it can. It cannot when loading needs CAP_SYS_ADMIN (no no_new_privs, and
 * the process's own capabilities lack it: before they are dropped, as
 * runc), nor with a listener, which goes to the runtime before "ready". */
static bool seccomp_can_wait(const struct husk_child *c)
{
	const struct husk_process *proc = c->proc;

	if (!c->seccomp || husk_seccomp_has_listener(c->seccomp))
		return false;
	return proc->no_new_privileges || (proc->caps.effective & (1ULL << CAP_SYS_ADMIN));
}

/* CVE-2024-21626: a cwd reached through a leaked fd lies outside the root;
 * the kernel then reports it as unreachable (getcwd fails with ENOENT). */
static int verify_cwd(struct husk_err *err)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		return husk_err_set(err, errno ? errno : EPERM,
				    "current directory is outside the container root");
	return 0;
}

static int change_dir(const char *cwd, bool *done, struct husk_err *err)
{
	if (*done || !cwd)
		return 0;
	if (chdir(cwd) < 0) {
		/* It may only be reachable for the process's user. */
		if (errno == EACCES && !*done)
			return 0;
		return husk_err_sys(err, "chdir %s", cwd);
	}
	*done = true;
	return verify_cwd(err);
}

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static const char *env_path(const struct husk_process *proc)
{
	for (size_t i = 0; i < proc->env.n; i++)
		if (strncmp(proc->env.v[i], "PATH=", 5) == 0)
			return proc->env.v[i] + 5;
	return DEFAULT_PATH;
}

/* Look args[0] up in the container's PATH now, so a missing binary fails
 * `create` rather than `start`. */
static int resolve_exec(struct husk_child *c, struct husk_err *err)
{
	const char *name = c->proc->args.n ? c->proc->args.v[0] : NULL;

	if (!name || !*name)
		return husk_err_plain(err, EINVAL, "process.args is empty");
	if (strchr(name, '/')) {
		errno = 0;
		if (!is_executable(name))
			return husk_err_set(err, errno ? errno : EACCES, "exec %s", name);
		c->exec_path = strdup(name);
		return c->exec_path ? 0 : husk_err_set(err, ENOMEM, "exec %s", name);
	}
	for (const char *dir = env_path(c->proc); dir;) {
		const char *end = strchrnul(dir, ':');
		_cleanup_free_ char *cand = NULL;
		int dlen = (int)(end - dir);
		if (asprintf(&cand, "%.*s%s%s", dlen, dir, dlen ? "/" : "", name) < 0)
			return husk_err_set(err, ENOMEM, "exec %s", name);
		if (is_executable(cand)) {
			c->exec_path = HUSK_STEAL_PTR(cand);
			return 0;
		}
		dir = *end ? end + 1 : NULL;
	}
	return husk_err_plain(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
			      name);
}

/* argv for execve: the strv with a NULL after it. */
static char **strv_dup_null(const struct husk_strv *s, size_t extra)
{
	char **v = calloc(s->n + extra + 1, sizeof(*v));
	if (v && s->n)
		memcpy(v, s->v, s->n * sizeof(*v));
	return v;
}

/* As runc: without HOME in process.env, the user's home from the image's
 * /etc/passwd, else "/". Read now, while the process may still read it. */
static int build_env(struct husk_child *c, struct husk_err *err)
{
	const struct husk_strv *env = &c->proc->env;
	bool has_home = false;

	for (size_t i = 0; i < env->n && !has_home; i++)
		has_home = strncmp(env->v[i], "HOME=", 5) == 0;
	c->envp = strv_dup_null(env, 1);
	if (!c->envp)
		return husk_err_set(err, ENOMEM, "process environment");
	if (has_home)
		return 0;
	_cleanup_free_ char *home = husk_passwd_home(c->proc->user.uid);
	if (asprintf(&c->envp[env->n], "HOME=%s", home ? home : "/") < 0) {
		c->envp[env->n] = NULL;
		return husk_err_set(err, ENOMEM, "process environment");
	}
	return 0;
}

/* Where it could wait, the filter goes on now: execve is the only call
 * after it (startContainer hooks aside, which run under it, as in runc). */
static int load_seccomp_late(struct husk_child *c, struct husk_err *err)
{
	if (!c->seccomp_late)
		return 0;
	return load_seccomp(c, err);
}

void husk_child_exec(struct husk_child *c)
{
	struct husk_err err;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The last line before the user program: the duration is the whole
	 * set-up of this process, from clone (or its start for exec). Traced
	 * before the late filter: after it, only execve is made. */
	if (c->started)
		husk_trace_end(c->started, "exec", c->exec_path, false);
	if (load_seccomp_late(c, &err) < 0) {
		if (c->sock >= 0)
			husk_child_fail(c, &err);
		child_die(&err, 1);
	}
	execve(c->exec_path, c->argv, c->envp);
	husk_err_sys(&err, "exec %s", c->exec_path);
	if (c->sock >= 0)
		husk_child_fail(c, &err);
	child_die(&err, 127);
}

/* ---- the steps: thin adapters, one per line of the tables below -------- */

static int open_time_offsets(struct husk_child *c, struct husk_err *err)
{
	return husk_ns_open_time_offsets(c->spec, &c->timens_offsets_fd, err);
}

static int join_namespaces(struct husk_child *c, struct husk_err *err)
{
	return husk_ns_child_join(c->spec, &c->ns, err);
}

static int move_net_devices(struct husk_child *c, struct husk_err *err)
{
	return husk_netdev_move(c->spec, &c->netdevs, err);
}

static int become_root_uid(struct husk_child *c, struct husk_err *err)
{
	return husk_userns_become_root_uid(c->spec, err);
}

static int become_root_gid(struct husk_child *c, struct husk_err *err)
{
	return husk_userns_become_root_gid(c->spec, err);
}

static int unshare_late(struct husk_child *c, struct husk_err *err)
{
	return husk_ns_child_unshare(c->spec, c->proc_fd, &c->timens_offsets_fd, err);
}

static int loopback_up(struct husk_child *c, struct husk_err *err)
{
	return husk_netdev_loopback_up(err);
}

static int new_session(struct husk_child *c, struct husk_err *err)
{
	if (setsid() < 0)
		return husk_err_sys(err, "setsid");
	return 0;
}

/* A "cgroup" mount shows our own cgroup: wait_joined first (rootfs.h). */
static int mounts(struct husk_child *c, struct husk_err *err)
{
	c->rootfs.before_cgroup_mount = wait_joined_cb;
	c->rootfs.before_cgroup_mount_arg = c;
	return husk_rootfs_prepare(c->p, &c->rootfs, err);
}

static int pivot(struct husk_child *c, struct husk_err *err)
{
	return husk_rootfs_pivot(c->p, &c->rootfs, err);
}

static int rootfs_finish(struct husk_child *c, struct husk_err *err)
{
	if (husk_rootfs_finish(c->p, &c->rootfs, err) < 0)
		return -1;
	husk_rootfs_ctx_close(&c->rootfs);
	return 0;
}

static int terminal(struct husk_child *c, struct husk_err *err)
{
	return husk_terminal_setup(c, err);
}

static bool wants_keyring(const struct husk_child *c)
{
	return !c->p->no_new_keyring;
}

static int container_keyring(struct husk_child *c, struct husk_err *err)
{
	return husk_keyring_join(c->p->id, err);
}

/* exec: an anonymous session keyring of its own. */
static int exec_keyring(struct husk_child *c, struct husk_err *err)
{
	return husk_keyring_join(NULL, err);
}

static int process_argv_env(struct husk_child *c, struct husk_err *err)
{
	c->argv = strv_dup_null(&c->proc->args, 0);
	if (!c->argv)
		return husk_err_set(err, ENOMEM, "process arguments");
	return build_env(c, err);
}

static int rlimits(struct husk_child *c, struct husk_err *err)
{
	return husk_rlimits_apply(c->proc, err);
}

static int attributes(struct husk_child *c, struct husk_err *err)
{
	return husk_attrs_apply(c->spec, c->proc, err);
}

/* Everything past the preserved fds is closed by execve. Before any
 * filter: a profile need not allow close_range. */
static int cloexec_fds(struct husk_child *c, struct husk_err *err)
{
	return husk_fds_cloexec_from(3 + (unsigned)c->preserve_fds, c->proc_fd, err);
}

/* Decide whether the filter waits until just before execve, and check now
 * what only its load would tell. */
static int seccomp_plan(struct husk_child *c, struct husk_err *err)
{
	c->seccomp_late = seccomp_can_wait(c);
	return c->seccomp_late ? husk_seccomp_check(c->seccomp, err) : 0;
}

static bool nnp(const struct husk_child *c)
{
	return c->proc->no_new_privileges;
}

/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the
 * capabilities go. */
static bool seccomp_before_caps(const struct husk_child *c)
{
	return !nnp(c) && !c->seccomp_late;
}

/* With no_new_privs and a listener: as late as the hand-over to the
 * runtime allows. */
static bool seccomp_after_caps(const struct husk_child *c)
{
	return nnp(c) && !c->seccomp_late;
}

static int seccomp_now(struct husk_child *c, struct husk_err *err)
{
	return load_seccomp(c, err);
}

/* process.cwd, while still root (it may be reachable only for root) ... */
static int cwd_as_root(struct husk_child *c, struct husk_err *err)
{
	return change_dir(c->proc->cwd, &c->cwd_done, err);
}

/* ... or, where root got EACCES, as the process's user. */
static int cwd_as_user(struct husk_child *c, struct husk_err *err)
{
	if (c->cwd_done || !c->proc->cwd)
		return 0;
	if (chdir(c->proc->cwd) < 0)
		return husk_err_sys(err, "chdir %s", c->proc->cwd);
	c->cwd_done = true;
	return verify_cwd(err);
}

static int caps_bounding(struct husk_child *c, struct husk_err *err)
{
	return husk_caps_drop_bounding(&c->proc->caps, err);
}

static int user_ids(struct husk_child *c, struct husk_err *err)
{
	return husk_identity_apply(&c->proc->user, !c->setgroups_denied, true, err);
}

static int caps_sets(struct husk_child *c, struct husk_err *err)
{
	return husk_caps_apply(&c->proc->caps, err);
}

static int no_new_privs(struct husk_child *c, struct husk_err *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return husk_err_sys(err, "prctl PR_SET_NO_NEW_PRIVS");
	return 0;
}

static const char *ns_object(const struct husk_child *c, char *buf, size_t cap)
{
	return husk_ns_describe(c->spec, buf, cap);
}

static const char *rootfs_object(const struct husk_child *c, char *buf, size_t cap)
{
	return c->p->rootfs;
}

static const char *hostname_object(const struct husk_child *c, char *buf, size_t cap)
{
	return c->spec->hostname;
}

static const char *id_object(const struct husk_child *c, char *buf, size_t cap)
{
	return c->p->id;
}

/* ---- the recipes -------------------------------------------------------- */

/* From rlimits to just before "ready" (create) or execve (exec): the same
 * for both. Order matters:
 *  - fds are marked close-on-exec before any filter (close_range);
 *  - without no_new_privs the filter is loaded before the capabilities are
 *    dropped (it needs CAP_SYS_ADMIN), with it after (as late as a
 *    listener's hand-over allows); where it can, it waits until just
 *    before execve (husk_child_exec) and only its flags are checked here;
 *  - the bounding set goes before the user change, the other sets after it
 *    (keep_caps), then no_new_privs;
 *  - args[0] is looked up in the container's PATH as the process's user. */
#define PROCESS_STEPS                                                                              \
	{"process arguments", process_argv_env}, {"rlimits", rlimits},                             \
	    {"process attributes", attributes}, {"close-on-exec fds", cloexec_fds},                \
	    {"seccomp check", seccomp_plan},                                                       \
	    {"seccomp", seccomp_now, seccomp_before_caps, "filter"}, {"cwd", cwd_as_root},         \
	    {"capabilities bounding set", caps_bounding, NULL, "bounding set"},                    \
	    {"user", user_ids, NULL, "uid, gid, groups"},                                          \
	    {"capabilities", caps_sets, NULL, "effective, permitted, inheritable, ambient"},       \
	    {"no_new_privs", no_new_privs, nnp}, {"cwd as user", cwd_as_user},                     \
	    {"find executable", resolve_exec},                                                     \
	{                                                                                          \
		"seccomp", seccomp_now, seccomp_after_caps, "filter"                               \
	}

/* The container's init, from clone3 to "ready". Order matters:
 *  - cgroups first (v1 tasks files), so every kernel object is charged;
 *  - GO: the parent wrote the id maps and oom score (which need the process
 *    dumpable), then undumpable, before anything of the container can see
 *    /proc/PID/exe (CVE-2019-5736);
 *  - the time offsets file is opened while the host's ids still own it;
 *  - JOINED is awaited only where the own cgroup shows: before a new cgroup
 *    namespace (rooted at it), before a cgroup mount (mounts), and before
 *    any hook runs;
 *  - a new IPC namespace under a new user namespace is made by the late
 *    unshare, once root there (its mqueue root takes the creator's fsuid);
 *  - createContainer hooks and the terminal before pivot_root, hostname
 *    and keyring after. */
static const struct husk_step create_steps[] = {
    {"cgroup join", join_cgroups, NULL, "container process"},
    {"wait for the runtime", wait_go},
    {"time offsets", open_time_offsets},
    {"namespaces join", join_namespaces, NULL, NULL, ns_object},
    {"network devices", move_net_devices},
    {"user namespace uid", become_root_uid},
    {"wait for cgroup join before cgroup namespace", wait_joined, new_cgroup_ns, "runtime"},
    {"namespaces unshare", unshare_late, NULL, "cgroup,time"},
    {"loopback up", loopback_up, new_net_ns, "lo"},
    {"user namespace gid", become_root_gid},
    {"undumpable", undumpable},
    {"setsid", new_session},
    {"mounts", mounts, NULL, NULL, rootfs_object},
    {"wait for cgroup join", wait_joined, NULL, "runtime"},
    {"prestart hooks", run_runtime_hooks, NULL, "prestart,createRuntime"},
    {"createContainer hooks", run_create_container_hooks, NULL, "createContainer"},
    {"terminal", terminal},
    {"pivot_root", pivot, NULL, NULL, rootfs_object},
    {"masked and read-only paths", rootfs_finish, NULL, "/"},
    {"hostname", set_names, NULL, NULL, hostname_object},
    {"session keyring", container_keyring, wants_keyring, NULL, id_object},
    PROCESS_STEPS,
};

/* A process exec'd into a running container, once it joined the
 * container's namespaces (exec.c): the create recipe without namespaces,
 * mounts and hooks. GO comes after the parent put it in its cgroups. */
static const struct husk_step exec_steps[] = {
    {"cgroup join", join_cgroups, NULL, "exec process"},
    {"wait for the runtime", wait_go},
    {"undumpable", undumpable},
    {"setsid", new_session},
    {"session keyring", exec_keyring},
    {"terminal", terminal},
    PROCESS_STEPS,
};

const struct husk_steps husk_create_steps = {create_steps, HUSK_ARRAY_SIZE(create_steps)};
const struct husk_steps husk_exec_steps = {exec_steps, HUSK_ARRAY_SIZE(exec_steps)};

void husk_child_enter(struct husk_child *c)
{
	if (c->parent_sock >= 0)
		close(c->parent_sock);
	c->parent_sock = -1;
}

void husk_child_main(struct husk_child *c)
{
	struct husk_err err;

	c->started = husk_trace_begin();
	husk_child_enter(c);

	husk_err_clear(&err);
	if (husk_steps_run(husk_create_steps.v, husk_create_steps.n, c, &err) < 0)
		husk_child_fail(c, &err);
	if (husk_msg_write(c->sock, HUSK_MSG_READY, 0, &err) < 0)
		_exit(1);
	close(c->sock);
	c->sock = -1;
	int fifo = husk_execfifo_open(c->proc_fd, c->fifo_fd, &err);
	if (fifo < 0)
		child_die(&err, 1);
	close(c->fifo_fd);
	close(c->proc_fd);
	/* The byte first, as runc does: `start` succeeds and goes on to the
	 * poststart hooks even when a startContainer hook fails; that failure
	 * goes to the container's stderr and stops the container. */
	environ = c->envp; /* what startContainer hooks without "env" get */
	if (husk_execfifo_release(fifo, &err) < 0)
		child_die(&err, 1);
	if (c->spec->hooks[HUSK_HOOK_START_CONTAINER].n &&
	    (load_seccomp_late(c, &err) < 0 ||
	     run_hooks_here(c, HUSK_HOOK_START_CONTAINER, &err) < 0))
		child_die(&err, 1);
	husk_child_exec(c);
}

void husk_child_exec_main(struct husk_child *c)
{
	struct husk_err err;

	c->started = husk_trace_begin();
	husk_err_clear(&err);
	if (husk_steps_run(husk_exec_steps.v, husk_exec_steps.n, c, &err) < 0)
		husk_child_fail(c, &err);
	husk_child_exec(c);
}
