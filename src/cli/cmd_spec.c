/* husk spec: write a default (hardened) config.json into a bundle. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void spec_usage(FILE *out)
{
	fprintf(out, "Usage: husk spec [--bundle DIR] [--rootless]\n\n"
		     "Write a default config.json into the bundle directory (default: the\n"
		     "current directory). The default is hardened: no new privileges, a\n"
		     "seccomp profile that denies syscalls containers do not need, and a\n"
		     "user namespace mapping container root to a host range of its own\n"
		     "(husk.userns=auto) with the rootfs idmapped to it (husk.rootfs.idmap).\n\n"
		     "Options:\n"
		     "  -b, --bundle DIR  bundle directory to write config.json into\n"
		     "      --rootless    a config for an unprivileged user (user namespace\n"
		     "                    mapping the caller, host network, no cgroup mount)\n"
		     "  -h, --help        print this help\n");
}

int cmd_spec(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"rootless", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *bundle = ".";
	bool rootless = false;
	struct husk_err err = {0};
	int c;

	(void)g;
	while ((c = getopt_long(argc, argv, "+:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			rootless = true;
			break;
		case 'h':
			spec_usage(stdout);
			return 0;
		default:
			return cli_bad_option("spec", c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("spec", "too many arguments: %s", argv[optind]);
	if (husk_spec_write_default(bundle, rootless, &err) < 0)
		return cli_fail(&err);
	return 0;
}
