/* The lifecycle layer of libhusk: what each CLI command calls. It owns the
 * state store, cgroups, hooks and the choice of backend; the CLI only parses
 * flags into these structs and prints the results. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/husk.h"
#include "spec/spec.h"
#include "state/record.h"
#include "util/err.h"

/* Load a container's state and derive its status (dead or reused pid =>
 * stopped; exec fifo present => created; frozen cgroup => paused). */
int husk_container_load(const struct husk_ctx *ctx, const char *id, struct husk_container **out,
			struct husk_err *err);
/* The container's config, from the copy saved at create. */
const struct husk_spec *husk_container_spec(struct husk_container *c, struct husk_err *err);
/* The container's cgroup (NULL with err set when it has none). */
struct husk_cgroup *husk_container_cgroup(struct husk_container *c, struct husk_err *err);
void husk_container_free(struct husk_container *c);

/* The OCI state JSON of a loaded container, as `state` (pretty) and `list`
 * show it; NULL with errno ENOMEM, or EILSEQ when a string is not UTF-8. */
char *husk_container_state_json(const struct husk_container *c, bool pretty);

/* The same on a container the caller already loaded. */
int husk_exec_container(const struct husk_ctx *ctx, struct husk_container *c,
			const struct husk_exec_opts *o, int *exit_status, struct husk_err *err);

/* The default process built over `base` (the container's process). Shallow:
 * `out` borrows base's and o's strings, so both must outlive it; release
 * what was built for it with husk_exec_process_release(). */
int husk_exec_process_from_opts(const struct husk_process *base,
				const struct husk_exec_process_opts *o, struct husk_process *out,
				struct husk_err *err);
void husk_exec_process_release(struct husk_process *p);
