#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk create [options] CONTAINER_ID\n\n"
	      "Create a container from a bundle. Its process waits before running the\n"
	      "user program until `husk start`.\n\n"
	      "Options:\n"
	      "  --bundle, -b DIR        bundle directory (default: current directory)\n"
	      "  --console-socket PATH   send the pty master of process.terminal to this\n"
	      "                          AF_UNIX socket\n" CLI_CREATE_HELP_TAIL,
	      out);
}

int cmd_create(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_CREATE_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_create_opts o = {0};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	int c, known;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":b:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		known = cli_create_option("create", c, &o);
		if (known < 0)
			return 1;
		if (!known)
			return cli_bad_option("create", c, argv);
	}
	if (argc - optind != 1)
		return cli_want_one_id("create", argc - optind);
	o.listen_fds = cli_listen_fds();
	if (husk_create(&ctx, argv[optind], &o, &err) < 0)
		return cli_fail(&err);
	return 0;
}
