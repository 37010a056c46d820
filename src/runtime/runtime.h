/* The lifecycle layer of libhusk: what each CLI command calls. It owns the
 * state store, cgroups, hooks and the choice of backend; the CLI only parses
 * flags into these structs and prints the results. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/err.h"

struct husk_cgroup;

struct husk_ctx {
	const char *root; /* state directory (--root) */
	bool rootless;	  /* euid != 0 */
	bool systemd_cgroup;
	/* Join v1 cgroups the general way, the runtime writing cgroup.procs,
	 * instead of the container process moving itself (cgroup.h): an escape
	 * hatch (HUSK_CGROUP_JOIN=procs) and how tests reach that path. */
	bool cgroup_join_procs;
};

enum husk_status {
	HUSK_STATUS_CREATING,
	HUSK_STATUS_CREATED,
	HUSK_STATUS_RUNNING,
	HUSK_STATUS_PAUSED,
	HUSK_STATUS_STOPPED,
};

const char *husk_status_name(enum husk_status s); /* "created", ... */

/* A container as the state store knows it. */
struct husk_container {
	char *id;
	pid_t pid;	    /* init in the runtime's pid namespace; 0 when none */
	uint64_t pid_start; /* init's start time (proc stat field 22) to defeat pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 UTC */
	char *owner;
	char *cgroup_path; /* resolved cgroup path, NULL when none */
	struct husk_kvv annotations;
	enum husk_status status;    /* derived when loaded */
	struct husk_spec *spec;	    /* loaded lazily by husk_container_spec() */
	struct husk_cgroup *cgroup; /* opened lazily by husk_container_cgroup() */
	int dir_fd;		    /* the container's state directory */
	unsigned int hook_kinds;    /* bit k set when the spec has hooks of kind k */
};

/* Load a container's state and derive its status (dead or reused pid =>
 * stopped; exec fifo present => created; frozen cgroup => paused). */
int husk_container_load(const struct husk_ctx *ctx, const char *id, struct husk_container **out,
			struct husk_err *err);
/* The container's config, from the copy saved at create. */
const struct husk_spec *husk_container_spec(struct husk_container *c, struct husk_err *err);
/* The container's cgroup (NULL with err set when it has none). */
struct husk_cgroup *husk_container_cgroup(struct husk_container *c, struct husk_err *err);
void husk_container_free(struct husk_container *c);

struct husk_create_opts {
	const char *bundle; /* default "." */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	int listen_fds; /* socket-activation fds (LISTEN_FDS), passed as 3.. before preserve_fds */
	bool no_pivot;
	bool no_new_keyring;
};

int husk_create(const struct husk_ctx *ctx, const char *id, const struct husk_create_opts *o,
		struct husk_err *err);
int husk_start(const struct husk_ctx *ctx, const char *id, struct husk_err *err);

struct husk_run_opts {
	struct husk_create_opts create;
	bool detach;
	bool keep;	   /* do not delete after exit */
	bool no_subreaper; /* do not become a child subreaper while waiting */
};

/* run: create + start; in the foreground waits, forwarding signals (and the
 * terminal when process.terminal without a console socket), and stores the
 * exit status as a shell would report it (code, or 128+signal). */
int husk_run(const struct husk_ctx *ctx, const char *id, const struct husk_run_opts *o,
	     int *exit_status, struct husk_err *err);

/* OCI state JSON of one container (caller frees). */
char *husk_state_json(const struct husk_ctx *ctx, const char *id, struct husk_err *err);
/* The same for a loaded container, as `state` (pretty) and `list` show it;
 * NULL with errno ENOMEM, or EILSEQ when a string is not UTF-8. */
char *husk_container_state_json(const struct husk_container *c, bool pretty);

int husk_kill(const struct husk_ctx *ctx, const char *id, int sig, bool all, struct husk_err *err);
int husk_delete(const struct husk_ctx *ctx, const char *id, bool force, struct husk_err *err);

/* All container ids under ctx->root (sorted; caller frees each and the array). */
int husk_list_ids(const struct husk_ctx *ctx, char ***ids, size_t *n, struct husk_err *err);

/* Parse a signal name ("KILL", "SIGKILL", "9", "SIGRTMIN+3"); -1 when unknown. */
int husk_signal_parse(const char *s);

/* exec --cgroup: an existing sub-cgroup of the container's to run in. */
struct husk_exec_subcgroup {
	const char *controller; /* NULL: every hierarchy */
	const char *path;	/* relative to the container's cgroup */
};

struct husk_exec_opts {
	struct husk_process *process; /* built by the CLI from --process or flags */
	const char *console_socket;
	const char *pid_file;
	int preserve_fds;
	bool detach;
	bool ignore_paused;
	const struct husk_exec_subcgroup *sub_cgroups; /* --cgroup, n_sub_cgroups of them */
	size_t n_sub_cgroups;
};

int husk_exec(const struct husk_ctx *ctx, const char *id, const struct husk_exec_opts *o,
	      int *exit_status, struct husk_err *err);
/* The same on a container the caller already loaded (the CLI does, to build
 * the default process from the container's spec). */
int husk_exec_container(const struct husk_ctx *ctx, struct husk_container *c,
			const struct husk_exec_opts *o, int *exit_status, struct husk_err *err);
