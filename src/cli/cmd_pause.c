/* husk pause: freeze every process of a container. */
#include "cli/cli.h"

static const char usage[] = "Usage: husk pause <container-id>\n\n"
			    "Freeze every process of a created or running container (the\n"
			    "cgroup freezer); `husk resume` thaws them.\n"
			    "\nOptions:\n"
			    "  --help, -h   print this help\n";

int cmd_pause(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	int rc;
	const char *id = cli_parse_id("pause", usage, NULL, argc, argv, &rc);

	if (!id)
		return rc;
	return husk_pause(&ctx, id, &err) < 0 ? cli_fail(&err) : 0;
}
