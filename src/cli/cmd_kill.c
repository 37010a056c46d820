#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk kill [options] CONTAINER_ID [SIGNAL]\n\n"
	      "Send a signal (default SIGTERM) to the container's init. SIGNAL is a name\n"
	      "(KILL, SIGKILL, SIGRTMIN+3) or a number.\n\n"
	      "Options:\n"
	      "  --all, -a    signal every process in the container's cgroup\n"
	      "  --help, -h   print this help\n",
	      out);
}

int cmd_kill(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	bool all = false;
	int c, sig = SIGTERM;

	optind = 0;
	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error("kill", "expected CONTAINER_ID [SIGNAL]");
	if (argc - optind == 2) {
		sig = husk_signal_parse(argv[optind + 1]);
		if (sig < 0)
			return cli_usage_error("kill", "unknown signal \"%s\"", argv[optind + 1]);
	}
	if (husk_kill(&ctx, argv[optind], sig, all, &err) < 0)
		return cli_fail(&err);
	return 0;
}
