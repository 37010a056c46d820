/* husk resume: thaw a paused container. */
#include "cli/cli.h"

static const char usage[] = "Usage: husk resume <container-id>\n\n"
			    "Thaw the processes of a container that `husk pause` froze.\n"
			    "\nOptions:\n"
			    "  --help, -h   print this help\n";

int cmd_resume(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	int rc;
	const char *id = cli_parse_id("resume", usage, NULL, argc, argv, &rc);

	if (!id)
		return rc;
	return husk_resume(&ctx, id, &err) < 0 ? cli_fail(&err) : 0;
}
