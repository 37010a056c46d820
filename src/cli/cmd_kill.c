#include <signal.h>

#include "cli/cli.h"

static const char usage[] =
    "Usage: husk kill [options] CONTAINER_ID [SIGNAL]\n\n"
    "Send a signal (default SIGTERM) to the container's init. SIGNAL is a name\n"
    "(KILL, SIGKILL, SIGRTMIN+3) or a number; 0 only checks that it runs.\n\n"
    "Options:\n"
    "  --all, -a    signal every process in the container's cgroup\n"
    "  --help, -h   print this help\n";

int cmd_kill(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	bool all = false;
	const struct cli_flag flags[] = {{"all", 'a', &all}, {0}};
	int rc, sig = SIGTERM;
	int first = cli_parse_flags("kill", usage, flags, argc, argv, &rc);

	if (first < 0)
		return rc;
	if (argc - first < 1)
		return cli_usage_error("kill", "missing container id");
	if (argc - first > 2)
		return cli_usage_error("kill", "too many arguments: want CONTAINER_ID [SIGNAL]");
	if (argc - first == 2) {
		sig = husk_signal_parse(argv[first + 1]);
		if (sig < 0)
			return cli_usage_error("kill", "unknown signal \"%s\"", argv[first + 1]);
	}
	if (husk_kill(&ctx, argv[first], sig, all, &err) < 0)
		return cli_fail(&err);
	return 0;
}
