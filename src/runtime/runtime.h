/* The lifecycle layer of libhusk: what each CLI command calls. It owns the
 * state store, cgroups, hooks and the choice of backend; the CLI only parses
 * flags into these structs and prints the results. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "state/record.h"
#include "util/err.h"

struct husk_ctx {
	const char *root; /* state directory (--root) */
	bool rootless;	  /* euid != 0 */
	bool systemd_cgroup;
	/* Join v1 cgroups the general way, the runtime writing cgroup.procs,
	 * instead of the container process moving itself (cgroup.h): an escape
	 * hatch (HUSK_CGROUP_JOIN=procs) and how tests reach that path. */
	bool cgroup_join_procs;
	/* The name husk was run under (argv[0]), which may ask for a backend
	 * ("husk-vm"); NULL for none. */
	const char *argv0;
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

/* exec's default process: the container's own process (user, environment,
 * capabilities, cwd, ... from its config) with exec's flags applied, as
 * runc's exec builds it. */
struct husk_exec_process_opts {
	char **args; /* the command and its arguments (required) */
	size_t n_args;
	bool tty;
	const char *cwd; /* NULL: the config's */
	char **env;	 /* KEY=VALUE, each replacing the config's KEY */
	size_t n_env;
	bool set_user; /* uid (and gid when has_gid, else 0) replace the config's */
	uint32_t uid, gid;
	bool has_gid;
	const uint32_t *gids; /* added to the config's additional gids */
	size_t n_gids;
	uint64_t caps; /* bit CAP_X: added to bounding, effective and permitted */
	bool no_new_privs;
	const char *apparmor, *label; /* NULL: the config's */
};

/* The default process built over `base` (the container's process). Shallow:
 * `out` borrows base's and o's strings, so both must outlive it; release
 * what was built for it with husk_exec_process_release(). */
int husk_exec_process_from_opts(const struct husk_process *base,
				const struct husk_exec_process_opts *o, struct husk_process *out,
				struct husk_err *err);
void husk_exec_process_release(struct husk_process *p);

struct husk_exec_opts {
	/* The process to run (e.g. from --process FILE), or NULL: the default
	 * process built from process_opts over the container's config. */
	const struct husk_process *process;
	const struct husk_exec_process_opts *process_opts;
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
/* The same on a container the caller already loaded. */
int husk_exec_container(const struct husk_ctx *ctx, struct husk_container *c,
			const struct husk_exec_opts *o, int *exit_status, struct husk_err *err);
