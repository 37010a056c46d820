#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk state CONTAINER_ID\n\n"
	      "Print the OCI state of a container as JSON.\n\n"
	      "Options:\n"
	      "  --help, -h   print this help\n",
	      out);
}

int cmd_state(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	char *json;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 1;
	}
	if (argc - optind != 1)
		return cli_usage_error("state", "expected exactly one CONTAINER_ID");
	json = husk_state_json(&ctx, argv[optind], &err);
	if (!json)
		return cli_fail(&err);
	/* Like runc: indented, without a final newline. */
	fputs(json, stdout);
	free(json);
	return 0;
}
