/* Argument parsing that several commands share: the commands whose only
 * options are flags (and --help), and the options of create and run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define MAX_FLAGS 4

static const struct cli_flag *find_flag(const struct cli_flag *flags, int c)
{
	for (; flags && flags->name; flags++)
		if (flags->short_name == c)
			return flags;
	return NULL;
}

int cli_parse_flags(const char *cmd, const char *usage, const struct cli_flag *flags, int argc,
		    char **argv, int *rc)
{
	struct option opts[MAX_FLAGS + 2] = {{"help", no_argument, NULL, 'h'}};
	char shortopts[2 * MAX_FLAGS + 3] = ":h";
	size_t n = 0;
	int c;

	for (; flags && flags[n].name && n < MAX_FLAGS; n++) {
		opts[n + 1] =
		    (struct option){flags[n].name, no_argument, NULL, flags[n].short_name};
		shortopts[n + 2] = flags[n].short_name;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		const struct cli_flag *f = c == 'h' ? NULL : find_flag(flags, c);
		if (c == 'h') {
			fputs(usage, stdout);
			*rc = 0;
			return -1;
		}
		if (!f) {
			*rc = cli_bad_option(cmd, c, argv);
			return -1;
		}
		*f->value = true;
	}
	return optind;
}

const char *cli_parse_id(const char *cmd, const char *usage, const struct cli_flag *flags, int argc,
			 char **argv, int *rc)
{
	int first = cli_parse_flags(cmd, usage, flags, argc, argv, rc);

	if (first < 0)
		return NULL;
	if (argc - first != 1) {
		*rc = cli_want_one_id(cmd, argc - first);
		return NULL;
	}
	return argv[first];
}

int cli_listen_fds(void)
{
	const char *fds = getenv("LISTEN_FDS");
	const char *pid = getenv("LISTEN_PID");
	int n;

	/* systemd socket activation: the fds are ours only when LISTEN_PID
	 * names this process (as sd_listen_fds and runc check). */
	if (!fds || !pid || cli_parse_uint(pid) != (int)getpid())
		return 0;
	n = cli_parse_uint(fds);
	return n > 0 ? n : 0;
}

int cli_create_option(const char *cmd, int c, struct husk_create_opts *o)
{
	switch (c) {
	case 'b':
		o->bundle = optarg;
		return 1;
	case 'c':
		o->console_socket = optarg;
		return 1;
	case 'p':
		o->pid_file = optarg;
		return 1;
	case 'P':
		o->no_pivot = true;
		return 1;
	case 'K':
		o->no_new_keyring = true;
		return 1;
	case 'F':
		o->preserve_fds = cli_parse_uint(optarg);
		if (o->preserve_fds < 0) {
			cli_usage_error(cmd, "--preserve-fds: not a count: %s", optarg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

/* An unknown letter: name the argument it came from ("-rf" is read as -r
 * -f); when that is the last argument it was most likely meant as the id. */
static int unknown_short(const char *cmd, char **argv)
{
	bool in_cluster = argv[optind] && argv[optind][0] == '-' && argv[optind][1] != '-' &&
			  strchr(argv[optind] + 1, optopt);
	int at = in_cluster ? optind : optind - 1;
	bool last = argv[at + 1] == NULL;

	bool alone = argv[at][1] == optopt && argv[at][2] == '\0';

	return cli_usage_error(cmd, "unknown option -%c%s%s%s", optopt, alone ? "" : " in ",
			       alone ? "" : argv[at],
			       last && cmd ? " (a container id cannot start with '-')" : "");
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = arg[0] == '-' && arg[1] == '-';
	int name_len = (int)strcspn(arg, "=");

	/* getopt's own message is off (opterr = 0): it would be a second line. */
	if (c == ':')
		return cli_usage_error(cmd, "option %s needs an argument", arg);
	if (!is_long && optopt > 0 && optopt < 128)
		return unknown_short(cmd, argv);
	if (optopt != 0)
		return cli_usage_error(cmd, "option %.*s takes no argument", name_len, arg);
	return cli_usage_error(cmd, "unknown option %.*s", name_len, arg);
}

int cli_want_one_id(const char *cmd, int n)
{
	if (n < 1)
		return cli_usage_error(cmd, "missing container id");
	return cli_usage_error(cmd, "too many arguments: want one container id");
}
