#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk run [options] CONTAINER_ID\n\n"
	      "Create and start a container. In the foreground husk forwards signals to\n"
	      "the container, relays its terminal, exits with its exit status (or\n"
	      "128+signal) and deletes it.\n\n"
	      "Options:\n"
	      "  --bundle, -b DIR        bundle directory (default: current directory)\n"
	      "  --detach, -d            return once the container runs\n"
	      "  --keep                  do not delete the container after it exits\n"
	      "  --no-subreaper          do not become a subreaper for the container's\n"
	      "                          reparented processes\n"
	      "  --console-socket PATH   send the pty master to this AF_UNIX "
	      "socket\n" CLI_CREATE_HELP_TAIL,
	      out);
}

int cmd_run(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_CREATE_OPTIONS,
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'k'},
	    {"no-subreaper", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_run_opts o = {0};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	int c, known, status = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.detach = true;
			break;
		case 'k':
			o.keep = true;
			break;
		case 'S':
			o.no_subreaper = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			known = cli_create_option("run", c, &o.create);
			if (known < 0)
				return 1;
			if (!known)
				return cli_bad_option("run", c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_want_one_id("run", argc - optind);
	o.create.listen_fds = cli_listen_fds();
	if (husk_run(&ctx, argv[optind], &o, &status, &err) < 0)
		return cli_fail(&err);
	return status;
}
