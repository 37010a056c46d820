/* husk ps: the processes of a container, as a JSON array of pids or as the
 * host's ps(1) output (default "ps -ef") cut down to the container's pids. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/cleanup.h"

static void ps_usage(FILE *out)
{
	fprintf(out, "Usage: husk ps [--format table|json] <container-id> [ps options]\n\n"
		     "List the processes of a container. The table is ps(1)'s output (run\n"
		     "with the given options, default -ef) limited to the container's\n"
		     "processes; json prints their pids.\n\n"
		     "Options:\n"
		     "  -f, --format table|json  output format (default table)\n"
		     "  -h, --help               print this help\n");
}

/* Run ps with args and collect its stdout (caller frees). */
static char *run_ps(char **args, int nargs, struct husk_err *err)
{
	int fds[2];
	char *argv[nargs + 2];
	pid_t pid;
	char *buf = NULL;
	size_t len = 0;
	int status;

	argv[0] = "ps";
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	argv[nargs + 1] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		husk_err_sys(err, "ps: pipe");
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		husk_err_sys(err, "ps: fork");
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp("ps", argv);
		fprintf(stderr, "husk: error: exec ps: %s\n", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	ssize_t n;
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && out)
			fwrite(chunk, 1, (size_t)n, out);
	close(fds[0]);
	if (out)
		fclose(out);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		husk_err_set(err, 0, "ps failed (exit status %d)",
			     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		free(buf);
		return NULL;
	}
	return buf;
}

/* Index of the whitespace-separated field named "PID" in the header. */
static int pid_column(const char *header)
{
	int col = 0;
	for (const char *p = header; *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 3 && strncmp(p, "PID", 3) == 0)
			return col;
		if (n == 0)
			break;
		p += n;
		col++;
	}
	return -1;
}

static long field_at(const char *line, int col)
{
	const char *p = line;
	for (int i = 0; i <= col; i++) {
		p += strspn(p, " \t");
		if (i == col)
			break;
		p += strcspn(p, " \t");
	}
	char *end;
	long v = strtol(p, &end, 10);
	return end == p ? -1 : v;
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static int print_table(const pid_t *pids, size_t n, char **args, int nargs)
{
	static char *def[] = {"-ef"};
	struct husk_err err = {0};
	_cleanup_free_ char *text = run_ps(nargs ? args : def, nargs ? nargs : 1, &err);
	char *save = NULL, *line;
	int col;

	if (!text)
		return cli_fail(&err);
	line = strtok_r(text, "\n", &save);
	col = line ? pid_column(line) : -1;
	if (col < 0) {
		husk_err_set(&err, 0, "ps: could not find the PID field in the ps output");
		return cli_fail(&err);
	}
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save)))
		if (has_pid(pids, n, field_at(line, col)))
			printf("%s\n", line);
	return 0;
}

int cmd_ps(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	_cleanup_free_ pid_t *pids = NULL;
	const char *format = "table";
	size_t n;
	int c;

	/* '+': options after the id belong to ps(1). */
	while ((c = getopt_long(argc, argv, "+:f:h", opts, NULL)) != -1) {
		if (c == 'h') {
			ps_usage(stdout);
			return 0;
		}
		if (c != 'f')
			return cli_bad_option("ps", c, argv);
		format = optarg;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error("ps", "invalid format %s (want table or json)", format);
	if (optind >= argc)
		return cli_want_one_id("ps", 0);
	if (strcmp(format, "json") == 0 && optind + 1 < argc)
		return cli_usage_error("ps", "ps options cannot be used with --format json");
	if (husk_ps(&ctx, argv[optind], &pids, &n, &err) < 0)
		return cli_fail(&err);
	if (strcmp(format, "table") == 0)
		return print_table(pids, n, argv + optind + 1, argc - optind - 1);
	putchar('[');
	for (size_t i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)pids[i]);
	printf("]\n");
	return 0;
}
