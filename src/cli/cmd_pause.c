/* husk pause: freeze every process of a container. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/cgroup_ops.h"

int cmd_pause(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: husk pause <container-id>\n\n"
			       "Freeze every process of a created or running container (the\n"
			       "cgroup freezer); `husk resume` thaws them.\n");
			return 0;
		}
		return cli_usage_error("pause", "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error("pause", "expects exactly one container id");
	return husk_pause(&ctx, argv[optind], &err) < 0 ? cli_fail(&err) : 0;
}
