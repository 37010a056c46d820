/* Lifecycle operations that act on a container's cgroup: update, pause,
 * resume, ps and events. Part of the runtime API next to runtime.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/runtime.h"
#include "spec/spec.h"
#include "util/err.h"

/* Apply new resource limits to a container that is not stopped. Device
 * rules are not changed (as with runc). */
int husk_update(const struct husk_ctx *ctx, const char *id, const struct husk_resources *res,
		struct husk_err *err);

/* Freeze a created or running container ("container not running"
 * otherwise); thaw a paused one ("container not paused" otherwise). */
int husk_pause(const struct husk_ctx *ctx, const char *id, struct husk_err *err);
int husk_resume(const struct husk_ctx *ctx, const char *id, struct husk_err *err);

/* Every pid in the container's cgroup, sorted (caller frees). */
int husk_ps(const struct husk_ctx *ctx, const char *id, pid_t **pids, size_t *n,
	    struct husk_err *err);

/* `events`: a watch on one running container. */
struct husk_events;
int husk_events_open(const struct husk_ctx *ctx, const char *id, struct husk_events **out,
		     struct husk_err *err);
/* One {"type":"stats","id":...,"data":{...}} line (caller frees). */
char *husk_events_stats(struct husk_events *ev, struct husk_err *err);
/* Wait up to timeout_ms for something to report: *oom counts OOM kills seen
 * since the last call, *stopped says the container is gone. Returns early
 * on an OOM; checks the container's status at least once a second. */
int husk_events_wait(struct husk_events *ev, int timeout_ms, unsigned *oom, bool *stopped,
		     struct husk_err *err);
void husk_events_close(struct husk_events *ev);
