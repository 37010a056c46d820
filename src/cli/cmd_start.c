#include "cli/cli.h"

static const char usage[] = "Usage: husk start CONTAINER_ID\n\n"
			    "Run the user program of a created container.\n\n"
			    "Options:\n"
			    "  --help, -h   print this help\n";

int cmd_start(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	int rc;
	const char *id = cli_parse_id("start", usage, NULL, argc, argv, &rc);

	if (!id)
		return rc;
	if (husk_start(&ctx, id, &err) < 0)
		return cli_fail(&err);
	return 0;
}
