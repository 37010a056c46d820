#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk delete [options] CONTAINER_ID\n\n"
	      "Delete a stopped (or created) container: its processes, cgroup and state.\n\n"
	      "Options:\n"
	      "  --force, -f  kill a running container first; a missing container is\n"
	      "               not an error\n"
	      "  --help, -h   print this help\n",
	      out);
}

int cmd_delete(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	bool force = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("delete", "expected exactly one CONTAINER_ID");
	if (husk_delete(&ctx, argv[optind], force, &err) < 0)
		return cli_fail(&err);
	return 0;
}
