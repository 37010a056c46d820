/* exec in a VM: a relay child connects to the monitor, passes its stdio (or,
 * with --tty, the slave of a host pty whose master goes to the console
 * socket or the caller) and the process, and lives as long as the process in the guest does,
 * exiting with its status, so `exec`'s pid behaves as a process of the container would (foreground
 * wait, --pid-file, signals). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "linux/internal.h"
#include "vm/host/monitor.h"

/* In the relay: 0 once the monitor says the process started, with its
 * errors reported to the exec call over `report`. tty: the pty slave the
 * process's terminal is relayed to, else -1 (our stdio is passed). */
static int relay_start(int dir_fd, const struct husk_process *proc, int tty, int *conn,
		       struct husk_err *err)
{
	json_t *req = json_pack("{s:s,s:o,s:b}", "op", "exec", "process",
				husk_vm_process_json(proc), "terminal", tty >= 0);
	int fds[3] = {0, 1, 2}, got[3];
	json_t *rep = NULL;
	size_t n;
	int r;

	if (tty >= 0)
		fds[0] = fds[1] = fds[2] = tty;
	*conn = husk_vm_ctl_connect(dir_fd, err);
	r = *conn < 0 ? -1 : husk_vm_ctl_send(*conn, req, fds, 3, err);
	json_decref(req);
	if (r < 0)
		return -1;
	r = husk_vm_ctl_recv(*conn, &rep, got, 0, &n, err);
	if (r == 1)
		return husk_err_set(err, ESRCH, "the vm monitor went away");
	if (r < 0)
		return -1;
	if (!json_object_get(rep, "started"))
		r = husk_err_plain(err, (int)json_integer_value(json_object_get(rep, "errno")),
				   "in the guest: %s",
				   json_string_value(json_object_get(rep, "error"))
				       ? json_string_value(json_object_get(rep, "error"))
				       : "exec failed");
	json_decref(rep);
	return r;
}

/* Blocked from the start, so that none sent before the wait is lost. */
static void block_forwarded(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; husk_vm_forwarded_signals[i]; i++)
		sigaddset(set, husk_vm_forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, set, NULL);
}

static void relay_send(int conn, json_t *req)
{
	struct husk_err err;

	husk_vm_ctl_send(conn, req, NULL, 0, &err);
	json_decref(req);
}

/* Catchable signals sent to the relay go to the process in the guest;
 * with a terminal (ours: resizing its master sends us SIGWINCH), a
 * SIGWINCH asks the monitor to pass the slave's new size on. */
__attribute__((noreturn)) static void relay_wait(int conn, const sigset_t *set, bool terminal)
{
	struct husk_err err;
	int sfd = signalfd(-1, set, SFD_CLOEXEC);

	for (;;) {
		struct pollfd p[2] = {{.fd = conn, .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		struct signalfd_siginfo si;
		json_t *rep = NULL;
		int fds[1];
		size_t n;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGWINCH && terminal)
				relay_send(conn, json_pack("{s:s}", "op", "winsize"));
			else if (si.ssi_signo != SIGWINCH)
				relay_send(conn, json_pack("{s:s,s:i}", "op", "signal", "signal",
							   (int)si.ssi_signo));
		}
		if (!p[0].revents)
			continue;
		if (husk_vm_ctl_recv(conn, &rep, fds, 0, &n, &err) != 0)
			_exit(255);
		if (json_object_get(rep, "exit"))
			_exit((int)json_integer_value(json_object_get(rep, "exit")));
		if (json_object_get(rep, "error"))
			_exit(255);
		json_decref(rep);
	}
}

/* The relay with a terminal leads a session of its own whose controlling
 * terminal is the slave: a resize of the master then reaches it. Its stdio
 * becomes the slave too, as a linux exec's would: the caller's (a pipe an
 * engine waits on) is not the process's. */
static int take_terminal(int tty, struct husk_err *err)
{
	if (setsid() < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
		return husk_err_sys(err, "vm: make the pty the exec relay's terminal");
	for (int fd = 0; fd < 3; fd++)
		if (fd != tty && dup2(tty, fd) < 0)
			return husk_err_sys(err, "vm: pty onto fd %d", fd);
	return 0;
}

__attribute__((noreturn)) static void relay_main(const struct husk_exec_params *p,
						 struct husk_vm_pty *pty, int report)
{
	struct husk_err got = {0};
	sigset_t set;
	int conn = -1;

	prctl(PR_SET_NAME, "husk-vm-exec");
	block_forwarded(&set);
	if (pty->master >= 0)
		close(pty->master);
	if (pty->console_fd >= 0)
		close(pty->console_fd);
	if ((pty->slave >= 0 && take_terminal(pty->slave, &got) < 0) ||
	    relay_start(p->state_dir_fd, p->process, pty->slave, &conn, &got) < 0) {
		if (write(report, &got, sizeof(got)) < 0)
			_exit(255);
		_exit(255);
	}
	got.code = -1;
	if (write(report, &got, sizeof(got)) < 0)
		_exit(255);
	close(report);
	/* the slave stays open: the terminal's size is read through it */
	relay_wait(conn, &set, pty->slave >= 0);
}

int husk_vm_exec(const struct husk_exec_params *p, struct husk_spawn_result *out,
		 struct husk_err *err)
{
	struct husk_vm_pty pty = {-1, -1, -1};
	int report[2], master = -1;
	pid_t pid;
	struct husk_err got;
	ssize_t n;

	if (p->preserve_fds > 0)
		return husk_err_plain(err, ENOTSUP,
				      "--preserve-fds: not supported by the vm backend");
	if (p->process->terminal && husk_vm_pty_open(p->process, p->console_socket, &pty, err) < 0)
		return -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		husk_vm_pty_close(&pty);
		return husk_err_sys(err, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		husk_vm_pty_close(&pty);
		return husk_err_sys(err, "fork exec relay");
	}
	if (pid == 0) {
		close(report[0]);
		relay_main(p, &pty, report[1]);
	}
	close(report[1]);
	if (pty.slave >= 0) {
		close(pty.slave); /* the relay's and the monitor's */
		pty.slave = -1;
	}
	do
		n = read(report[0], &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n != (ssize_t)sizeof(got) || got.code != -1) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		husk_vm_pty_close(&pty);
		if (n != (ssize_t)sizeof(got))
			return husk_err_set(err, ECHILD, "exec relay died");
		*err = got;
		return -1;
	}
	if (pty.master >= 0 && husk_vm_pty_hand_out(&pty, p->want_pty_master, &master, err) < 0) {
		/* the relay's end kills the process in the guest */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		husk_vm_pty_close(&pty);
		return -1;
	}
	husk_vm_pty_close(&pty);
	out->pid = pid;
	out->pidfd = -1;
	out->pty_master = master;
	return 0;
}
