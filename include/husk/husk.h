/* libhusk: the public API of husk, an OCI container runtime.
 *
 * What the husk command line calls, and what a program that embeds the
 * runtime (an engine in the style of Podman or containerd's shims) calls
 * instead of running the binary. It needs only the C library's headers;
 * build with `pkg-config --cflags --libs husk` (a static library).
 *
 * Conventions: every fallible function takes a `struct husk_err *` and
 * returns a negative value (or NULL) on failure, with err->code an errno
 * value and err->msg naming the step and the object ("create c1: mount proc
 * on /proc: Operation not permitted"). libhusk never prints to the terminal
 * and never exits the program.
 *
 * A program that runs exec (or creates a container into a shared pid
 * namespace) must call husk_selfexe_init(argv) first thing in main(): those
 * re-execute the program from a sealed copy of its binary (CVE-2019-5736),
 * and fail with an error when they cannot. */
#ifndef HUSK_HUSK_H
#define HUSK_HUSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The OCI runtime-spec version husk implements: what `spec` writes, what
 * `state` reports, what `--version` and `features` name. One constant. */
#define HUSK_OCI_VERSION "1.3.0"

/* ---- errors ------------------------------------------------------------ */

/* Room for two PATH_MAX paths and the step: a message that still does not
 * fit loses its middle, never its start (the step) or its end (the errno). */
#define HUSK_ERR_MSG_MAX 4096

struct husk_err {
	int code; /* errno value, 0 when the failure has no errno (bad input) */
	char msg[HUSK_ERR_MSG_MAX];
};

/* Record an error with an errno; returns -1 so callers can `return husk_err_set(...)`.
 * The message gets ": strerror(code)" appended when code != 0. */
int husk_err_set(struct husk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record an error whose errno is kept for callers that test it, but not
 * printed: bad input and validation failures, where the message says it all. */
int husk_err_plain(struct husk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, taking errno as the code. */
int husk_err_sys(struct husk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the message already recorded; returns -1. */
int husk_err_prefix(struct husk_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void husk_err_clear(struct husk_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}

/* ---- the runtime log -------------------------------------------------- */

enum husk_log_level { HUSK_LOG_ERROR, HUSK_LOG_WARN, HUSK_LOG_INFO, HUSK_LOG_DEBUG };

/* Where libhusk logs (runc's formats: text lines `time="..." level=...
 * msg="..."`, or with json one {"level":..,"msg":..,"time":..} per line):
 * fd, which libhusk keeps and writes one line per write(2) (open it
 * O_APPEND and O_CLOEXEC); fd < 0 disables the log. debug adds debug lines
 * and the set-up trace (each step with its object and duration). */
void husk_log_setup(int fd, bool json, bool debug);

/* One line in that log: what a caller records of its own (the CLI logs the
 * errors it prints). */
void husk_log(enum husk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- user and group ids ----------------------------------------------- */

/* The one strict parser for ids from untrusted text (config.json, exec's
 * process.json, command-line flags): one or more ASCII digits and nothing
 * else, at most 2^31 - 1 as runc allows (so (uid_t)-1, "leave unchanged",
 * never gets through). 0 with *out set, or -1 with err `"<s>" is not a
 * decimal id` or "<s> is out of range (0..2147483647)" (no errno). */
int husk_id_parse(const char *s, uint32_t *out, struct husk_err *err);

/* "UID" or "UID:GID" (exec --user); *has_gid tells whether a GID was
 * given. Errors name the part: `gid: "-1" is not a decimal id`. */
int husk_user_parse(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
		    struct husk_err *err);

/* ---- context and containers ------------------------------------------- */

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
	/* The criu program for checkpoint and restore (--criu); NULL: criu on
	 * PATH, else /usr/sbin/criu. */
	const char *criu;
};

enum husk_status {
	HUSK_STATUS_CREATING,
	HUSK_STATUS_CREATED,
	HUSK_STATUS_RUNNING,
	HUSK_STATUS_PAUSED,
	HUSK_STATUS_STOPPED,
};

const char *husk_status_name(enum husk_status s); /* "created", ... */

/* Opaque to embedders: a container's record, a process (exec --process),
 * resource limits (update), an events watch. */
struct husk_container;
struct husk_process;
struct husk_resources;
struct husk_events;

/* Record argv to re-execute the program with (see above). */
void husk_selfexe_init(char **argv);

/* ---- lifecycle --------------------------------------------------------- */

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

/* One container as `list` shows it. */
struct husk_container_summary {
	char *id;
	/* Not NULL: the container's record could not be read (error_code, the
	 * errno, and this message say why) and the fields below are empty. */
	char *error;
	int error_code;
	pid_t pid; /* init's pid; 0 when stopped */
	enum husk_status status;
	char *bundle;
	char *created; /* RFC 3339, UTC */
	/* Who owns the container's state directory (who created it): the user
	 * name from /etc/passwd, else "#UID", or "?" when it cannot be told. */
	char *owner;
	/* With husk_list's with_state_json: the compact OCI state JSON, its
	 * owner the one above; NULL with state_json_errno (ENOMEM, or EILSEQ
	 * for a string that is not UTF-8) when it could not be built. */
	char *state_json;
	int state_json_errno;
};

/* Every container under ctx->root, sorted by id. One deleted while listing
 * is left out; one that cannot be read is listed with .error set (the
 * others still are, as runc lists them). husk_list_free frees the n
 * entries and the array. */
int husk_list(const struct husk_ctx *ctx, bool with_state_json,
	      struct husk_container_summary **list, size_t *n, struct husk_err *err);
void husk_list_free(struct husk_container_summary *list, size_t n);

/* Parse a signal name ("KILL", "SIGKILL", "9", "SIGRTMIN+3"); -1 when unknown. */
int husk_signal_parse(const char *s);

/* ---- checkpoint and restore (CRIU) ----------------------------------- */

/* The flags runc's checkpoint and restore share. */
struct husk_criu_opts {
	const char *image_path;		 /* default "checkpoint" (relative to the cwd) */
	const char *work_path;		 /* criu's logs; default: the image path */
	const char *parent_path;	 /* images of a pre-dump, relative to image_path */
	const char *manage_cgroups_mode; /* soft (default), full, strict or ignore */
	bool leave_running;		 /* checkpoint: the container keeps running */
	bool pre_dump;			 /* checkpoint: memory only, keeps running */
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
};

/* Checkpoint a running container into o->image_path with criu. Unless
 * leave_running or pre_dump, the container is then stopped and deleted, as
 * runc does. A container criu cannot restore faithfully (an idmapped
 * rootfs, the vm backend) is refused; when criu fails the container is left
 * running and err says why. */
int husk_checkpoint(const struct husk_ctx *ctx, const char *id, const struct husk_criu_opts *o,
		    struct husk_err *err);

struct husk_restore_opts {
	struct husk_run_opts run; /* bundle, pid file, console socket, detach, ... */
	struct husk_criu_opts criu;
};

/* restore: like run, but the container's processes come from the images of
 * a checkpoint instead of the config's process. */
int husk_restore(const struct husk_ctx *ctx, const char *id, const struct husk_restore_opts *o,
		 int *exit_status, struct husk_err *err);

/* ---- exec -------------------------------------------------------------- */

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

/* CAP_X's number from its name ("CAP_SYS_ADMIN"), -1 if unknown: for
 * husk_exec_process_opts.caps. */
int husk_cap_from_name(const char *name);

/* A process from an OCI process JSON file (exec --process); caller frees. */
struct husk_process *husk_process_load(const char *path, struct husk_err *err);
void husk_process_free(struct husk_process *process);

/* ---- cgroup operations ------------------------------------------------- */

/* Apply new resource limits to a container that is not stopped. Device
 * rules are not changed (as with runc). */
int husk_update(const struct husk_ctx *ctx, const char *id, const struct husk_resources *res,
		struct husk_err *err);

/* A value of update's: set, or left as the container has it. */
struct husk_update_value {
	bool set;
	int64_t v;
};

/* update's flags, as runc's `update` takes them: what is not set is not
 * changed. Sizes are in bytes. */
struct husk_update_opts {
	struct husk_update_value memory;	     /* -1: unlimited */
	struct husk_update_value memory_reservation; /* soft limit */
	struct husk_update_value memory_swap;	     /* memory+swap; -1: unlimited swap */
	struct husk_update_value kernel_memory, kernel_memory_tcp; /* obsolete */
	struct husk_update_value cpu_shares;			   /* >= 0 */
	struct husk_update_value cpu_quota;			   /* us per period; -1: none */
	struct husk_update_value cpu_period;			   /* us, >= 0 */
	struct husk_update_value cpu_rt_period, cpu_rt_runtime;	   /* us; the period >= 0 */
	const char *cpuset_cpus, *cpuset_mems;			   /* "0-2,4"; NULL: unchanged */
	struct husk_update_value pids_limit;			   /* -1: unlimited */
	uint16_t blkio_weight;					   /* 10 to 1000; 0: unchanged */
};

/* The resource limits update's flags ask for, for husk_update (free with
 * husk_resources_free). A value out of its range is refused, naming it. */
struct husk_resources *husk_resources_from_update_opts(const struct husk_update_opts *o,
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

/* Resource limits from linux.resources JSON (update --resources). */
struct husk_resources *husk_resources_parse(const char *json, size_t len, struct husk_err *err);
/* The same read from a file ("-": stdin); errors name the file. */
struct husk_resources *husk_resources_load(const char *path, struct husk_err *err);
void husk_resources_free(struct husk_resources *res);

/* ---- the runtime itself ------------------------------------------------ */

/* `spec`: the default config.json text, hardened (no new privileges, a
 * seccomp profile that denies what containers do not need); rootless: for
 * an unprivileged user (a user namespace mapping the caller, the host's
 * network, no cgroup mount). Caller frees. */
char *husk_spec_default_json(bool rootless, struct husk_err *err);

/* Write that text to BUNDLE/config.json (mode 0644 less the umask), never
 * over one that exists ("spec: File config.json exists. Remove it
 * first."); a half-written file is removed. */
int husk_spec_write_default(const char *bundle, bool rootless, struct husk_err *err);

/* The OCI features document (features.md); its annotations name the
 * backends (org.husk.backends) and the default one. Caller frees. */
char *husk_features(struct husk_err *err);

#ifdef __cplusplus
}
#endif
#endif
