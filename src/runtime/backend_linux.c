/* The linux backend: the container's processes run on the host kernel in
 * their own namespaces (src/linux/), released through the exec fifo, and
 * frozen and measured through the container's cgroup. */
#include "cgroup/cgroup.h"
#include "runtime/backend.h"
#include "runtime/internal.h"

static int linux_freeze(struct husk_container *c, bool frozen, struct husk_err *err)
{
	struct husk_cgroup *cg = husk_container_cgroup(c, err);
	return cg ? husk_cgroup_freeze(cg, frozen, err) : -1;
}

static int linux_pause(struct husk_container *c, struct husk_err *err)
{
	return linux_freeze(c, true, err);
}

static int linux_resume(struct husk_container *c, struct husk_err *err)
{
	return linux_freeze(c, false, err);
}

static char *linux_stats(struct husk_container *c, struct husk_err *err)
{
	struct husk_cgroup *cg = husk_container_cgroup(c, err);
	return cg ? husk_cgroup_stats_json(cg, err) : NULL;
}

const struct husk_backend husk_backend_linux = {
    .name = "linux",
    .host_processes = true,
    .create = husk_linux_spawn,
    .start = husk_linux_release,
    .kill = husk_linux_kill,
    .exec = husk_linux_exec,
    .pause = linux_pause,
    .resume = linux_resume,
    .stats = linux_stats,
    .delete = husk_container_kill_wait,
    .state_extras = NULL,
};
