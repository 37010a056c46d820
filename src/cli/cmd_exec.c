#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: husk exec [options] CONTAINER_ID COMMAND [ARGS...]\n"
	      "       husk exec [options] --process FILE CONTAINER_ID\n\n"
	      "Run a new process inside a running container. By default it is the\n"
	      "container's own process (user, environment, capabilities, cwd) with\n"
	      "COMMAND as its arguments.\n\n"
	      "Options:\n"
	      "  --process, -p FILE        the process as OCI process JSON (other process\n"
	      "                            options are then ignored)\n"
	      "  --tty, -t                 allocate a pseudo-terminal\n"
	      "  --console-socket PATH     send the pty master to this AF_UNIX socket\n"
	      "  --detach, -d              do not wait for the process\n"
	      "  --pid-file PATH           write the process's pid to PATH\n"
	      "  --cwd DIR                 working directory inside the container\n"
	      "  --env, -e KEY=VALUE       set an environment variable (repeatable)\n"
	      "  --user, -u UID[:GID]      run as this user\n"
	      "  --additional-gids, -g GID add a supplementary group (repeatable)\n"
	      "  --cap, -c CAP             add a capability (repeatable)\n"
	      "  --no-new-privs            set no_new_privileges\n"
	      "  --preserve-fds N          pass N extra fds (3 .. 3+N-1) to the process\n"
	      "  --ignore-paused           exec even when the container is paused\n"
	      "  --cgroup [CTL[,CTL]:]PATH run in this existing sub-cgroup of the\n"
	      "                            container's (in CTL's hierarchy; repeatable)\n"
	      "  --apparmor PROFILE        AppArmor profile of the process\n"
	      "  --process-label LABEL     SELinux label of the process\n"
	      "  --help, -h                print this help\n",
	      out);
}

struct exec_flags {
	const char *process_file;
	struct husk_exec_process_opts p;  /* the default process's flags */
	struct husk_exec_subcgroup *subs; /* --cgroup, n_subs of them */
	size_t n_subs;
	bool plain_sub; /* one --cgroup without "controller:" */
	char **copies;	/* the --cgroup values, split in place */
	size_t n_copies;
};

static int add_env(struct husk_exec_process_opts *p, const char *kv)
{
	char **bigger = realloc(p->env, (p->n_env + 1) * sizeof(*p->env));
	if (!bigger)
		return -1;
	p->env = bigger;
	p->env[p->n_env++] = (char *)kv;
	return 0;
}

/* --user UID[:GID] and --additional-gids GID: the strict id parser that
 * config.json's ids go through too (husk_user_parse, husk_id_parse). */
static int parse_user(struct exec_flags *f, const char *s)
{
	struct husk_err err = {0};
	uint32_t uid, gid = 0;
	bool has_gid;

	if (husk_user_parse(s, &uid, &gid, &has_gid, &err) < 0)
		return cli_usage_error("exec", "--user %s: %s (want UID[:GID])", s, err.msg);
	f->p.uid = uid;
	f->p.gid = gid;
	f->p.has_gid = has_gid;
	f->p.set_user = true;
	return 0;
}

static int add_gid(struct exec_flags *f, const char *s)
{
	struct husk_err err = {0};
	uint32_t *bigger, gid;

	if (husk_id_parse(s, &gid, &err) < 0)
		return cli_usage_error("exec", "--additional-gids: %s", err.msg);
	bigger = realloc((uint32_t *)f->p.gids, (f->p.n_gids + 1) * sizeof(*bigger));
	if (!bigger)
		return -1;
	bigger[f->p.n_gids++] = gid;
	f->p.gids = bigger;
	return 0;
}

/* process.env entries are KEY=VALUE (config.json refuses others too);
 * runc refuses a bare KEY as well, only later. */
static int parse_env(struct exec_flags *f, const char *kv)
{
	if (!strchr(kv, '=') || kv[0] == '=')
		return cli_usage_error("exec", "--env \"%s\": must be KEY=value", kv);
	return add_env(&f->p, kv) < 0 ? -1 : 0;
}

static int add_sub(struct exec_flags *f, const char *controller, const char *path)
{
	struct husk_exec_subcgroup *bigger = realloc(f->subs, (f->n_subs + 1) * sizeof(*f->subs));
	if (!bigger)
		return -1;
	f->subs = bigger;
	for (size_t i = 0; controller && i < f->n_subs; i++)
		if (f->subs[i].controller && strcmp(f->subs[i].controller, controller) == 0)
			return cli_usage_error("exec", "--cgroup: controller %s given twice",
					       controller);
	f->subs[f->n_subs++] = (struct husk_exec_subcgroup){.controller = controller, .path = path};
	return 0;
}

/* --cgroup PATH (every hierarchy; then the only --cgroup) or
 * --cgroup CONTROLLER[,CONTROLLER...]:PATH (repeatable), as runc. */
static int parse_sub_cgroup(struct exec_flags *f, const char *arg)
{
	char **bigger = realloc(f->copies, (f->n_copies + 1) * sizeof(*f->copies));
	char *copy, *colon, *save = NULL;

	if (!bigger)
		return -1;
	f->copies = bigger;
	copy = f->copies[f->n_copies++] = strdup(arg);
	if (!copy)
		return -1;
	colon = strchr(copy, ':');
	if (!colon) {
		f->plain_sub = true;
		return add_sub(f, NULL, copy);
	}
	*colon = '\0';
	if (!*copy || copy[strlen(copy) - 1] == ',' || *copy == ',' || strstr(copy, ",,"))
		return cli_usage_error("exec", "--cgroup %s: empty controller name", arg);
	for (char *ctl = strtok_r(copy, ",", &save); ctl; ctl = strtok_r(NULL, ",", &save)) {
		int r = add_sub(f, ctl, colon + 1);
		if (r != 0)
			return r;
	}
	return 0;
}

static int parse_cap(struct exec_flags *f, const char *name)
{
	char buf[64];
	int cap = husk_cap_from_name(name);

	if (cap < 0 && strncasecmp(name, "CAP_", 4) != 0) {
		snprintf(buf, sizeof(buf), "CAP_%s", name);
		for (char *p = buf; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		cap = husk_cap_from_name(buf);
	}
	if (cap < 0)
		return -1;
	f->p.caps |= 1ULL << cap;
	return 0;
}

static int do_exec(struct cli_globals *g, struct exec_flags *f, struct husk_exec_opts *o,
		   const char *id, char **args, int n_args)
{
	struct husk_ctx ctx = cli_ctx(g);
	struct husk_err err = {0};
	struct husk_process *from_file = NULL;
	int status = 0, r;

	if (f->process_file) {
		from_file = husk_process_load(f->process_file, &err);
		if (!from_file) {
			husk_err_prefix(&err, "exec %s", id);
			return cli_fail(&err);
		}
		o->process = from_file;
	} else {
		f->p.args = args;
		f->p.n_args = (size_t)n_args;
		o->process_opts = &f->p;
	}
	r = husk_exec(&ctx, id, o, &status, &err);
	if (from_file)
		husk_process_free(from_file);
	return r < 0 ? cli_fail(&err) : status;
}

enum {
	OPT_CONSOLE = 256,
	OPT_PID_FILE,
	OPT_CWD,
	OPT_NNP,
	OPT_PRESERVE,
	OPT_IGNORE_PAUSED,
	OPT_APPARMOR,
	OPT_LABEL,
	OPT_CGROUP,
};

static int parse_one(int c, struct exec_flags *f, struct husk_exec_opts *o, char **argv)
{
	switch (c) {
	case 'p':
		f->process_file = optarg;
		return 0;
	case 't':
		f->p.tty = true;
		return 0;
	case 'd':
		o->detach = true;
		return 0;
	case 'e':
		return parse_env(f, optarg);
	case 'u':
		return parse_user(f, optarg);
	case 'g':
		return add_gid(f, optarg);
	case 'c':
		if (parse_cap(f, optarg) < 0)
			return cli_usage_error("exec", "--cap: unknown capability %s", optarg);
		return 0;
	case OPT_CONSOLE:
		o->console_socket = optarg;
		return 0;
	case OPT_PID_FILE:
		o->pid_file = optarg;
		return 0;
	case OPT_CWD:
		f->p.cwd = optarg;
		return 0;
	case OPT_NNP:
		f->p.no_new_privs = true;
		return 0;
	case OPT_PRESERVE:
		o->preserve_fds = cli_parse_uint(optarg);
		if (o->preserve_fds < 0)
			return cli_usage_error("exec", "--preserve-fds: not a count: %s", optarg);
		return 0;
	case OPT_IGNORE_PAUSED:
		o->ignore_paused = true;
		return 0;
	case OPT_APPARMOR:
		f->p.apparmor = optarg;
		return 0;
	case OPT_LABEL:
		f->p.label = optarg;
		return 0;
	case OPT_CGROUP:
		return parse_sub_cgroup(f, optarg);
	default:
		return cli_bad_option("exec", c, argv);
	}
}

int cmd_exec(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"tty", no_argument, NULL, 't'},
	    {"detach", no_argument, NULL, 'd'},
	    {"env", required_argument, NULL, 'e'},
	    {"user", required_argument, NULL, 'u'},
	    {"additional-gids", required_argument, NULL, 'g'},
	    {"cap", required_argument, NULL, 'c'},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE},
	    {"pid-file", required_argument, NULL, OPT_PID_FILE},
	    {"cwd", required_argument, NULL, OPT_CWD},
	    {"no-new-privs", no_argument, NULL, OPT_NNP},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
	    {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
	    {"apparmor", required_argument, NULL, OPT_APPARMOR},
	    {"process-label", required_argument, NULL, OPT_LABEL},
	    {"cgroup", required_argument, NULL, OPT_CGROUP},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct exec_flags f = {0};
	struct husk_exec_opts o = {0};
	int c, r;

	optind = 0; /* re-read the optstring: '+' stops at CONTAINER_ID */
	while ((c = getopt_long(argc, argv, "+:p:tde:u:g:c:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			r = 0;
			goto out;
		}
		r = parse_one(c, &f, &o, argv);
		if (r != 0)
			goto out;
	}
	if (f.plain_sub && f.n_subs > 1) {
		r = cli_usage_error("exec", "--cgroup: a path without \"controller:\" must be "
					    "the only --cgroup");
		goto out;
	}
	o.sub_cgroups = f.subs;
	o.n_sub_cgroups = f.n_subs;
	if (argc - optind < 1) {
		r = cli_usage_error("exec", "missing container id");
		goto out;
	}
	if (!f.process_file && argc - optind < 2) {
		r = cli_usage_error("exec", "missing the command to run after the container id");
		goto out;
	}
	r = do_exec(g, &f, &o, argv[optind], argv + optind + 1, argc - optind - 1);
out:
	free(f.p.env);
	free((uint32_t *)f.p.gids);
	free(f.subs);
	for (size_t i = 0; i < f.n_copies; i++)
		free(f.copies[i]);
	free(f.copies);
	return r < 0 ? 1 : r;
}
