#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/cli.h"
#include "husk_version.h" /* generated: src/cli/version.h.in */
#include "util/escape.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "unknown"
#endif

#define CLI_ENTRY(name, summary) {#name, summary, cmd_##name},
static const struct cli_command commands[] = {CLI_COMMANDS(CLI_ENTRY)};
#undef CLI_ENTRY

/* One line on the terminal whatever the message holds: a newline in a
 * container id or a path must not start a second one. */
static void print_line(const char *msg, const char *hint)
{
	fprintf(stderr, "husk: error: %s%s\n", CLI_ESCAPE(msg), hint);
}

int cli_fail(const struct husk_err *err)
{
	husk_log(HUSK_LOG_ERROR, "%s", err->msg);
	/* With a JSON log, engines read the error from the log file; the
	 * terminal still gets it so a person running husk by hand sees it.
	 * The word "error" is part of the contract: conformance harnesses
	 * (youki's contest) judge a command failed by its stderr naming it. */
	print_line(err->msg, "");
	return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024], full[1100], hint[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s%s%s", cmd ? cmd : "", cmd ? ": " : "", msg);
	snprintf(hint, sizeof(hint), " (see 'husk %s%s--help')", cmd ? cmd : "", cmd ? " " : "");
	husk_log(HUSK_LOG_ERROR, "%s", full);
	print_line(full, hint);
	return 1;
}

int cli_parse_uint(const char *s)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > 1 << 30)
		return -1;
	return (int)v;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: husk [global options] COMMAND [options] [args]\n\n"
		     "An OCI container runtime.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nGlobal options:\n"
		     "  --root DIR             state directory (default /run/husk)\n"
		     "  --log FILE             write the runtime log to FILE\n"
		     "  --log-format text|json format of the log (default text)\n"
		     "  --debug                log debug messages\n"
		     "  --systemd-cgroup       use the systemd cgroup driver\n"
		     "  --rootless true|false|auto  accepted for runc compatibility\n"
		     "  --criu PATH            the criu program for checkpoint and restore\n"
		     "  --version, -v          print the version\n"
		     "  --help, -h             print this help\n");
}

/* As runc prints it: what a bug report needs to name the build. */
static void print_version(void)
{
	const struct scmp_version *sv = seccomp_version();

	printf("husk version %s\ncommit: %s\nspec: %s\n", HUSK_VERSION, HUSK_COMMIT,
	       HUSK_OCI_VERSION);
	if (sv)
		printf("libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
}

static const char *default_root(bool rootless)
{
	static char buf[4096];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (!rootless)
		return "/run/husk";
	if (xdg && *xdg) {
		snprintf(buf, sizeof(buf), "%s/husk", xdg);
		return buf;
	}
	snprintf(buf, sizeof(buf), "/tmp/husk-%u", (unsigned)getuid());
	return buf;
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_ROOTLESS, OPT_CRIU };

static int parse_globals(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"debug", no_argument, NULL, OPT_DEBUG},
	    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
	    {"rootless", required_argument, NULL, OPT_ROOTLESS},
	    {"criu", required_argument, NULL, OPT_CRIU},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	/* '+': stop at the command name; options after it belong to the command. */
	while ((c = getopt_long_only(argc, argv, "+:vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			g->root = optarg;
			break;
		case OPT_LOG:
			g->log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") == 0)
				g->log_json = true;
			else if (strcmp(optarg, "text") == 0)
				g->log_json = false;
			else {
				cli_usage_error(NULL,
						"--log-format: unknown format %s (want text "
						"or json)",
						optarg);
				return -1;
			}
			break;
		case OPT_DEBUG:
			g->debug = true;
			break;
		case OPT_SYSTEMD:
			g->systemd_cgroup = true;
			break;
		case OPT_CRIU:
			g->criu = optarg;
			break;
		case OPT_ROOTLESS:
			break;
		case 'v':
			print_version();
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			cli_bad_option(NULL, c, argv);
			return -1;
		}
	}
	return optind;
}

static int open_log(const struct cli_globals *g)
{
	int fd;
	if (!g->log_path) {
		/* A copy of stderr: the container process traces its steps to the
		 * log until execve, after its own fd 2 became the container's. */
		fd = g->debug ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) : -1;
		husk_log_setup(fd, g->log_json, g->debug);
		return 0;
	}
	fd = open(g->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		struct husk_err err;
		husk_err_sys(&err, "open log %s", g->log_path);
		cli_fail(&err);
		return -1;
	}
	husk_log_setup(fd, g->log_json, g->debug);
	return 0;
}

/* jansson seeds its hash function on first use from /dev/urandom (open,
 * read, close); one getrandom() gives the same unpredictability. */
static void seed_json_hash(void)
{
	size_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		json_object_seed(seed);
}

int main(int argc, char **argv)
{
	struct cli_globals g = {0};
	int first;

	husk_selfexe_init(argv);
	opterr = 0; /* getopt's messages would be a second line: cli_bad_option says it */
	seed_json_hash();
	g.rootless = geteuid() != 0;
	g.argv0 = argv[0];
	const char *join = getenv("HUSK_CGROUP_JOIN");
	g.cgroup_join_procs = join && strcmp(join, "procs") == 0;
	first = parse_globals(&g, argc, argv);
	if (first < 0)
		return 1;
	if (!g.root)
		g.root = default_root(g.rootless);
	if (open_log(&g) < 0)
		return 1;
	if (first >= argc)
		return cli_usage_error(NULL, "missing command");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[first], commands[i].name) == 0) {
			optind = 1; /* each command parses its own argv with getopt */
			return commands[i].run(&g, argc - first, argv + first);
		}
	}
	return cli_usage_error(NULL, "unknown command %s", argv[first]);
}
