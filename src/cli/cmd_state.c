#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] = "Usage: husk state CONTAINER_ID\n\n"
			    "Print the OCI state of a container as JSON.\n\n"
			    "Options:\n"
			    "  --help, -h   print this help\n";

int cmd_state(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	char *json;
	int rc;
	const char *id = cli_parse_id("state", usage, NULL, argc, argv, &rc);

	if (!id)
		return rc;
	json = husk_state_json(&ctx, id, &err);
	if (!json)
		return cli_fail(&err);
	/* Like runc: indented, without a final newline. */
	fputs(json, stdout);
	free(json);
	return 0;
}
