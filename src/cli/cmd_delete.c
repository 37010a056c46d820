#include "cli/cli.h"

static const char usage[] =
    "Usage: husk delete [options] CONTAINER_ID\n\n"
    "Delete a stopped (or created) container: its processes, cgroup and state.\n\n"
    "Options:\n"
    "  --force, -f  kill a running or paused container first; a missing\n"
    "               container is not an error; removes whatever a killed\n"
    "               create or delete, or an unreadable state.json, left\n"
    "               behind\n"
    "  --help, -h   print this help\n";

int cmd_delete(struct cli_globals *g, int argc, char **argv)
{
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	bool force = false;
	const struct cli_flag flags[] = {{"force", 'f', &force}, {0}};
	int rc;
	const char *id = cli_parse_id("delete", usage, flags, argc, argv, &rc);

	if (!id)
		return rc;
	if (husk_delete(&ctx, id, force, &err) < 0)
		return cli_fail(&err);
	return 0;
}
