/* The monitor's event loop: guest messages, the init's stdin, the exec
 * fifo, the control socket, exec streams, signals, and the hypervisor's
 * end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/state.h"
#include "util/io.h"
#include "vm/host/monitor.h"

const int husk_vm_forwarded_signals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1,  SIGUSR2,
					 SIGALRM, SIGTERM, SIGCONT, SIGWINCH, 0};

static void note_exit(const char *why)
{
	int fd = open(HUSK_VM_EXIT_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char tail[700];

	if (fd < 0)
		return;
	husk_vm_console_tail(tail, sizeof(tail));
	dprintf(fd, "%s\nconsole: %s\n", why, tail);
	close(fd);
}

static void kill_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void husk_vm_monitor_stop(struct monitor *m)
{
	kill_reap(m->vmm_pid);
	kill_reap(m->fs_pid);
	kill_reap(m->fifo_pid);
	m->vmm_pid = m->fs_pid = m->fifo_pid = -1;
	husk_vm_net_release(&m->net);
	unlink(HUSK_VM_NET_FILE); /* undone: nothing for delete to undo */
	/* and whatever came back to us as their subreaper */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	unlink(HUSK_VM_CONTROL_SOCK);
	unlink(HUSK_VM_VFS_SOCK);
}

/* The agent powers the guest off once the init is gone: give QEMU a
 * moment to go by itself, then make sure. */
void husk_vm_monitor_finish(struct monitor *m, int status)
{
	if (m->vmm_pidfd >= 0) {
		struct pollfd p = {.fd = m->vmm_pidfd, .events = POLLIN};
		poll(&p, 1, 1000);
	}
	husk_vm_monitor_stop(m);
	_exit(status);
}

/* The child that stands in for a linux init at the exec fifo: its open
 * blocks until `start`; it writes the byte and hands the write end to the
 * monitor, which closes it once the init runs its program. */
static void start_fifo_holder(struct monitor *m)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		husk_vm_monitor_finish(m, 255);
	m->fifo_pid = fork();
	if (m->fifo_pid == 0) {
		struct husk_err err;
		int fd;
		json_t *msg = json_object();

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		do
			fd = open(HUSK_FIFO_FILE, O_WRONLY | O_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0 || write(fd, "0", 1) != 1 ||
		    husk_vm_ctl_send(sv[1], msg, &fd, 1, &err) < 0)
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	m->fifo_sock = sv[0];
}

static void on_fifo(struct monitor *m)
{
	struct husk_err err;
	json_t *msg = NULL;
	size_t n = 0;
	int fd = -1;

	husk_vm_ctl_recv(m->fifo_sock, &msg, &fd, 1, &n, &err);
	json_decref(msg);
	close(m->fifo_sock);
	m->fifo_sock = -1;
	while (waitpid(m->fifo_pid, NULL, 0) < 0 && errno == EINTR)
		;
	m->fifo_pid = -1;
	if (n != 1)
		return;
	m->fifo_fd = fd;
	if (husk_vm_monitor_send(m, HUSK_VM_START, 0, NULL, NULL, 0, &err) < 0) {
		note_exit(err.msg);
		husk_vm_monitor_finish(m, 255);
	}
}

static struct exec_stream *find_stream(struct monitor *m, uint32_t stream)
{
	for (int i = 0; i < HUSK_VM_MAX_EXEC; i++)
		if (m->ex[i].stream == stream && stream)
			return &m->ex[i];
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void stream_end(struct exec_stream *s)
{
	close_fd(&s->conn);
	close_fd(&s->in);
	close_fd(&s->out);
	close_fd(&s->errfd);
	s->stream = 0;
}

static void reply(int conn, json_t *msg)
{
	struct husk_err err;
	if (conn >= 0 && msg)
		husk_vm_ctl_send(conn, msg, NULL, 0, &err);
	json_decref(msg);
}

static void write_out(int *fd, const struct husk_vm_msg *msg)
{
	if (*fd < 0)
		return;
	if (msg->len == 0) {
		/* end of output: the reader sees EOF (fds 1 and 2 of the init stay) */
		if (*fd > 2)
			close_fd(fd);
		return;
	}
	if (husk_write_all(*fd, msg->payload, msg->len) < 0 && *fd > 2)
		close_fd(fd);
}

static void on_guest_init(struct monitor *m, struct husk_vm_msg *msg)
{
	int one = 1, two = 2;

	switch (msg->type) {
	case HUSK_VM_STDOUT:
		write_out(&one, msg);
		break;
	case HUSK_VM_STDERR:
		write_out(&two, msg);
		break;
	case HUSK_VM_STARTED:
		close_fd(&m->fifo_fd);
		break;
	case HUSK_VM_EXIT:
		husk_vm_monitor_finish(
		    m, (int)json_integer_value(json_object_get(msg->json, "status")));
	case HUSK_VM_ERROR:
		/* START failed: the init is gone (the agent also sends EXIT). */
		close_fd(&m->fifo_fd);
		break;
	default:
		break;
	}
}

static void resize(struct monitor *m, uint32_t stream, int tty_fd);

static void on_guest(struct monitor *m, struct husk_vm_msg *msg)
{
	struct exec_stream *s;

	if (msg->stream == 0) {
		on_guest_init(m, msg);
		return;
	}
	s = find_stream(m, msg->stream);
	if (!s)
		return;
	switch (msg->type) {
	case HUSK_VM_STDOUT:
		write_out(&s->out, msg);
		break;
	case HUSK_VM_STDERR:
		write_out(&s->errfd, msg);
		break;
	case HUSK_VM_EXEC_STARTED:
		s->started = true;
		/* the slave's size may have changed since EXEC took it */
		if (s->terminal)
			resize(m, s->stream, s->errfd);
		reply(s->conn, json_pack("{s:O}", "started", json_object_get(msg->json, "pid")));
		break;
	case HUSK_VM_EXIT:
		reply(s->conn, json_pack("{s:O}", "exit", json_object_get(msg->json, "status")));
		stream_end(s);
		break;
	case HUSK_VM_ERROR:
		/* once started, an error is a STDIN, SIGNAL or WINSIZE that came
		 * too late (the process is ending): its EXIT follows */
		if (s->started)
			break;
		reply(s->conn, json_pack("{s:O,s:O}", "errno", json_object_get(msg->json, "errno"),
					 "error", json_object_get(msg->json, "message")));
		stream_end(s);
		break;
	default:
		break;
	}
}

static void send_or_die(struct monitor *m, uint16_t type, uint32_t stream, const json_t *json,
			const void *data, size_t len)
{
	struct husk_err err;

	if (husk_vm_monitor_send(m, type, stream, json, data, len, &err) < 0) {
		note_exit(err.msg);
		husk_vm_monitor_finish(m, 255);
	}
}

static void signal_stream(struct monitor *m, uint32_t stream, int sig, bool all)
{
	json_t *j = json_pack("{s:i,s:b}", "signal", sig, "all", all);
	send_or_die(m, HUSK_VM_SIGNAL, stream, j, NULL, 0);
	json_decref(j);
}

/* The guest's pty of `stream` to the size of our slave `tty_fd`. */
static void resize(struct monitor *m, uint32_t stream, int tty_fd)
{
	json_t *ws = husk_vm_winsize_json(tty_fd);

	if (ws)
		send_or_die(m, HUSK_VM_WINSIZE, stream, ws, NULL, 0);
	json_decref(ws);
}

/* A read end passed to us (fd 0 or an exec's stdin) into STDIN frames. */
static void pump_stdin(struct monitor *m, int *fd, uint32_t stream)
{
	char buf[HUSK_VM_IO_CHUNK];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	send_or_die(m, HUSK_VM_STDIN, stream, NULL, buf, n > 0 ? (size_t)n : 0);
	if (n <= 0) {
		if (stream)
			close_fd(fd);
		else
			m->stdin_open = false;
	}
}

/* An exec'd process starts at the size of its slave (husk in the guest sets
 * process.consoleSize on its pty before the process runs). */
static void set_console_size(json_t *process, int tty_fd)
{
	struct winsize ws;

	if (json_is_object(process) && ioctl(tty_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col)
		json_object_set_new(
		    process, "consoleSize",
		    json_pack("{s:i,s:i}", "height", (int)ws.ws_row, "width", (int)ws.ws_col));
}

static void on_exec_request(struct monitor *m, int conn, json_t *req, int *fds, size_t n)
{
	struct exec_stream *s = find_stream(m, 0);
	json_t *body;

	for (int i = 0; !s && i < HUSK_VM_MAX_EXEC; i++)
		if (!m->ex[i].stream)
			s = &m->ex[i];
	if (!s || n != 3) {
		reply(conn, json_pack("{s:i,s:s}", "errno", EAGAIN, "error",
				      n != 3 ? "exec needs three stdio fds" : "too many execs"));
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		close(conn);
		return;
	}
	*s = (struct exec_stream){.stream = ++m->next_stream,
				  .conn = conn,
				  .in = fds[0],
				  .out = fds[1],
				  .errfd = fds[2],
				  .terminal = json_is_true(json_object_get(req, "terminal"))};
	if (s->terminal)
		set_console_size(json_object_get(req, "process"), s->errfd);
	body = json_pack("{s:O,s:b}", "process", json_object_get(req, "process"), "terminal",
			 s->terminal);
	send_or_die(m, HUSK_VM_EXEC, s->stream, body, NULL, 0);
	json_decref(body);
}

static void on_control(struct monitor *m)
{
	struct husk_err err;
	int conn = accept4(m->ctl, NULL, NULL, SOCK_CLOEXEC), fds[3];
	json_t *req = NULL;
	size_t n = 0;
	const char *op;

	if (conn < 0)
		return;
	if (husk_vm_ctl_recv(conn, &req, fds, 3, &n, &err) != 0) {
		close(conn);
		return;
	}
	op = json_string_value(json_object_get(req, "op"));
	if (op && strcmp(op, "exec") == 0) {
		on_exec_request(m, conn, req, fds, n);
	} else {
		int sig = (int)json_integer_value(json_object_get(req, "signal"));
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (op && strcmp(op, "signal") == 0 && sig > 0 && sig < 65) {
			signal_stream(m, 0, sig, json_is_true(json_object_get(req, "all")));
			reply(conn, json_pack("{s:b}", "ok", 1));
		} else {
			reply(conn,
			      json_pack("{s:i,s:s}", "errno", EINVAL, "error", "bad request"));
		}
		close(conn);
	}
	json_decref(req);
}

/* The relay of an exec'd process: a signal for it, or gone (killed). */
static void on_relay(struct monitor *m, struct exec_stream *s)
{
	struct husk_err err;
	json_t *req = NULL;
	int fds[3];
	size_t n = 0;
	int r = husk_vm_ctl_recv(s->conn, &req, fds, 3, &n, &err);

	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (r == 0) {
		int sig = (int)json_integer_value(json_object_get(req, "signal"));
		const char *op = json_string_value(json_object_get(req, "op"));
		if (op && strcmp(op, "winsize") == 0) {
			/* before EXEC_STARTED the guest has no stream yet; that
			 * sends the size anyway */
			if (s->terminal && s->started)
				resize(m, s->stream, s->errfd);
		} else if (sig > 0 && sig < 65) {
			signal_stream(m, s->stream, sig, false);
		}
	} else {
		signal_stream(m, s->stream, SIGKILL, false);
		stream_end(s);
	}
	json_decref(req);
}

static void on_signal(struct monitor *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
		/* our terminal's master was resized: the guest's pty follows */
		if (si.ssi_signo == SIGWINCH && m->terminal)
			resize(m, 0, 2);
		else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
			signal_stream(m, 0, (int)si.ssi_signo, false);
	}
}

static void on_vmm_gone(struct monitor *m)
{
	int status = 0;
	char why[128];

	while (waitpid(m->vmm_pid, &status, 0) < 0 && errno == EINTR)
		;
	m->vmm_pid = -1;
	snprintf(why, sizeof(why), "the hypervisor ended before the container's init (%s %d)",
		 WIFSIGNALED(status) ? "signal" : "exit status",
		 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	note_exit(why);
	husk_vm_monitor_finish(m, 128 + SIGKILL);
}

static void on_agent(struct monitor *m)
{
	struct husk_err err;
	struct husk_vm_msg msg;
	int r;

	while ((r = husk_vm_reader_step(&m->rd, m->agent, &msg, &err)) == 1) {
		on_guest(m, &msg);
		husk_vm_msg_clear(&msg);
	}
	if (r == 0)
		return;
	note_exit(r == 2 ? "the agent channel closed before the init's exit" : err.msg);
	husk_vm_monitor_finish(m, 255);
}

enum { P_AGENT, P_VMM, P_SIG, P_CTL, P_FIFO, P_STDIN, P_FIXED };

void husk_vm_monitor_loop(struct monitor *m)
{
	struct pollfd p[P_FIXED + 2 * HUSK_VM_MAX_EXEC];
	int who[2 * HUSK_VM_MAX_EXEC];

	m->stdin_open = true;
	start_fifo_holder(m);
	for (;;) {
		nfds_t n = P_FIXED;
		p[P_AGENT] = (struct pollfd){.fd = m->agent, .events = POLLIN};
		p[P_VMM] = (struct pollfd){.fd = m->vmm_pidfd, .events = POLLIN};
		p[P_SIG] = (struct pollfd){.fd = m->sigfd, .events = POLLIN};
		p[P_CTL] = (struct pollfd){.fd = m->ctl, .events = POLLIN};
		p[P_FIFO] = (struct pollfd){.fd = m->fifo_sock, .events = POLLIN};
		p[P_STDIN] = (struct pollfd){.fd = m->stdin_open ? 0 : -1, .events = POLLIN};
		for (int i = 0; i < HUSK_VM_MAX_EXEC; i++) {
			if (!m->ex[i].stream)
				continue;
			who[n - P_FIXED] = i;
			p[n++] = (struct pollfd){.fd = m->ex[i].conn, .events = POLLIN};
			who[n - P_FIXED] = i;
			p[n++] = (struct pollfd){.fd = m->ex[i].in, .events = POLLIN};
		}
		if (poll(p, n, -1) < 0)
			continue;
		if (p[P_AGENT].revents)
			on_agent(m);
		if (p[P_SIG].revents)
			on_signal(m);
		if (p[P_CTL].revents)
			on_control(m);
		if (p[P_FIFO].revents)
			on_fifo(m);
		if (p[P_STDIN].revents)
			pump_stdin(m, &(int){0}, 0);
		for (nfds_t i = P_FIXED; i < n; i++) {
			struct exec_stream *s = &m->ex[who[i - P_FIXED]];
			if (!p[i].revents || !s->stream)
				continue;
			if (p[i].fd == s->conn)
				on_relay(m, s);
			else if (p[i].fd == s->in)
				pump_stdin(m, &s->in, s->stream);
		}
		/* Last: the guest's final messages are read before its end. */
		if (p[P_VMM].revents && !(p[P_AGENT].revents & POLLIN))
			on_vmm_gone(m);
	}
}
