#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk start CONTAINER_ID\n\n"
	      "Run the user program of a created container.\n\n"
	      "Options:\n"
	      "  --help, -h   print this help\n",
	      out);
}

int cmd_start(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
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
		return cli_usage_error("start", "expected exactly one CONTAINER_ID");
	if (husk_start(&ctx, argv[optind], &err) < 0)
		return cli_fail(&err);
	return 0;
}
