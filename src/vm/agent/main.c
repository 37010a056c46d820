/* husk-agent's entry: PID 1 of the guest, or the test mode
 *
 *	husk-agent --no-init --channel-fd N --root DIR
 *
 * which skips the boot (mounts, the port, power-off), speaks the protocol
 * on fd N, keeps container state under DIR and exits with stream 0's
 * status (AGENT_EXIT_FAILURE when it stopped for a reason of its own). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux/selfexe.h"
#include "vm/agent/agent.h"

struct args {
	bool no_init;
	int channel_fd;
	const char *root;
};

static void usage(void)
{
	fputs("Usage: husk-agent (as PID 1 of a husk VM)\n"
	      "       husk-agent --no-init --channel-fd N --root DIR\n",
	      stderr);
}

static int parse_args(int argc, char **argv, struct args *args)
{
	static const struct option opts[] = {{"no-init", no_argument, NULL, 'n'},
					     {"channel-fd", required_argument, NULL, 'c'},
					     {"root", required_argument, NULL, 'r'},
					     {0}};
	char *end;
	int c;

	*args = (struct args){.channel_fd = -1};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			args->no_init = true;
			break;
		case 'c':
			errno = 0;
			long fd = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || fd < 0 || fd > 65535)
				return -1;
			args->channel_fd = (int)fd;
			break;
		case 'r':
			args->root = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (args->no_init != (args->channel_fd >= 0) || args->no_init != (args->root != NULL))
		return -1;
	return 0;
}

/* SIGCHLD comes through a signalfd; SIGPIPE is blocked rather than
 * ignored, since an ignored signal would stay ignored in the container
 * (husk's child empties the mask before the program runs). */
static int signals(struct agent *a, struct husk_err *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return husk_err_sys(err, "block SIGCHLD");
	sigdelset(&set, SIGPIPE);
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0)
		return husk_err_sys(err, "signalfd");
	return 0;
}

static int setup_init(struct agent *a, struct husk_err *err)
{
	if (agent_boot(err) < 0)
		return -1;
	agent_log_init(true);
	a->state_root = "/run/husk/state";
	a->bundle_dir = "/run/husk/bundle";
	a->work_dir = "/run/husk/agent";
	a->chan = agent_open_channel(err);
	if (a->chan < 0 || agent_wait_host(a->chan, err) < 0)
		return -1;
	return 0;
}

static int setup_test(struct agent *a, const struct args *args, struct husk_err *err)
{
	static char bundle[64];
	/* mkdtemp's template: it replaces the six X with a unique suffix */
	char private_dir[] = "/tmp/husk-agent.XXXXXX";

	/* the container's init and exec'd processes are reparented here
	 * when their intermediate processes exit, as they are to PID 1 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return husk_err_sys(err, "become a child subreaper");
	if (fcntl(args->channel_fd, F_SETFD, FD_CLOEXEC) < 0)
		return husk_err_sys(err, "channel fd %d", args->channel_fd);
	a->chan = args->channel_fd;
	a->state_root = args->root;
	/* config.json, the console sockets and pid files: a short private path */
	if (!mkdtemp(private_dir))
		return husk_err_sys(err, "mkdtemp %s", private_dir);
	a->tmp_dir = strdup(private_dir);
	snprintf(bundle, sizeof(bundle), "%s/bundle", private_dir);
	if (!a->tmp_dir || mkdir(bundle, 0700) < 0)
		return husk_err_sys(err, "mkdir %s", bundle);
	a->bundle_dir = bundle;
	a->work_dir = a->tmp_dir;
	return 0;
}

static int hello(struct agent *a)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return agent_send(a, HUSK_VM_HELLO, 0,
			  json_pack("{s:i, s:I}", "version", (int)HUSK_VM_PROTO_VERSION, "boot_ns",
				    (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
}

static void remove_tmp(struct agent *a)
{
	char path[PATH_MAX];

	if (!a->tmp_dir)
		return;
	snprintf(path, sizeof(path), "%s/config.json", a->bundle_dir);
	unlink(path);
	rmdir(a->bundle_dir);
	if (rmdir(a->tmp_dir) < 0)
		agent_log("remove %s: %s", a->tmp_dir, strerror(errno));
	free(a->tmp_dir);
}

/* The processes left (killed by the teardown) reaped; PID 1 reaps them as
 * they go anyway, the test mode leaves none behind it. */
static void reap_all(struct agent *a)
{
	for (int i = 0; i < 200; i++) {
		agent_reap(a);
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		struct timespec ts = {.tv_nsec = 10000000};
		nanosleep(&ts, NULL);
	}
}

static int __attribute__((noreturn)) finish(struct agent *a)
{
	agent_teardown(a);
	reap_all(a);
	if (a->init) {
		sync();
		/* Without ACPI (microvm,acpi=off) the kernel has no way to power
		 * off and would only halt, leaving QEMU running: a reboot (with
		 * reboot=t, a triple fault) ends QEMU when it runs -no-reboot. */
		reboot(access("/sys/firmware/acpi", F_OK) == 0 ? RB_POWER_OFF : RB_AUTOBOOT);
		/* not reached; PID 1 must not exit (the kernel panics) */
		for (;;)
			pause();
	}
	remove_tmp(a);
	exit(a->done && !a->failed ? a->exit_status : AGENT_EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	struct agent a = {.chan = -1, .sigfd = -1};
	struct husk_err err = {0};
	struct args args;

	husk_selfexe_init(argv);
	if (parse_args(argc, argv, &args) < 0) {
		usage();
		return 2;
	}
	a.init = !args.no_init;
	if (a.init && getpid() != 1) {
		fputs("husk-agent: not PID 1: use --no-init for the test mode\n", stderr);
		return 2;
	}
	/* exec re-executes from a sealed copy (CVE-2019-5736): done now, while
	 * there is nothing to lose, not in the middle of the loop */
	if ((a.init && agent_mount_proc(&err) < 0) || husk_selfexe_protect(&err) < 0 ||
	    signals(&a, &err) < 0 ||
	    (a.init ? setup_init(&a, &err) : setup_test(&a, &args, &err)) < 0) {
		agent_log("%s", err.msg);
		a.failed = true;
		finish(&a);
	}
	husk_vm_reader_init(&a.reader, false);
	if (hello(&a) < 0 || agent_loop(&a) < 0)
		a.failed = !a.done;
	finish(&a);
}
