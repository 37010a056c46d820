#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_criu_option(int c, struct husk_criu_opts *o)
{
	switch (c) {
	case CLI_OPT_IMAGE_PATH:
		o->image_path = optarg;
		return 1;
	case CLI_OPT_WORK_PATH:
		o->work_path = optarg;
		return 1;
	case CLI_OPT_MANAGE_CGROUPS:
		o->manage_cgroups_mode = optarg;
		return 1;
	case CLI_OPT_TCP_ESTABLISHED:
		o->tcp_established = true;
		return 1;
	case CLI_OPT_EXT_UNIX_SK:
		o->ext_unix_sk = true;
		return 1;
	case CLI_OPT_SHELL_JOB:
		o->shell_job = true;
		return 1;
	case CLI_OPT_FILE_LOCKS:
		o->file_locks = true;
		return 1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: husk checkpoint [options] CONTAINER_ID\n\n"
	      "Checkpoint a running container with CRIU. Unless --leave-running or\n"
	      "--pre-dump, the container is then stopped and deleted.\n\n"
	      "Options:\n"
	      "  --leave-running         keep the container running after the checkpoint\n"
	      "  --pre-dump              dump memory only, to a --parent-path of a later\n"
	      "                          checkpoint; the container keeps running\n"
	      "  --parent-path PATH      images of a pre-dump, relative to the image "
	      "path\n" CLI_CRIU_HELP "  --help, -h              print this help\n",
	      out);
}

int cmd_checkpoint(struct cli_globals *g, int argc, char **argv)
{
	enum { OPT_LEAVE_RUNNING = 300, OPT_PRE_DUMP, OPT_PARENT_PATH };
	static const struct option opts[] = {
	    CLI_CRIU_OPTIONS,
	    {"leave-running", no_argument, NULL, OPT_LEAVE_RUNNING},
	    {"pre-dump", no_argument, NULL, OPT_PRE_DUMP},
	    {"parent-path", required_argument, NULL, OPT_PARENT_PATH},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_criu_opts o = {0};
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LEAVE_RUNNING:
			o.leave_running = true;
			break;
		case OPT_PRE_DUMP:
			o.pre_dump = true;
			break;
		case OPT_PARENT_PATH:
			o.parent_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (!cli_criu_option(c, &o))
				return cli_bad_option("checkpoint", c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_want_one_id("checkpoint", argc - optind);
	if (husk_checkpoint(&ctx, argv[optind], &o, &err) < 0)
		return cli_fail(&err);
	return 0;
}
