/* husk features: print the OCI features document. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "util/cleanup.h"

int cmd_features(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_err err = {0};
	_cleanup_free_ char *text = NULL;
	int c;

	(void)g;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: husk features\n\n"
			       "Print the features this runtime supports, as the OCI features\n"
			       "JSON document (runtime-spec features.md).\n\n"
			       "Options:\n"
			       "  --help, -h   print this help\n");
			return 0;
		default:
			return cli_bad_option("features", c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("features", "too many arguments: %s", argv[optind]);
	text = husk_features(&err);
	if (!text)
		return cli_fail(&err);
	printf("%s\n", text);
	return 0;
}
