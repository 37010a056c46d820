/* Cgroup management on pure v1, pure v2 and hybrid hosts. Each controller is
 * driven through whichever hierarchy holds it. A `struct husk_cgroup` is the
 * container's cgroup across every hierarchy; its resolved path is saved in the
 * state store and reopened by later commands with husk_cgroup_open(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/err.h"

struct husk_cgroup;

enum husk_cgroup_mode {
	HUSK_CGROUP_V1,
	HUSK_CGROUP_V2,
	HUSK_CGROUP_HYBRID,
};

/* Detect the host's cgroup layout (cached after the first call). */
int husk_cgroup_mode(enum husk_cgroup_mode *out, struct husk_err *err);

/* Create the container's cgroups from linux.cgroupsPath (absolute, relative to
 * the caller's cgroup, or empty = default per id) and apply
 * linux.resources. On failure nothing is left behind. */
int husk_cgroup_create(const char *id, const struct husk_spec *spec, bool rootless,
		       struct husk_cgroup **out, struct husk_err *err);

/* Where husk_cgroup_create would put the id's cgroups (linux.cgroupsPath,
 * NULL for the default), without creating anything: husk_cgroup_path() of
 * the plan is recorded before husk_cgroup_make(), so a create killed half
 * way leaves a record of every directory it may have made. */
int husk_cgroup_plan(const char *id, const char *cgroups_path, struct husk_cgroup **out,
		     struct husk_err *err);
/* Create a plan's directories and apply linux.resources; on failure the
 * directories made are removed again (the caller still frees cg). */
int husk_cgroup_make(struct husk_cgroup *cg, const struct husk_spec *spec, bool rootless,
		     struct husk_err *err);

/* The systemd driver (--systemd-cgroup): linux.cgroupsPath is
 * "slice:prefix:name"; fails with the reason when systemd is not running.
 * husk_cgroup_make() then starts the transient scope (with husk's own pid
 * in it) and works in its cgroup; once the container's process is in it,
 * husk_cgroup_runtime_leave() moves husk back where it was (-1 when it
 * could not; a no-op where husk is not in a scope). */
int husk_cgroup_plan_systemd(const char *id, const char *cgroups_path, bool rootless,
			     struct husk_cgroup **out, struct husk_err *err);
int husk_cgroup_runtime_leave(struct husk_cgroup *cg);

/* Reopen a container's cgroups from its saved path. */
int husk_cgroup_open(const char *path, struct husk_cgroup **out, struct husk_err *err);

/* The resolved path to save in the state store (e.g. "/husk/c1"). */
const char *husk_cgroup_path(const struct husk_cgroup *cg);

/* The container's cgroup as a path below the hierarchy's root (e.g.
 * "/machine.slice/libpod-x.scope"): the unified hierarchy's where there is
 * one, else the first hierarchy's; NULL when it has none. What a tool that
 * takes one cgroup path (criu --cgroup-root) wants, where husk_cgroup_path
 * is husk's own saved form (one line a hierarchy, the driver's unit). */
const char *husk_cgroup_dir_path(const struct husk_cgroup *cg);

/* A directory fd of the container's cgroup on the unified hierarchy, usable
 * with clone3(CLONE_INTO_CGROUP) when every needed controller lives there;
 * -1 otherwise (hybrid and v1 hosts: use husk_cgroup_enter instead). */
int husk_cgroup_v2_fd(const struct husk_cgroup *cg);

/* Move pid into every hierarchy the container uses (skipping the unified one
 * when `skip_v2` because CLONE_INTO_CGROUP already placed it there, and the
 * v1 ones when `skip_v1` because the process moved itself: see below). */
int husk_cgroup_enter(struct husk_cgroup *cg, pid_t pid, bool skip_v2, bool skip_v1,
		      struct husk_err *err);

/* exec --cgroup: move pid into `sub`, an existing cgroup below the
 * container's (relative; "/" is the container's own; ".." is refused), in
 * the hierarchy that holds `controller`, or in every hierarchy when
 * `controller` is NULL. */
int husk_cgroup_enter_sub(struct husk_cgroup *cg, pid_t pid, const char *controller,
			  const char *sub, struct husk_err *err);

/* The v1 hierarchies' `tasks` files, opened for writing by the runtime, for a
 * single-threaded child to move itself by writing "0" to each: a
 * task moving its own only thread skips the kernel's global cgroup migration
 * lock, whose first taker waits out an RCU grace period (several ms, idle),
 * while writing another process's pid to cgroup.procs takes it. The kernel
 * checks the opener's credentials, so this works inside a user namespace too.
 * n == 0 when there is nothing to do this way (pure v2), or when a file could
 * not be opened (the runtime then writes cgroup.procs instead). */
#define HUSK_CGROUP_MAX_TASKS 32
struct husk_cgroup_tasks {
	size_t n;
	int fd[HUSK_CGROUP_MAX_TASKS];
};
void husk_cgroup_open_tasks(const struct husk_cgroup *cg, struct husk_cgroup_tasks *t);
void husk_cgroup_close_tasks(struct husk_cgroup_tasks *t);

/* Apply (or re-apply, for `update`) resources. */
int husk_cgroup_update(struct husk_cgroup *cg, const struct husk_resources *res,
		       struct husk_err *err);

int husk_cgroup_freeze(struct husk_cgroup *cg, bool frozen, struct husk_err *err);
/* Thaw the container's cgroup and every cgroup below it (one the container
 * froze itself too): after SIGKILL, so that the kill is delivered. */
void husk_cgroup_thaw_all(struct husk_cgroup *cg);
int husk_cgroup_is_frozen(struct husk_cgroup *cg, bool *frozen, struct husk_err *err);

/* Every pid in the container's cgroup (sorted, caller frees). */
int husk_cgroup_pids(struct husk_cgroup *cg, pid_t **pids, size_t *n, struct husk_err *err);

/* Signal every process in the cgroup and the cgroups below it (kill --all,
 * delete --force). Thaws the whole subtree after SIGKILL so the processes
 * can die. */
int husk_cgroup_kill_all(struct husk_cgroup *cg, int sig, struct husk_err *err);

/* runc-shaped "stats" JSON object for `events` (caller frees). */
char *husk_cgroup_stats_json(struct husk_cgroup *cg, struct husk_err *err);

/* Number of OOM kills seen in the container's memory cgroup so far. */
int husk_cgroup_oom_count(struct husk_cgroup *cg, uint64_t *count, struct husk_err *err);

/* A pollable fd (POLLIN) that wakes when the container's memory cgroup may
 * have hit an OOM: read and discard what it holds, then compare
 * husk_cgroup_oom_count() with the count before. Caller closes it. */
int husk_cgroup_oom_watch(struct husk_cgroup *cg, struct husk_err *err);

/* Kill what is left and remove every directory created; idempotent. */
int husk_cgroup_destroy(struct husk_cgroup *cg, struct husk_err *err);

void husk_cgroup_free(struct husk_cgroup *cg);
