#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk list [options]\n\n"
	      "List the containers under the state root.\n\n"
	      "Options:\n"
	      "  --format, -f table|json   output format (default table)\n"
	      "  --quiet, -q               print only the container ids\n"
	      "  --help, -h                print this help\n",
	      out);
}

/* The compact OCI state of each container, in an array ("null" for none, as
 * runc prints it). */
static void print_json(const struct husk_container_summary *list, size_t n)
{
	if (n == 0) {
		puts("null");
		return;
	}
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (!list[i].state_json) {
			fprintf(stderr, "husk: error: list %s: %s\n", CLI_ESCAPE(list[i].id),
				strerror(list[i].state_json_errno));
			continue;
		}
		if (i > 0)
			putchar(',');
		fputs(list[i].state_json, stdout);
	}
	puts("]");
}

static size_t width(size_t w, const char *s)
{
	size_t need = strlen(s) + 3; /* three spaces between columns, at least 12 wide */
	return need > w ? need : w;
}

/* The table's columns, the text ones escaped (util/escape.h): a bundle
 * path or a state directory's name may hold control characters. */
struct text_row {
	char id[4 * NAME_MAX + 1], bundle[4 * PATH_MAX + 1], pid[16];
};

static void print_table(const struct husk_container_summary *list, size_t n)
{
	size_t w[5] = {12, 12, 12, 12, 12};
	struct text_row *t = calloc(n ? n : 1, sizeof(*t));

	if (!t) {
		perror("husk: error: list");
		return;
	}
	w[0] = width(w[0], "ID");
	w[4] = width(w[4], "CREATED");
	for (size_t i = 0; i < n; i++) {
		husk_escape(t[i].id, sizeof(t[i].id), list[i].id);
		husk_escape(t[i].bundle, sizeof(t[i].bundle), list[i].bundle);
		snprintf(t[i].pid, sizeof(t[i].pid), "%d", (int)list[i].pid);
		w[0] = width(w[0], t[i].id);
		w[1] = width(w[1], t[i].pid);
		w[2] = width(w[2], husk_status_name(list[i].status));
		w[3] = width(w[3], t[i].bundle);
		w[4] = width(w[4], list[i].created);
	}
	printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], "ID", (int)w[1], "PID", (int)w[2], "STATUS",
	       (int)w[3], "BUNDLE", (int)w[4], "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++)
		printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], t[i].id, (int)w[1], t[i].pid,
		       (int)w[2], husk_status_name(list[i].status), (int)w[3], t[i].bundle,
		       (int)w[4], list[i].created, CLI_ESCAPE(list[i].owner));
	free(t);
}

/* A container that cannot be read is reported, and the others still listed
 * (as runc does: exit status 0). Returns the readable ones, moved to the
 * front of the array. */
static size_t warn_unreadable(struct husk_container_summary *list, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		if (list[i].error) {
			husk_log(HUSK_LOG_WARN, "load container %s: %s", list[i].id, list[i].error);
			fprintf(stderr, "husk: warning: load container %s: %s\n",
				CLI_ESCAPE(list[i].id), list[i].error);
			continue;
		}
		struct husk_container_summary keep = list[used];
		list[used++] = list[i];
		list[i] = keep;
	}
	return used;
}

static int list(struct husk_ctx *ctx, bool json, bool quiet)
{
	struct husk_err err = {0};
	struct husk_container_summary *all;
	size_t n, used;

	if (husk_list(ctx, json && !quiet, &all, &n, &err) < 0)
		return cli_fail(&err);
	used = warn_unreadable(all, n);
	if (quiet)
		for (size_t i = 0; i < used; i++)
			puts(CLI_ESCAPE(all[i].id));
	else if (json)
		print_json(all, used);
	else
		print_table(all, used);
	husk_list_free(all, n);
	return 0;
}

int cmd_list(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = cli_ctx(g);
	bool json = false, quiet = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") == 0)
				json = false;
			else
				return cli_usage_error(
				    "list", "invalid format %s (want table or json)", optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("list", c, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error("list", "too many arguments: %s", argv[optind]);
	return list(&ctx, json, quiet);
}
