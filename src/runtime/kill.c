/* kill, and signal names. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "runtime/backend.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/log.h"

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	{"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},	   {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},	   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},	   {"WINCH", SIGWINCH}, {"IO", SIGIO},	   {"POLL", SIGPOLL},
    {"PWR", SIGPWR},	   {"SYS", SIGSYS},
};

/* "RTMIN", "RTMIN+3", "RTMAX-2" (after any "SIG" prefix). */
static int parse_rt(const char *s)
{
	int base, off = 0;
	char *end;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX;
	else
		return -1;
	s += 5;
	if (*s == '+' || *s == '-') {
		if (!isdigit((unsigned char)s[1]))
			return -1;
		off = (int)strtol(s, &end, 10);
		if (*end)
			return -1;
	} else if (*s) {
		return -1;
	}
	base += off;
	return base >= SIGRTMIN && base <= SIGRTMAX ? base : -1;
}

int husk_signal_parse(const char *s)
{
	char *end;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		long n = strtol(s, &end, 10);
		/* 0 sends nothing but still fails on a container that is not
		 * running, as kill(2) and runc do. */
		return *end || n < 0 || n >= NSIG ? -1 : (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(signal_names); i++)
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].sig;
	return parse_rt(s);
}

static int signal_init(const struct husk_container *c, int sig, struct husk_err *err)
{
	_cleanup_close_ int pidfd = husk_container_pidfd(c, err);

	if (pidfd < 0)
		return errno == ESRCH ? husk_err_set(err, 0, "container not running") : -1;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			return husk_err_set(err, 0, "container not running");
		return husk_err_sys(err, "signal %d to init %d", sig, (int)c->pid);
	}
	return 0;
}

/* kill --all: through the cgroup (it thaws a frozen one); without one of
 * its own (rootless), to the init's process tree. */
static int signal_all(struct husk_container *c, int sig, struct husk_err *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	bool from_cgroup;

	if (husk_container_pids(c, &pids, &n, &from_cgroup, err) < 0)
		return -1;
	if (from_cgroup)
		return husk_cgroup_kill_all(husk_container_cgroup(c, err), sig, err);
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return husk_err_sys(err, "kill %d with signal %d", (int)pids[i], sig);
	return 0;
}

/* A cgroup v1 freezer holds even a SIGKILLed task until it is thawed, so
 * killing a paused container would leave it frozen, never exiting (podman
 * kill of a paused container then times out waiting for the exit). Thaw it
 * after SIGKILL, as runc does, with every cgroup below it (the container may
 * have frozen one of its own); other signals wait for resume. */
static void thaw_after_kill(struct husk_container *c)
{
	struct husk_err ignored = {0};
	struct husk_cgroup *cg = c->cgroup_path ? husk_container_cgroup(c, &ignored) : NULL;

	if (cg)
		husk_cgroup_thaw_all(cg);
}

int husk_linux_kill(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	int r;

	if (all)
		return husk_traced("signal every process", c->id, signal_all(c, sig, err));
	r = husk_traced("signal init", c->id, signal_init(c, sig, err));
	if (r == 0 && sig == SIGKILL)
		thaw_after_kill(c);
	return r;
}

int husk_kill(const struct husk_ctx *ctx, const char *id, int sig, bool all, struct husk_err *err)
{
	const struct husk_backend *b;
	struct husk_container *c;
	int r;

	if (sig < 0 || sig >= NSIG)
		return husk_err_plain(err, EINVAL, "kill %s: invalid signal %d", id, sig);
	/* Running or paused, both get the signal: skip the freezer check. */
	if (husk_container_load_unfrozen(ctx, id, &c, err) < 0)
		return husk_err_prefix(err, "kill %s", id);
	if (c->status == HUSK_STATUS_CREATING)
		r = husk_err_set(err, 0, "container is still being created");
	else if (!all && c->status == HUSK_STATUS_STOPPED)
		r = husk_err_set(err, 0, "container not running");
	else if ((r = husk_backend_of(c, &b, err)) == 0)
		r = b->kill(c, sig, all, err);
	if (r < 0)
		husk_err_prefix(err, "kill %s", id);
	husk_container_free(c);
	return r;
}
