/* update, pause, resume, ps and events: load the container, check its
 * status the way runc does, and hand the work to src/cgroup/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "cgroup/cgroup.h"
#include "runtime/backend.h"
#include "runtime/cgroup_ops.h"
#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/io.h"

/* Load under the container's lock so delete cannot race the change. */
static int load_locked(const struct husk_ctx *ctx, const char *id, struct husk_container **c,
		       int *lock_fd, struct husk_cgroup **cg, struct husk_err *err)
{
	if (husk_container_load_locked(ctx, id, c, lock_fd, err) < 0)
		return -1;
	if ((*c)->status == HUSK_STATUS_STOPPED || (*c)->status == HUSK_STATUS_CREATING) {
		husk_err_set(err, 0, "container not running");
		goto fail;
	}
	*cg = husk_container_cgroup(*c, err);
	if (*cg)
		return 0;
fail:
	husk_container_free(*c);
	close(*lock_fd);
	*c = NULL;
	return -1;
}

int husk_update(const struct husk_ctx *ctx, const char *id, const struct husk_resources *res,
		struct husk_err *err)
{
	struct husk_container *c;
	struct husk_cgroup *cg;
	int lock_fd, r;

	if (load_locked(ctx, id, &c, &lock_fd, &cg, err) < 0)
		return husk_err_prefix(err, "update %s", id);
	r = husk_cgroup_update(cg, res, err);
	if (r < 0)
		husk_err_prefix(err, "update %s", id);
	husk_container_free(c);
	close(lock_fd);
	return r;
}

static int set_frozen(const struct husk_ctx *ctx, const char *id, bool frozen, struct husk_err *err)
{
	const char *verb = frozen ? "pause" : "resume";
	const struct husk_backend *b;
	struct husk_container *c;
	struct husk_cgroup *cg;
	int lock_fd, r;

	if (load_locked(ctx, id, &c, &lock_fd, &cg, err) < 0)
		return husk_err_prefix(err, "%s %s", verb, id);
	if (frozen && c->status == HUSK_STATUS_PAUSED)
		r = husk_err_set(err, 0, "container not running");
	else if (!frozen && c->status != HUSK_STATUS_PAUSED)
		r = husk_err_set(err, 0, "container not paused");
	else
		r = husk_backend_of(c, &b, err) < 0 ? -1
		    : frozen			    ? b->pause(c, err)
						    : b->resume(c, err);
	if (r < 0)
		husk_err_prefix(err, "%s %s", verb, id);
	husk_container_free(c);
	close(lock_fd);
	return r;
}

int husk_pause(const struct husk_ctx *ctx, const char *id, struct husk_err *err)
{
	return set_frozen(ctx, id, true, err);
}

int husk_resume(const struct husk_ctx *ctx, const char *id, struct husk_err *err)
{
	return set_frozen(ctx, id, false, err);
}

static int append_pid(pid_t **v, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		pid_t *nv = realloc(*v, ncap * sizeof(**v));
		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = pid;
	return 0;
}

/* Adds the children of every thread of `pid` (/proc/PID/task/TID/children). */
static int append_children(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	char path[96];
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0; /* it just exited */
	while ((e = readdir(d))) {
		struct husk_err ignored = {0};
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children", (int)pid, e->d_name);
		/* Gone since the listing: no children to add. */
		_cleanup_free_ char *buf = husk_read_file(AT_FDCWD, path, 0, NULL, &ignored);
		if (!buf)
			continue;
		for (char *p = buf, *end; *p; p = end) {
			long child = strtol(p, &end, 10);
			if (end == p)
				break;
			if (append_pid(v, n, cap, (pid_t)child) < 0) {
				closedir(d);
				return -1;
			}
		}
	}
	closedir(d);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The init (checked by its pidfd, so a reused pid is never taken) and all
 * its descendants, breadth first. */
static int init_tree(const struct husk_container *c, pid_t **pids, size_t *n, struct husk_err *err)
{
	_cleanup_close_ int pidfd = husk_container_pidfd(c, err);
	pid_t *v = NULL;
	size_t len = 0, cap = 0;

	if (pidfd < 0) {
		husk_err_clear(err); /* gone: no processes */
		return 0;
	}
	if (append_pid(&v, &len, &cap, c->pid) < 0)
		return husk_err_set(err, ENOMEM, "list processes");
	for (size_t i = 0; i < len; i++) {
		if (append_children(v[i], &v, &len, &cap) < 0) {
			free(v);
			return husk_err_set(err, ENOMEM, "list processes");
		}
	}
	qsort(v, len, sizeof(*v), cmp_pid);
	*pids = v;
	*n = len;
	return 0;
}

int husk_container_pids(struct husk_container *c, pid_t **pids, size_t *n, bool *from_cgroup,
			struct husk_err *err)
{
	struct husk_cgroup *cg = husk_container_cgroup(c, err);

	*pids = NULL;
	*n = 0;
	*from_cgroup = true;
	if (cg && husk_cgroup_pids(cg, pids, n, err) < 0)
		return -1;
	if (*n > 0)
		return 0;
	free(*pids);
	*pids = NULL;
	husk_err_clear(err);
	*from_cgroup = false;
	return init_tree(c, pids, n, err);
}

int husk_ps(const struct husk_ctx *ctx, const char *id, pid_t **pids, size_t *n,
	    struct husk_err *err)
{
	struct husk_container *c;
	bool from_cgroup;
	int r = -1;

	*pids = NULL;
	*n = 0;
	if (husk_container_load(ctx, id, &c, err) < 0)
		return husk_err_prefix(err, "ps %s", id);
	if (c->status == HUSK_STATUS_STOPPED)
		husk_err_set(err, 0, "container not running");
	else
		r = husk_container_pids(c, pids, n, &from_cgroup, err);
	if (r < 0)
		husk_err_prefix(err, "ps %s", id);
	husk_container_free(c);
	return r;
}

struct husk_events {
	const struct husk_ctx *ctx;
	char *id;
	struct husk_container *c;
	struct husk_cgroup *cg;
	int oom_fd; /* -1 when the host cannot watch OOMs */
	uint64_t ooms;
	long next_check_ms;
};

void husk_events_close(struct husk_events *ev)
{
	if (!ev)
		return;
	if (ev->oom_fd >= 0)
		close(ev->oom_fd);
	husk_container_free(ev->c);
	free(ev->id);
	free(ev);
}

int husk_events_open(const struct husk_ctx *ctx, const char *id, struct husk_events **out,
		     struct husk_err *err)
{
	struct husk_events *ev = calloc(1, sizeof(*ev));
	struct husk_err ignored = {0};

	if (!ev || !(ev->id = strdup(id))) {
		free(ev);
		return husk_err_set(err, ENOMEM, "events %s", id);
	}
	ev->ctx = ctx;
	ev->oom_fd = -1;
	if (husk_container_load(ctx, id, &ev->c, err) < 0)
		goto fail;
	if (ev->c->status == HUSK_STATUS_STOPPED) {
		husk_err_set(err, 0, "container with id %s is not running", id);
		goto fail;
	}
	ev->cg = husk_container_cgroup(ev->c, err);
	if (!ev->cg)
		goto fail;
	/* No memory cgroup (rootless): stats still work, OOMs are not seen. */
	ev->oom_fd = husk_cgroup_oom_watch(ev->cg, &ignored);
	husk_cgroup_oom_count(ev->cg, &ev->ooms, &ignored);
	*out = ev;
	return 0;
fail:
	husk_events_close(ev);
	return husk_err_prefix(err, "events %s", id);
}

char *husk_events_stats(struct husk_events *ev, struct husk_err *err)
{
	const struct husk_backend *b;
	_cleanup_free_ char *data = NULL;
	char *line = NULL;

	if (husk_backend_of(ev->c, &b, err) < 0 || !(data = b->stats(ev->c, err)))
		return NULL;
	/* Ids are [A-Za-z0-9_.+-] (husk_id_validate): no JSON escaping needed. */
	if (asprintf(&line, "{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}", ev->id, data) < 0) {
		husk_err_set(err, ENOMEM, "events %s", ev->id);
		return NULL;
	}
	return line;
}

static int check_stopped(struct husk_events *ev, bool *stopped, struct husk_err *err)
{
	struct husk_container *c;
	if (husk_container_load(ev->ctx, ev->id, &c, err) < 0) {
		if (err->code != ENOENT)
			return -1;
		husk_err_clear(err); /* deleted */
		*stopped = true;
		return 0;
	}
	*stopped = c->status == HUSK_STATUS_STOPPED;
	husk_container_free(c);
	return 0;
}

/* OOM kills counted since the last call. */
static unsigned new_ooms(struct husk_events *ev)
{
	uint64_t count = ev->ooms;
	husk_cgroup_oom_count(ev->cg, &count, &(struct husk_err){0});
	if (count <= ev->ooms)
		return 0;
	unsigned n = (unsigned)(count - ev->ooms);
	ev->ooms = count;
	return n;
}

int husk_events_wait(struct husk_events *ev, int timeout_ms, unsigned *oom, bool *stopped,
		     struct husk_err *err)
{
	long deadline = husk_monotonic_ms() + timeout_ms;

	*oom = 0;
	*stopped = false;
	for (;;) {
		long now = husk_monotonic_ms(), left = deadline - now;
		if (now >= ev->next_check_ms) {
			/* The count is read on every check too: an OOM that kills
			 * the init must still be reported before "stopped". */
			if (check_stopped(ev, stopped, err) < 0)
				return -1;
			*oom = new_ooms(ev); /* after: a kill that stopped it is counted */
			ev->next_check_ms = now + 1000;
			if (*oom || *stopped)
				return 0;
		}
		if (left <= 0)
			return 0;
		if (left > ev->next_check_ms - now)
			left = ev->next_check_ms - now;
		struct pollfd p = {.fd = ev->oom_fd, .events = POLLIN};
		int r = poll(&p, ev->oom_fd >= 0 ? 1 : 0, (int)left);
		if (r < 0 && errno != EINTR)
			return husk_err_sys(err, "events %s: poll", ev->id);
		if (r > 0) {
			char drain[4096];
			while (read(ev->oom_fd, drain, sizeof(drain)) > 0)
				;
			/* v1 notifies as the OOM starts, before the kill is
			 * counted: look again shortly if nothing shows yet.
			 * memory.events (v2) also changes for other reasons. */
			*oom = new_ooms(ev);
			if (*oom)
				return 0;
			ev->next_check_ms = husk_monotonic_ms() + 50;
		}
	}
}
