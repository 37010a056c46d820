/* The stdio of a process the agent starts. libhusk gives the container's
 * process the caller's fds 0, 1 and 2, so fresh pipes take their place
 * around husk_create/husk_exec; with a terminal, husk sends the pty master
 * to a console socket the agent listens on instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vm/agent/agent.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int listen_console(struct agent *a, struct agent_stdio *s, uint32_t stream,
			  struct husk_err *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int n =
	    snprintf(s->sock_path, sizeof(s->sock_path), "%s/console-%u.sock", a->work_dir, stream);

	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return husk_err_plain(err, ENAMETOOLONG, "console socket in %s", a->work_dir);
	memcpy(sun.sun_path, s->sock_path, (size_t)n + 1);
	unlink(s->sock_path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return husk_err_sys(err, "console socket");
	if (bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(s->listen_fd, 1) < 0)
		return husk_err_sys(err, "listen on %s", s->sock_path);
	return 0;
}

/* Pipes: the process's ends in s->child, the agent's in p. */
static int make_pipes(struct agent_stdio *s, struct agent_proc *p, struct husk_err *err)
{
	int fds[3][2];

	for (int i = 0; i < 3; i++) {
		if (pipe2(fds[i], O_CLOEXEC) < 0) {
			for (int j = 0; j < i; j++) {
				close(fds[j][0]);
				close(fds[j][1]);
			}
			return husk_err_sys(err, "pipe for stdio");
		}
	}
	s->child[0] = fds[0][0];
	p->in_fd = fds[0][1];
	s->child[1] = fds[1][1];
	p->out_fd = fds[1][0];
	s->child[2] = fds[2][1];
	p->err_fd = fds[2][0];
	if (nonblock(p->in_fd) < 0 || nonblock(p->out_fd) < 0 || nonblock(p->err_fd) < 0)
		return husk_err_sys(err, "stdio pipes: O_NONBLOCK");
	return 0;
}

int agent_stdio_prepare(struct agent *a, struct agent_stdio *s, struct agent_proc *p, bool terminal,
			struct husk_err *err)
{
	*s = (struct agent_stdio){
	    .terminal = terminal, .child = {-1, -1, -1}, .saved = {-1, -1, -1}, .listen_fd = -1};
	if (terminal)
		return listen_console(a, s, p->stream, err);
	return make_pipes(s, p, err);
}

/* The process's pipe ends become 0, 1 and 2 (the agent's own kept aside);
 * with a terminal, 0, 1 and 2 stay (husk replaces them with the pty). */
int agent_stdio_swap_in(struct agent_stdio *s, struct husk_err *err)
{
	if (s->terminal)
		return 0;
	for (int i = 0; i < 3; i++) {
		s->saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (s->saved[i] < 0) {
			agent_stdio_swap_out(s);
			return husk_err_sys(err, "save fd %d", i);
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(s->child[i], i) < 0) {
			agent_stdio_swap_out(s);
			return husk_err_sys(err, "stdio: dup2 onto %d", i);
		}
	}
	return 0;
}

void agent_stdio_swap_out(struct agent_stdio *s)
{
	for (int i = 0; i < 3; i++) {
		if (s->saved[i] < 0)
			continue;
		dup2(s->saved[i], i);
		close_fd(&s->saved[i]);
	}
}

/* The pty master the process's side sent (SCM_RIGHTS), if it has one. */
static int receive_master(struct agent_stdio *s, struct agent_proc *p, struct husk_err *err)
{
	char data[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	int conn = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (conn < 0)
		return husk_err_sys(err, "accept on %s", s->sock_path);
	do
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	close(conn);
	if (n < 0)
		return husk_err_sys(err, "receive the pty master");
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return husk_err_plain(err, EPROTO, "%s: no pty master came", s->sock_path);
	memcpy(&p->in_fd, CMSG_DATA(c), sizeof(int));
	p->out_fd = p->in_fd;
	p->pty = true;
	if (nonblock(p->in_fd) < 0)
		return husk_err_sys(err, "pty master: O_NONBLOCK");
	return 0;
}

/* After husk made the process: the pipe ends that are now the process's
 * are closed here (their end of file is then the process's), a terminal's
 * master is received. */
int agent_stdio_finish(struct agent_stdio *s, struct agent_proc *p, struct husk_err *err)
{
	for (int i = 0; i < 3; i++)
		close_fd(&s->child[i]);
	if (s->terminal)
		return receive_master(s, p, err);
	return 0;
}

void agent_stdio_release(struct agent_stdio *s)
{
	agent_stdio_swap_out(s);
	for (int i = 0; i < 3; i++)
		close_fd(&s->child[i]);
	if (s->listen_fd >= 0) {
		close_fd(&s->listen_fd);
		unlink(s->sock_path);
	}
}
