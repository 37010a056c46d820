/* delete: kill what is left, remove the cgroup, run poststop hooks, remove
 * the state. */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "runtime/backend.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/log.h"

int husk_container_kill_wait(struct husk_container *c, struct husk_err *err)
{
	_cleanup_close_ int pidfd = -1;
	struct husk_err ignored;

	if (c->cgroup_path) {
		struct husk_cgroup *cg = husk_container_cgroup(c, err);
		if (cg && husk_cgroup_kill_all(cg, SIGKILL, err) < 0)
			return -1;
		if (!cg) /* still kill the init; destroy reports the cgroup */
			husk_err_clear(err);
	}
	pidfd = husk_container_pidfd(c, &ignored);
	if (pidfd < 0)
		return 0; /* already gone */
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return husk_err_sys(err, "kill init %d", (int)c->pid);
	if (husk_pidfd_wait_exit(pidfd, 10000) == 0)
		return husk_err_set(err, ETIMEDOUT, "init %d did not die after SIGKILL",
				    (int)c->pid);
	return 0;
}

int husk_container_destroy(const struct husk_ctx *ctx, struct husk_container *c,
			   struct husk_err *err)
{
	if (c->cgroup_path) {
		struct husk_cgroup *cg = husk_container_cgroup(c, err);
		if (!cg && err->code != ENOENT)
			return -1;
		if (!cg) /* already gone: nothing to remove */
			husk_err_clear(err);
		else if (husk_traced("cgroup remove", c->id, husk_cgroup_destroy(cg, err)) < 0)
			return husk_err_prefix(err, "remove cgroup");
	}
	if (c->hook_kinds & (1u << HUSK_HOOK_POSTSTOP)) {
		const struct husk_spec *spec = husk_container_spec(c, err);
		if (spec)
			husk_hooks_run_logged(c, spec, HUSK_HOOK_POSTSTOP, HUSK_STATUS_STOPPED);
		else
			husk_warn("%s", err->msg);
		husk_err_clear(err);
	}
	husk_userns_release(ctx->root, c->id);
	return husk_traced("state remove", c->id, husk_state_remove(ctx->root, c->id, err));
}

static int delete_locked(const struct husk_ctx *ctx, struct husk_container *c, bool force,
			 struct husk_err *err)
{
	const struct husk_backend *b;

	if (husk_backend_of(c, &b, err) < 0)
		return -1;
	switch (c->status) {
	case HUSK_STATUS_CREATING: /* not under the lock (container.c) */
	case HUSK_STATUS_STOPPED:
		/* A create that died half way may have left a process in the
		 * cgroup without saving its pid: destroy kills what is there. */
		break;
	case HUSK_STATUS_CREATED:
		if (husk_traced("kill and wait", c->id, b->delete (c, err)) < 0)
			return -1;
		break;
	case HUSK_STATUS_RUNNING:
	case HUSK_STATUS_PAUSED:
		if (!force)
			return husk_err_set(err, 0,
					    "cannot delete container %s that is not stopped: %s",
					    c->id, husk_status_name(c->status));
		if (husk_traced("kill and wait", c->id, b->delete (c, err)) < 0)
			return -1;
		break;
	}
	if (b->release)
		b->release(c);
	return husk_container_destroy(ctx, c, err);
}

int husk_delete(const struct husk_ctx *ctx, const char *id, bool force, struct husk_err *err)
{
	struct husk_container *c;
	int lock_fd, r;

	/* --force: a broken state.json still finds the cgroup create recorded. */
	if (husk_container_load_locked_as(ctx, id, force, &c, &lock_fd, err) < 0) {
		if (force && err->code == ENOENT) {
			husk_err_clear(err);
			return 0;
		}
		return husk_err_prefix(err, "delete %s", id);
	}
	r = husk_traced("delete", id, delete_locked(ctx, c, force, err));
	if (r < 0)
		husk_err_prefix(err, "delete %s", id);
	close(lock_fd);
	husk_container_free(c);
	return r;
}
