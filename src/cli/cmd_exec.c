#include "cli/cli.h"

/* Placeholder until the command lands; it fails loudly rather than pretend. */
int cmd_exec(struct cli_globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	return cli_usage_error("exec", "this command is not built yet");
}
