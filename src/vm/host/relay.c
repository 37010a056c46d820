/* exec in a VM: a relay child connects to the monitor, passes its stdio and
 * the process, and lives as long as the process in the guest does, exiting
 * with its status, so `exec`'s pid behaves as a process of the container
 * would (foreground wait, --pid-file, signals). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "linux/internal.h"
#include "vm/host/monitor.h"

/* In the relay: 0 once the monitor says the process started, with its
 * errors reported to the exec call over `report`. */
static int relay_start(int dir_fd, const struct husk_process *proc, int *conn, struct husk_err *err)
{
	json_t *req = json_pack("{s:s,s:o}", "op", "exec", "process", husk_vm_process_json(proc));
	int fds[3] = {0, 1, 2}, got[3];
	json_t *rep = NULL;
	size_t n;
	int r;

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

/* Catchable signals sent to the relay go to the process in the guest. */
__attribute__((noreturn)) static void relay_wait(int conn)
{
	sigset_t set;
	struct husk_err err;
	int sfd;

	sigemptyset(&set);
	for (size_t i = 0; husk_vm_forwarded_signals[i]; i++)
		sigaddset(&set, husk_vm_forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = {{.fd = conn, .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		struct signalfd_siginfo si;
		json_t *rep = NULL;
		int fds[1];
		size_t n;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGWINCH) {
			json_t *req =
			    json_pack("{s:s,s:i}", "op", "signal", "signal", (int)si.ssi_signo);
			husk_vm_ctl_send(conn, req, NULL, 0, &err);
			json_decref(req);
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

int husk_vm_exec(const struct husk_exec_params *p, struct husk_spawn_result *out,
		 struct husk_err *err)
{
	int report[2];
	pid_t pid;
	struct husk_err got;
	ssize_t n;

	if (p->process->terminal)
		return husk_err_plain(err, ENOTSUP,
				      "exec --tty: not supported by the vm backend yet");
	if (p->preserve_fds > 0)
		return husk_err_plain(err, ENOTSUP,
				      "--preserve-fds: not supported by the vm backend");
	if (pipe2(report, O_CLOEXEC) < 0)
		return husk_err_sys(err, "pipe");
	pid = fork();
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return husk_err_sys(err, "fork exec relay");
	}
	if (pid == 0) {
		int conn = -1;
		close(report[0]);
		prctl(PR_SET_NAME, "husk-vm-exec");
		if (relay_start(p->state_dir_fd, p->process, &conn, &got) < 0) {
			if (write(report[1], &got, sizeof(got)) < 0)
				_exit(255);
			_exit(255);
		}
		got.code = -1;
		if (write(report[1], &got, sizeof(got)) < 0)
			_exit(255);
		close(report[1]);
		relay_wait(conn);
	}
	close(report[1]);
	do
		n = read(report[0], &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n != (ssize_t)sizeof(got) || got.code != -1) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof(got))
			return husk_err_set(err, ECHILD, "exec relay died");
		*err = got;
		return -1;
	}
	out->pid = pid;
	out->pidfd = -1;
	out->pty_master = -1;
	return 0;
}
