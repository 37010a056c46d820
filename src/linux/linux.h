/* The linux backend: turns a validated spec into a process inside its own
 * namespaces, rootfs and security context, blocked before execve until
 * `start` opens the exec fifo. Also joins a running container for `exec`.
 *
 * The runtime layer owns state, cgroups and hooks; it reaches into the
 * spawn sequence only through the callbacks below, so this layer knows
 * nothing of cgroup drivers or the state store. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/err.h"

struct husk_spawn_callbacks {
	void *ctx;
	/* Parent side, right after clone while the child waits and before it
	 * creates its cgroup namespace: put `pid` into the container's cgroups
	 * (those not already joined through CLONE_INTO_CGROUP). May be NULL. */
	int (*child_created)(void *ctx, pid_t pid, struct husk_err *err);
	/* Run the hooks of one kind with the container's state JSON on stdin.
	 * Called in the parent (runtime namespace) for PRESTART and
	 * CREATE_RUNTIME, and in the container process for CREATE_CONTAINER
	 * and START_CONTAINER, at the points the OCI spec defines. `pid` is the
	 * container init's pid in the runtime's pid namespace. May be NULL. */
	int (*run_hooks)(void *ctx, enum husk_hook_kind kind, pid_t pid, struct husk_err *err);
};

struct husk_spawn_params {
	const char *id;
	const struct husk_spec *spec;
	const char *bundle;	    /* absolute path */
	const char *rootfs;	    /* absolute path of root.path */
	const char *exec_fifo;	    /* absolute path; the child blocks opening it for write */
	const char *console_socket; /* NULL unless --console-socket */
	int preserve_fds;	    /* fds 3..3+n-1 pass into the container */
	bool no_pivot;
	bool no_new_keyring;
	bool want_pty_master; /* process.terminal without a console socket: the
				 pty master comes back in result.pty_master */
	int cgroup_fd;	      /* cgroup v2 directory for CLONE_INTO_CGROUP, or -1 */
	/* v1 `tasks` files (husk_cgroup_open_tasks) the child writes "0" to, moving
	 * itself into its cgroups first thing; the parent then skips those. */
	const int *join_fds;
	size_t n_join_fds;
	struct husk_spawn_callbacks cb;
};

struct husk_spawn_result {
	pid_t pid;	/* in the caller's pid namespace */
	int pidfd;	/* O_CLOEXEC pidfd of pid, or -1 */
	int pty_master; /* see want_pty_master, else -1 */
};

/* Create the container process. Returns 0 once the child has finished every
 * setup step and waits on the exec fifo; on failure the child is killed and
 * reaped and err carries the child's own step and errno. */
int husk_linux_spawn(const struct husk_spawn_params *p, struct husk_spawn_result *out,
		     struct husk_err *err);

struct husk_exec_params {
	pid_t target_pid;	      /* the container's init */
	const struct husk_spec *spec; /* the container's spec: namespaces, seccomp, rootless */
	const struct husk_process *process; /* the process to run (from --process or flags) */
	const char *console_socket;
	int preserve_fds;
	bool want_pty_master;
	int cgroup_fd;	     /* cgroup v2 directory for CLONE_INTO_CGROUP, or -1 */
	const int *join_fds; /* as in husk_spawn_params */
	size_t n_join_fds;
	struct husk_spawn_callbacks cb; /* child_created only */
	const char *id, *bundle;	/* for the seccomp listener's state (may be NULL) */
	int state_dir_fd;		/* the container's state directory (the vm backend) */
};

/* Start process `p->process` inside a running container; it runs at once
 * (no fifo). Returns when the new process has execve'd or failed. */
int husk_linux_exec(const struct husk_exec_params *p, struct husk_spawn_result *out,
		    struct husk_err *err);

/* Compiled seccomp filters are cached (checked against the whole profile
 * before use) in a private directory: by default /run/husk-seccomp-cache
 * for root, $XDG_RUNTIME_DIR/husk-seccomp-cache otherwise (beside the state
 * root, never in it). NULL disables. */
void husk_linux_set_seccomp_cache_dir(const char *dir);
