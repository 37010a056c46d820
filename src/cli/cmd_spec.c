/* husk spec: write a default (hardened) config.json into a bundle. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/io.h"

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

static int write_config(const char *bundle, const char *text, struct husk_err *err)
{
	char path[4096];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	/* O_EXCL: never overwrite a config someone already wrote. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return husk_err_set(err, 0, "File config.json exists. Remove it first.");
	if (fd < 0)
		return husk_err_sys(err, "create %s", path);
	if (husk_write_all(fd, text, strlen(text)) < 0 || husk_write_all(fd, "\n", 1) < 0) {
		husk_err_sys(err, "write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
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
	_cleanup_free_ char *text = NULL;
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
	text = husk_spec_default_json(rootless, &err);
	if (!text || write_config(bundle, text, &err) < 0) {
		husk_err_prefix(&err, "spec");
		return cli_fail(&err);
	}
	return 0;
}
