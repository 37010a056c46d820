/* husk resume: thaw a paused container. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/cgroup_ops.h"

int cmd_resume(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: husk resume <container-id>\n\n"
			       "Thaw the processes of a container that `husk pause` froze.\n");
			return 0;
		}
		return cli_usage_error("resume", "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error("resume", "expects exactly one container id");
	return husk_resume(&ctx, argv[optind], &err) < 0 ? cli_fail(&err) : 0;
}
