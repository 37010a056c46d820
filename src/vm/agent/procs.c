/* The process table: one entry per stream (the init on 0, exec'd processes
 * on the numbers the host chose), with the agent's ends of its stdio. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vm/agent/agent.h"

struct agent_proc *agent_proc_find(struct agent *a, uint32_t stream)
{
	for (size_t i = 0; i < a->n_procs; i++)
		if (a->procs[i]->stream == stream)
			return a->procs[i];
	return NULL;
}

struct agent_proc *agent_proc_by_pid(struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->n_procs; i++)
		if (a->procs[i]->pid == pid && !a->procs[i]->exited)
			return a->procs[i];
	return NULL;
}

struct agent_proc *agent_proc_new(struct agent *a, uint32_t stream, struct husk_err *err)
{
	struct agent_proc *p;

	if (agent_proc_find(a, stream)) {
		husk_err_plain(err, EEXIST, "stream %u is in use", stream);
		return NULL;
	}
	if (a->n_procs == AGENT_MAX_PROCS) {
		husk_err_plain(err, EAGAIN, "stream %u: %d processes already run", stream,
			       AGENT_MAX_PROCS);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		husk_err_set(err, ENOMEM, "stream %u", stream);
		return NULL;
	}
	*p = (struct agent_proc){.stream = stream, .in_fd = -1, .out_fd = -1, .err_fd = -1};
	a->procs[a->n_procs++] = p;
	return p;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* With a pty, in_fd and out_fd are one fd: closed once both are done. */
static void close_in(struct agent_proc *p)
{
	if (p->pty && p->in_fd == p->out_fd)
		p->in_fd = -1;
	else
		close_fd(&p->in_fd);
}

static void close_out(struct agent_proc *p)
{
	if (p->pty && p->in_fd == p->out_fd)
		p->out_fd = -1;
	else
		close_fd(&p->out_fd);
}

void agent_proc_free(struct agent *a, struct agent_proc *p)
{
	for (size_t i = 0; i < a->n_procs; i++) {
		if (a->procs[i] != p)
			continue;
		a->procs[i] = a->procs[--a->n_procs];
		break;
	}
	close_in(p);
	close_out(p);
	close_fd(&p->in_fd);
	close_fd(&p->err_fd);
	free(p->in_buf);
	free(p);
}

/* Queue bytes for the process's stdin; empty: end of input (a pty gets its
 * EOF character, which a reader in canonical mode sees as end of file). */
int agent_proc_stdin(struct agent_proc *p, const uint8_t *data, size_t len, struct husk_err *err)
{
	uint8_t eof = 4; /* ^D, unless the terminal says otherwise */
	uint8_t *bigger;

	if (p->in_fd < 0 || p->in_eof)
		return 0; /* input after its end, or to a process gone: dropped */
	if (len == 0 && p->pty) {
		struct termios t;
		if (tcgetattr(p->in_fd, &t) == 0)
			eof = t.c_cc[VEOF];
		data = &eof;
		len = 1;
	} else if (len == 0) {
		p->in_eof = true;
		return agent_proc_flush_stdin(p);
	}
	if (p->in_len + len > AGENT_STDIN_MAX + HUSK_VM_IO_CHUNK)
		return husk_err_plain(err, ENOBUFS, "stream %u: stdin is full", p->stream);
	bigger = realloc(p->in_buf, p->in_len + len);
	if (!bigger)
		return husk_err_set(err, ENOMEM, "stream %u: stdin", p->stream);
	memcpy(bigger + p->in_len, data, len);
	p->in_buf = bigger;
	p->in_len += len;
	return agent_proc_flush_stdin(p);
}

/* Write what the (non-blocking) stdin takes; closes it after the end of
 * input. A process that closed its stdin gets no more: the rest is dropped. */
int agent_proc_flush_stdin(struct agent_proc *p)
{
	while (p->in_len > 0 && p->in_fd >= 0) {
		ssize_t n = write(p->in_fd, p->in_buf, p->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			p->in_len = 0;
			p->in_eof = true;
			break;
		}
		memmove(p->in_buf, p->in_buf + n, p->in_len - (size_t)n);
		p->in_len -= (size_t)n;
	}
	if (p->in_len == 0 && p->in_eof && !p->pty)
		close_in(p);
	return 0;
}

/* The end of one output: closed, and the empty frame that says so. */
static int end_output(struct agent *a, struct agent_proc *p, bool is_err)
{
	if (is_err)
		close_fd(&p->err_fd);
	else
		close_out(p);
	return agent_send_bytes(a, is_err ? HUSK_VM_STDERR : HUSK_VM_STDOUT, p->stream, NULL, 0);
}

/* One read of stdout (or stderr) relayed: 1 bytes were sent, 0 none ready,
 * 2 the output ended (and that was sent), -1 the channel failed. */
static int relay_once(struct agent *a, struct agent_proc *p, bool is_err)
{
	static uint8_t buf[HUSK_VM_IO_CHUNK];
	int fd = is_err ? p->err_fd : p->out_fd;
	ssize_t n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n > 0)
		return agent_send_bytes(a, is_err ? HUSK_VM_STDERR : HUSK_VM_STDOUT, p->stream, buf,
					(size_t)n) < 0
			   ? -1
			   : 1;
	/* 0, or EIO from a pty master once no one holds the terminal */
	return end_output(a, p, is_err) < 0 ? -1 : 2;
}

int agent_proc_relay(struct agent *a, struct agent_proc *p, bool is_err)
{
	return relay_once(a, p, is_err) < 0 ? -1 : 0;
}

/* A process whose grace time is over: what its outputs hold now, then
 * their end, whoever else (a child left behind) still holds them. */
int agent_proc_drain(struct agent *a, struct agent_proc *p)
{
	for (int i = 0; i < 2; i++) {
		bool is_err = i == 1;
		int r;

		if ((is_err ? p->err_fd : p->out_fd) < 0)
			continue;
		while ((r = relay_once(a, p, is_err)) == 1)
			;
		if (r < 0 || (r == 0 && end_output(a, p, is_err) < 0))
			return -1;
	}
	return 0;
}

bool agent_proc_finished(const struct agent_proc *p)
{
	return p->exited && p->out_fd < 0 && p->err_fd < 0;
}
