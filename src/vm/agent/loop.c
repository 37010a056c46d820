/* The event loop: the channel, every process's outputs (and its stdin while
 * input waits), and SIGCHLD. PID 1 reaps every child; a process's EXIT goes
 * out after its outputs ended (or its grace time passed), so the host has
 * all it printed first. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "vm/agent/agent.h"

/* The channel, the signalfd, and up to three fds a process. */
#define MAX_POLL (2 + 3 * AGENT_MAX_PROCS)

enum slot_kind { SLOT_CHAN, SLOT_SIG, SLOT_IN, SLOT_OUT, SLOT_ERR };

struct slot {
	enum slot_kind kind;
	struct agent_proc *p;
};

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

void agent_reap(struct agent *a)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct agent_proc *p = agent_proc_by_pid(a, pid);
		if (!p)
			continue; /* an orphan the agent adopted, or a helper of husk's */
		p->exited = true;
		p->status = status_of(st);
		p->drain_deadline = husk_monotonic_ms() + AGENT_DRAIN_MS;
		/* what the process did not read of its input is dropped */
		free(p->in_buf);
		p->in_buf = NULL;
		p->in_len = 0;
		p->in_eof = true;
		if (!p->pty && p->in_fd >= 0) {
			close(p->in_fd);
			p->in_fd = -1;
		}
	}
}

static void drain_signalfd(int fd)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

/* EXIT for every process whose outputs are done; stream 0's ends the loop. */
static int finish_procs(struct agent *a)
{
	int64_t now = husk_monotonic_ms();

	for (size_t i = 0; i < a->n_procs;) {
		struct agent_proc *p = a->procs[i];
		if (p->exited && !agent_proc_finished(p) && now >= p->drain_deadline &&
		    agent_proc_drain(a, p) < 0)
			return -1;
		if (!agent_proc_finished(p)) {
			i++;
			continue;
		}
		if (agent_send(a, HUSK_VM_EXIT, p->stream,
			       json_pack("{s:i}", "status", p->status)) < 0)
			return -1;
		if (p->stream == 0) {
			a->done = true;
			a->exit_status = p->status;
		}
		agent_proc_free(a, p); /* the stream may be used again */
	}
	return 0;
}

/* Input is held back while a process has a full stdin queue: the host's
 * writes then wait (virtio-serial's own flow control). */
static bool stdin_full(const struct agent *a)
{
	for (size_t i = 0; i < a->n_procs; i++)
		if (a->procs[i]->in_len >= AGENT_STDIN_MAX)
			return true;
	return false;
}

static void add(struct pollfd *fds, struct slot *slots, size_t *n, int fd, short events,
		enum slot_kind kind, struct agent_proc *p)
{
	fds[*n] = (struct pollfd){.fd = fd, .events = events};
	slots[*n] = (struct slot){.kind = kind, .p = p};
	(*n)++;
}

static size_t build(struct agent *a, struct pollfd *fds, struct slot *slots, int *timeout)
{
	size_t n = 0;
	int64_t now = husk_monotonic_ms();

	*timeout = -1;
	if (!stdin_full(a))
		add(fds, slots, &n, a->chan, POLLIN, SLOT_CHAN, NULL);
	add(fds, slots, &n, a->sigfd, POLLIN, SLOT_SIG, NULL);
	for (size_t i = 0; i < a->n_procs; i++) {
		struct agent_proc *p = a->procs[i];
		if (p->in_len > 0 && p->in_fd >= 0)
			add(fds, slots, &n, p->in_fd, POLLOUT, SLOT_IN, p);
		if (p->out_fd >= 0)
			add(fds, slots, &n, p->out_fd, POLLIN, SLOT_OUT, p);
		if (p->err_fd >= 0)
			add(fds, slots, &n, p->err_fd, POLLIN, SLOT_ERR, p);
		if (p->exited) {
			int64_t left = p->drain_deadline > now ? p->drain_deadline - now : 0;
			if (*timeout < 0 || left < *timeout)
				*timeout = (int)left;
		}
	}
	return n;
}

/* 1: go on; 0: the host closed the channel; -1: it broke the protocol. */
static int channel_ready(struct agent *a)
{
	struct husk_err err = {0};
	struct husk_vm_msg m;
	int r;

	/* one message a turn, so a busy host cannot starve the outputs */
	r = agent_recv(a, &m, &err);
	if (r == 0)
		return 1;
	if (r == 2) {
		agent_log("the host closed the channel");
		return 0;
	}
	if (r < 0) {
		agent_log("%s", err.msg);
		/* say why before hanging up; the host may no longer listen */
		agent_send_error(a, 0, &err);
		return -1;
	}
	r = agent_handle(a, &m);
	husk_vm_msg_clear(&m);
	return r < 0 ? -1 : 1;
}

static int dispatch(struct agent *a, const struct pollfd *pfd, const struct slot *s)
{
	if (!pfd->revents)
		return 1;
	switch (s->kind) {
	case SLOT_CHAN:
		return channel_ready(a);
	case SLOT_SIG:
		drain_signalfd(a->sigfd);
		agent_reap(a);
		return 1;
	case SLOT_IN:
		if (s->p->in_fd == pfd->fd)
			agent_proc_flush_stdin(s->p);
		return 1;
	case SLOT_OUT:
	case SLOT_ERR:
		/* an fd an earlier slot of this turn closed (a pty's) */
		if ((s->kind == SLOT_OUT ? s->p->out_fd : s->p->err_fd) != pfd->fd)
			return 1;
		return agent_proc_relay(a, s->p, s->kind == SLOT_ERR) < 0 ? -1 : 1;
	}
	return 1;
}

int agent_loop(struct agent *a)
{
	static struct pollfd fds[MAX_POLL];
	static struct slot slots[MAX_POLL];

	while (!a->done) {
		int timeout;
		size_t n = build(a, fds, slots, &timeout);

		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			agent_log("poll: %s", strerror(errno));
			return -1;
		}
		/* only the channel's messages change the table: after one, the
		 * slots are rebuilt */
		for (size_t i = 0; i < n && !a->done; i++) {
			int r = dispatch(a, &fds[i], &slots[i]);
			if (r <= 0)
				return r < 0 ? -1 : -2;
			if (slots[i].kind == SLOT_CHAN && fds[i].revents)
				break; /* the table may have changed under the slots */
		}
		if (finish_procs(a) < 0)
			return -1;
	}
	return 0;
}

void agent_teardown(struct agent *a)
{
	struct husk_ctx ctx = {.root = a->state_root};
	struct husk_err err = {0};

	if (!a->id)
		return;
	if (husk_kill(&ctx, a->id, SIGKILL, true, &err) < 0 && err.code != 0)
		agent_log("%s", err.msg);
	husk_err_clear(&err);
	if (husk_delete(&ctx, a->id, true, &err) < 0)
		agent_log("%s", err.msg);
	free(a->id);
	a->id = NULL;
}
