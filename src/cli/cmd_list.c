#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/log.h"

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

struct row {
	struct husk_container *c;
	char pid[16];
	char owner[64];
};

/* The name of `uid` from /etc/passwd, as runc looks it up (husk is linked
 * statically, where glibc's NSS lookups would need its shared libraries). */
static bool passwd_name(uid_t uid, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char *name = line, *colon = strchr(line, ':');
		char *uid_field = colon ? strchr(colon + 1, ':') : NULL;
		char *end;
		if (!uid_field)
			continue;
		*colon = '\0';
		unsigned long v = strtoul(uid_field + 1, &end, 10);
		if (end != uid_field + 1 && *end == ':' && v == uid) {
			snprintf(buf, size, "%s", name);
			return true;
		}
	}
	return false;
}

/* Who owns the state directory (the user who created the container). */
static void owner_name(const struct husk_container *c, char *buf, size_t size)
{
	struct stat st;

	if (fstat(c->dir_fd, &st) < 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (!passwd_name(st.st_uid, buf, size))
		snprintf(buf, size, "#%u", (unsigned)st.st_uid);
}

/* One compact OCI state a container, in an array ("null" for none, as runc
 * prints it); owner is the state directory's, as in the table. */
static void print_json(const struct row *rows, size_t n)
{
	if (n == 0) {
		puts("null");
		return;
	}
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		struct husk_container shown = *rows[i].c;
		shown.owner = (char *)rows[i].owner;
		_cleanup_free_ char *text = husk_container_state_json(&shown, false);
		if (!text) {
			fprintf(stderr, "husk: error: list %s: %s\n", CLI_ESCAPE(shown.id),
				strerror(errno));
			continue;
		}
		if (i > 0)
			putchar(',');
		fputs(text, stdout);
	}
	puts("]");
}

static size_t width(size_t w, const char *s)
{
	size_t need = strlen(s) + 3; /* three spaces between columns, at least 12 wide */
	return need > w ? need : w;
}

/* The table's text columns, escaped (util/escape.h): a bundle path or a
 * state directory's name may hold control characters. */
struct text_row {
	char id[4 * NAME_MAX + 1], bundle[4 * PATH_MAX + 1];
};

static void print_table(const struct row *rows, size_t n)
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
		husk_escape(t[i].id, sizeof(t[i].id), rows[i].c->id);
		husk_escape(t[i].bundle, sizeof(t[i].bundle), rows[i].c->bundle);
		w[0] = width(w[0], t[i].id);
		w[1] = width(w[1], rows[i].pid);
		w[2] = width(w[2], husk_status_name(rows[i].c->status));
		w[3] = width(w[3], t[i].bundle);
		w[4] = width(w[4], rows[i].c->created);
	}
	printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], "ID", (int)w[1], "PID", (int)w[2], "STATUS",
	       (int)w[3], "BUNDLE", (int)w[4], "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++) {
		const struct husk_container *c = rows[i].c;
		printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], t[i].id, (int)w[1], rows[i].pid,
		       (int)w[2], husk_status_name(c->status), (int)w[3], t[i].bundle, (int)w[4],
		       c->created, CLI_ESCAPE(rows[i].owner));
	}
	free(t);
}

static int list(struct husk_ctx *ctx, bool json, bool quiet)
{
	struct husk_err err = {0};
	struct row *rows;
	char **ids;
	size_t n, used = 0;

	if (husk_list_ids(ctx, &ids, &n, &err) < 0) {
		husk_err_prefix(&err, "list");
		return cli_fail(&err);
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		husk_err_set(&err, ENOMEM, "list");
		return cli_fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		struct husk_container *c;
		/* A container deleted while we list is simply not listed; one
		 * that cannot be read is reported, and the others still listed
		 * (as runc does: exit status 0). */
		if (husk_container_load(ctx, ids[i], &c, &err) < 0) {
			if (err.code != ENOENT) {
				char shown[4 * NAME_MAX + 1];
				husk_escape(shown, sizeof(shown), ids[i]);
				husk_warn("load container %s: %s", ids[i], err.msg);
				fprintf(stderr, "husk: warning: load container %s: %s\n", shown,
					err.msg);
			}
			husk_err_clear(&err);
			continue;
		}
		rows[used].c = c;
		snprintf(rows[used].pid, sizeof(rows[used].pid), "%d",
			 c->status == HUSK_STATUS_STOPPED ? 0 : (int)c->pid);
		owner_name(c, rows[used].owner, sizeof(rows[used].owner));
		used++;
	}
	if (quiet)
		for (size_t i = 0; i < used; i++)
			puts(CLI_ESCAPE(rows[i].c->id));
	else if (json)
		print_json(rows, used);
	else
		print_table(rows, used);
	for (size_t i = 0; i < used; i++)
		husk_container_free(rows[i].c);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(rows);
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
