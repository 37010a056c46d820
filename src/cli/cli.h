/* The command line: parses arguments, calls libhusk, prints results and
 * errors, and picks the exit code. Nothing else in husk prints or exits. */
#pragma once
#include <stdbool.h>

#include "husk/husk.h"
#include "util/escape.h"

struct cli_globals {
	const char *root;	/* --root, default /run/husk (rootless: $XDG_RUNTIME_DIR/husk) */
	const char *log_path;	/* --log */
	bool log_json;		/* --log-format json */
	bool debug;		/* --debug */
	bool systemd_cgroup;	/* --systemd-cgroup */
	bool rootless;		/* running without real root */
	bool cgroup_join_procs; /* HUSK_CGROUP_JOIN=procs in the environment */
	const char *argv0;	/* the name husk was run under: may ask for a backend */
	const char *criu;	/* --criu: the criu program (NULL: on PATH) */
};

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(struct cli_globals *g, int argc, char **argv);
};

/* A user-controlled string made safe to print (util/escape.h): control
 * characters come out as \n, \x1b, ... The buffer lives until the end of the
 * enclosing block (a compound literal), long enough for one printf. Strings
 * longer than 1 KiB may be cut short. */
#define CLI_ESCAPE(s) husk_escape((char[4 * 1024 + 1]){0}, 4 * 1024 + 1, (s))

/* Print "husk: error: <msg>" to stderr and record it in the log; returns 1 (the exit code). */
int cli_fail(const struct husk_err *err);
/* Usage error for a command (NULL: husk itself): one line, "husk: error:
 * CMD: MSG (see 'husk CMD --help')", also logged; returns 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt returned as C ('?' or ':'; the optstring
 * starts with ':' after any '+'), about the option getopt just read. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* The usage error when a command that takes exactly one CONTAINER_ID got
 * N operands: missing, or too many. */
int cli_want_one_id(const char *cmd, int n);

/* The libhusk context of a command, from the global options. */
static inline struct husk_ctx cli_ctx(const struct cli_globals *g)
{
	return (struct husk_ctx){.root = g->root,
				 .rootless = g->rootless,
				 .systemd_cgroup = g->systemd_cgroup,
				 .cgroup_join_procs = g->cgroup_join_procs,
				 .argv0 = g->argv0,
				 .criu = g->criu};
}

/* Parse a non-negative decimal option value; -1 when it is not one. */
int cli_parse_uint(const char *s);

/* A flag option (no argument) of a command: --NAME or -SHORT_NAME sets *value. */
struct cli_flag {
	const char *name;
	char short_name;
	bool *value;
};

/* getopt for a command whose options are FLAGS (ended by a zeroed entry;
 * NULL for none, 4 at most) and --help: prints USAGE on stdout for --help,
 * a one-line usage error about CMD for a bad option. Returns the index of the first operand,
 * or -1 with *rc the exit code. */
int cli_parse_flags(const char *cmd, const char *usage, const struct cli_flag *flags, int argc,
		    char **argv, int *rc);

/* cli_parse_flags for a command that takes exactly one CONTAINER_ID: returns
 * it, or NULL with *rc the exit code (a usage error names CMD). */
const char *cli_parse_id(const char *cmd, const char *usage, const struct cli_flag *flags, int argc,
			 char **argv, int *rc);

/* The options that create and run share, for their getopt_long tables; each
 * value is what cli_create_option() takes. */
/* clang-format off */
#define CLI_CREATE_OPTIONS                                  \
	{"bundle", required_argument, NULL, 'b'},           \
	{"console-socket", required_argument, NULL, 'c'},   \
	{"pid-file", required_argument, NULL, 'p'},         \
	{"no-pivot", no_argument, NULL, 'P'},               \
	{"no-new-keyring", no_argument, NULL, 'K'},         \
	{"preserve-fds", required_argument, NULL, 'F'}
/* clang-format on */

/* The end of create's and run's --help: the options they share. */
#define CLI_CREATE_HELP_TAIL                                                                       \
	"  --pid-file PATH         write the container process's pid to PATH\n"                    \
	"  --no-pivot              do not use pivot_root (for ramfs roots)\n"                      \
	"  --no-new-keyring        keep the caller's session keyring\n"                            \
	"  --preserve-fds N        pass N extra fds (3 .. 3+N-1) into the container\n"             \
	"  --help, -h              print this help\n"

/* Apply getopt's answer C to O when it is a CLI_CREATE_OPTIONS one: returns
 * 1 when it was, 0 when not, -1 after a usage error about CMD. */
int cli_create_option(const char *cmd, int c, struct husk_create_opts *o);
/* Number of socket-activation fds handed to us (LISTEN_FDS), 0 if none. */
int cli_listen_fds(void);

/* The options checkpoint and restore share, for their getopt_long tables;
 * cli_criu_option() applies them (1 when c was one, else 0). */
enum {
	CLI_OPT_IMAGE_PATH = 400,
	CLI_OPT_WORK_PATH,
	CLI_OPT_MANAGE_CGROUPS,
	CLI_OPT_TCP_ESTABLISHED,
	CLI_OPT_EXT_UNIX_SK,
	CLI_OPT_SHELL_JOB,
	CLI_OPT_FILE_LOCKS,
};
/* clang-format off */
#define CLI_CRIU_OPTIONS                                                          \
	{"image-path", required_argument, NULL, CLI_OPT_IMAGE_PATH},              \
	{"work-path", required_argument, NULL, CLI_OPT_WORK_PATH},                \
	{"manage-cgroups-mode", required_argument, NULL, CLI_OPT_MANAGE_CGROUPS}, \
	{"tcp-established", no_argument, NULL, CLI_OPT_TCP_ESTABLISHED},          \
	{"ext-unix-sk", no_argument, NULL, CLI_OPT_EXT_UNIX_SK},                  \
	{"shell-job", no_argument, NULL, CLI_OPT_SHELL_JOB},                      \
	{"file-locks", no_argument, NULL, CLI_OPT_FILE_LOCKS}
/* clang-format on */
#define CLI_CRIU_HELP                                                                              \
	"  --image-path PATH       criu's images (default ./checkpoint)\n"                         \
	"  --work-path PATH        criu's logs (default: the image path)\n"                        \
	"  --manage-cgroups-mode M soft (default), full, strict or ignore\n"                       \
	"  --tcp-established       allow open TCP connections\n"                                   \
	"  --ext-unix-sk           allow external unix sockets\n"                                  \
	"  --shell-job             allow a shell job (a terminal from outside)\n"                  \
	"  --file-locks            allow file locks\n"
int cli_criu_option(int c, struct husk_criu_opts *o);

#define CLI_COMMANDS(X)                                                                            \
	X(create, "create a container from a bundle, stopped before the user program")             \
	X(start, "run the user program of a created container")                                    \
	X(run, "create and start a container")                                                     \
	X(state, "print the OCI state of a container")                                             \
	X(kill, "send a signal to a container's init (or every process with --all)")               \
	X(delete, "delete a container and everything it owns")                                     \
	X(list, "list containers")                                                                 \
	X(exec, "run a new process inside a running container")                                    \
	X(ps, "list the processes of a container")                                                 \
	X(pause, "freeze every process of a container")                                            \
	X(resume, "thaw a paused container")                                                       \
	X(update, "change a running container's resource limits")                                  \
	X(events, "print a container's resource statistics and OOM events")                        \
	X(spec, "write a default config.json")                                                     \
	X(features, "print the features this runtime supports (OCI features JSON)")                \
	X(checkpoint, "checkpoint a running container with CRIU")                                  \
	X(restore, "restore a container from a checkpoint")

#define CLI_DECLARE(name, summary) int cmd_##name(struct cli_globals *g, int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE
