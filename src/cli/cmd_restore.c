#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk restore [options] CONTAINER_ID\n\n"
	      "Restore a container from a checkpoint (CRIU) and its bundle. In the\n"
	      "foreground husk waits, forwards signals, exits with the container's exit\n"
	      "status and deletes it, as run does.\n\n"
	      "Options:\n"
	      "  --bundle, -b DIR        bundle directory (default: current directory)\n"
	      "  --detach, -d            return once the container runs\n"
	      "  --no-subreaper          do not become a subreaper for the container's\n"
	      "                          reparented processes\n"
	      "  --console-socket PATH   accepted for runc compatibility (a container\n"
	      "                          with a terminal is not checkpointed)\n"
	      "  --pid-file PATH         write the container process's pid to PATH\n"
	      "  --no-pivot              accepted for runc compatibility\n" CLI_CRIU_HELP
	      "  --help, -h              print this help\n",
	      out);
}

int cmd_restore(struct cli_globals *g, int argc, char **argv)
{
	enum { OPT_NO_SUBREAPER = 300 };
	static const struct option opts[] = {
	    CLI_CRIU_OPTIONS,
	    {"bundle", required_argument, NULL, 'b'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"detach", no_argument, NULL, 'd'},
	    {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_restore_opts o = {0};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	int c, status = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.run.create.bundle = optarg;
			break;
		case 'c':
			o.run.create.console_socket = optarg;
			break;
		case 'p':
			o.run.create.pid_file = optarg;
			break;
		case 'P':
			o.run.create.no_pivot = true;
			break;
		case 'd':
			o.run.detach = true;
			break;
		case OPT_NO_SUBREAPER:
			o.run.no_subreaper = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (!cli_criu_option(c, &o.criu))
				return cli_bad_option("restore", c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_want_one_id("restore", argc - optind);
	if (husk_restore(&ctx, argv[optind], &o, &status, &err) < 0)
		return cli_fail(&err);
	return status;
}
