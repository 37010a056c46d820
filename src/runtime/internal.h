/* Shared between the files of the lifecycle layer; not part of its API. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/runtime.h"
#include "spec/spec.h"
#include "util/err.h"

/* husk_container_load without the freezer check: a paused container
 * loads as running. For commands to which the difference is no matter. */
int husk_container_load_unfrozen(const struct husk_ctx *ctx, const char *id,
				 struct husk_container **out, struct husk_err *err);

/* Load a container and take its lock first, so its status cannot change
 * under the caller. *lock_fd releases the lock when closed. */
int husk_container_load_locked(const struct husk_ctx *ctx, const char *id,
			       struct husk_container **out, int *lock_fd, struct husk_err *err);
/* The same; `salvage` (delete --force): a state.json that cannot be read
 * loads as a stopped container with no process, its cgroup the one create
 * recorded before making it, so that whatever is left can be removed. */
int husk_container_load_locked_as(const struct husk_ctx *ctx, const char *id, bool salvage,
				  struct husk_container **out, int *lock_fd, struct husk_err *err);

/* Run every hook of one kind with `state_json` on its stdin, in order. The
 * first failure stops the list and is returned. */
int husk_hooks_run(const struct husk_hook_list *hooks, enum husk_hook_kind kind,
		   const char *state_json, struct husk_err *err);

/* Run a hook list whose failures only get logged (poststop). */
void husk_hooks_run_logged(const struct husk_container *c, const struct husk_spec *spec,
			   enum husk_hook_kind kind, enum husk_status status);

/* Run c's hooks of one kind with its state (status as given) on stdin; the
 * first failure stops the list and is returned (poststart). */
int husk_hooks_run_state(const struct husk_container *c, const struct husk_spec *spec,
			 enum husk_hook_kind kind, enum husk_status status, struct husk_err *err);

/* A pidfd for the container's init, checked against its recorded start
 * time so a reused pid is never signalled. -1 with errno ESRCH when gone. */
int husk_container_pidfd(const struct husk_container *c, struct husk_err *err);

/* The container's processes (sorted): its cgroup's, or, when that holds
 * none (rootless without a delegated cgroup), its init and the init's
 * descendants. *from_cgroup says which. */
int husk_container_pids(struct husk_container *c, pid_t **pids, size_t *n, bool *from_cgroup,
			struct husk_err *err);

/* Wait (up to timeout_ms, -1 = forever) until the process behind pidfd exits. */
int husk_pidfd_wait_exit(int pidfd, int timeout_ms);

/* SIGKILL the init and every process in the cgroup, then wait for the init
 * to be gone. */
int husk_container_kill_wait(struct husk_container *c, struct husk_err *err);

/* Tear down a container that is no longer running: cgroup, poststop hooks,
 * state directory. */
int husk_container_destroy(const struct husk_ctx *ctx, struct husk_container *c,
			   struct husk_err *err);

/* Write a pid file atomically the way runc does (digits, no newline). */
int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *err);

/* A process husk waits for in the foreground (run, exec). */
struct husk_proc {
	pid_t pid;
	int pidfd;	/* -1 when none */
	int pty_master; /* -1 unless husk holds the terminal */
};

/* create's work, keeping the process handles for run. `foreground`: husk
 * stays attached, so a terminal without --console-socket is ours to hold. */
int husk_create_internal(const struct husk_ctx *ctx, const char *id,
			 const struct husk_create_opts *o, bool foreground, struct husk_proc *out,
			 struct husk_err *err);

/* Block the signals husk forwards (before the process can be signalled). */
void husk_foreground_block(sigset_t *old);

/* Wait for p in the foreground: forward every signal husk gets, proxy the
 * pty when husk holds it, reap, and give the exit status as a shell would
 * (code, or 128+signal). Restores the signal mask `old` and the terminal. */
int husk_foreground_wait(const struct husk_proc *p, const sigset_t *old, int *exit_status,
			 struct husk_err *err);

/* What a command is about to do, for husk_guard_entry(). */
enum husk_entry {
	HUSK_ENTRY_CREATE, /* a new container process */
	HUSK_ENTRY_EXEC,   /* a process joining a running container */
};

/* Whether a process of this kind meets processes already running in a
 * container (and so could reach husk's binary through /proc/PID/exe,
 * CVE-2019-5736): every exec, and a create that shares or joins a pid
 * namespace. The one place that decides it. */
bool husk_entry_meets_running(enum husk_entry e, const struct husk_spec *spec);

/* Re-exec from a sealed copy of the binary (linux/selfexe.h) when
 * husk_entry_meets_running() says so; 0 when not needed or already sealed. */
int husk_guard_entry(enum husk_entry e, const struct husk_spec *spec, struct husk_err *err);

/* The linux backend's start: open the exec fifo so the waiting process
 * execs its program (start.c); its kill: signal the init through a pidfd,
 * or every process of the container (kill.c). backend_linux.c. */
int husk_linux_release(struct husk_container *c, bool wait_exec, struct husk_err *err);
int husk_linux_kill(struct husk_container *c, int sig, bool all, struct husk_err *err);

/* husk.userns=auto (userns_auto.c): give `spec` uid and gid mappings of a
 * host range no other container of this state root holds, recorded in its
 * annotations (husk.userns.uidmap, husk.userns.gidmap); nothing without the
 * annotation (*block stays -1). Released by husk_userns_release at delete. */
int husk_userns_auto(const char *root, const char *id, struct husk_spec *spec, long *block,
		     struct husk_err *err);
void husk_userns_release(const char *root, const char *id);
/* Release the range `block` husk_userns_auto took (nothing for -1). */
void husk_userns_release_block(const char *root, long block);

/* restore (restore.c): what create hands criu in place of spawning. */
struct husk_cgroup;
struct husk_spawn_result;
struct husk_criu_restore_params {
	const char *id;
	const struct husk_spec *spec;
	const char *rootfs;	/* absolute */
	const char *state_dir;	/* absolute: the container's state directory */
	struct husk_cgroup *cg; /* the container's, made by create; NULL for none */
	const char *criu;	/* --criu, or NULL */
	const struct husk_criu_opts *o;
};
int husk_criu_restore_spawn(const struct husk_criu_restore_params *p, struct husk_spawn_result *out,
			    struct husk_err *err);

/* create's work with the processes restored from o's images (criu) instead
 * of spawned: the container is running when it returns. */
int husk_create_restored(const struct husk_ctx *ctx, const char *id,
			 const struct husk_restore_opts *o, struct husk_proc *out,
			 struct husk_err *err);
