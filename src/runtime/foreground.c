/* The foreground side of run and exec: husk stays the process's parent,
 * forwards the signals it receives, copies the terminal when it holds the
 * pty master, and reports the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

/* Every signal that can be caught and that is not a fault of our own. */
static void forwarded_set(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGKILL);
	sigdelset(set, SIGSTOP);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGTRAP);
	sigdelset(set, SIGSYS);
	sigdelset(set, SIGPIPE); /* a closed stdout is ours, not the container's */
	sigdelset(set, SIGCHLD); /* we watch the pidfd instead */
}

void husk_foreground_block(sigset_t *old)
{
	sigset_t set;
	forwarded_set(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

struct fg {
	const struct husk_proc *p;
	int sfd;
	bool tty_in; /* stdin is a terminal we put in raw mode */
	struct termios saved;
	bool stdin_open, master_open;
};

static void copy_winsize(const struct fg *f)
{
	struct winsize ws;
	if (f->tty_in && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(f->p->pty_master, TIOCSWINSZ, &ws);
}

static void tty_setup(struct fg *f)
{
	struct termios raw;

	f->stdin_open = f->master_open = f->p->pty_master >= 0;
	if (f->p->pty_master < 0 || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &f->saved) < 0)
		return;
	raw = f->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		f->tty_in = true;
	copy_winsize(f);
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, -1);
			continue;
		}
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy what is readable from `from` to `to`; false at EOF or error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false; /* EOF, or EIO once every slave fd is closed */
	return write_full(to, buf, (size_t)n) == 0;
}

static void on_signal(struct fg *f)
{
	struct signalfd_siginfo si;

	while (read(f->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH && f->p->pty_master >= 0) {
			copy_winsize(f);
			continue;
		}
		if (f->p->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, f->p->pidfd, (int)si.ssi_signo, NULL, 0);
		else
			kill(f->p->pid, (int)si.ssi_signo);
	}
}

/* Poll until the process exits. */
static int loop(struct fg *f, struct husk_err *err)
{
	int master = f->p->pty_master;

	for (;;) {
		struct pollfd fds[4] = {
		    {.fd = f->sfd, .events = POLLIN},
		    {.fd = f->p->pidfd, .events = POLLIN},
		    {.fd = f->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = f->master_open ? master : -1, .events = POLLIN},
		};
		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return husk_err_sys(err, "poll");
		}
		if (fds[0].revents)
			on_signal(f);
		if (fds[2].revents && !pump(STDIN_FILENO, master))
			f->stdin_open = false;
		if (fds[3].revents && !pump(master, STDOUT_FILENO))
			f->master_open = false;
		if (fds[1].revents)
			return 0;
	}
}

static int reap(pid_t pid, int *exit_status, struct husk_err *err)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return husk_err_sys(err, "wait for %d", (int)pid);
	}
	if (WIFEXITED(status))
		*exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*exit_status = 128 + WTERMSIG(status);
	else
		*exit_status = 255;
	return 0;
}

int husk_foreground_wait(const struct husk_proc *p, const sigset_t *old, int *exit_status,
			 struct husk_err *err)
{
	struct fg f = {.p = p};
	sigset_t set;
	int r;

	forwarded_set(&set);
	f.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f.sfd < 0) {
		r = husk_err_sys(err, "signalfd");
		goto out;
	}
	if (p->pty_master >= 0)
		fcntl(p->pty_master, F_SETFL, fcntl(p->pty_master, F_GETFL) | O_NONBLOCK);
	tty_setup(&f);
	r = p->pidfd >= 0 ? loop(&f, err) : 0;
	/* What the process wrote just before exiting is still in the pty. */
	while (r == 0 && f.master_open && pump(p->pty_master, STDOUT_FILENO)) {
		struct pollfd d = {.fd = p->pty_master, .events = POLLIN};
		if (poll(&d, 1, 0) <= 0)
			break;
	}
	if (f.tty_in)
		tcsetattr(STDIN_FILENO, TCSANOW, &f.saved);
	if (r == 0)
		r = reap(p->pid, exit_status, err);
	close(f.sfd);
out:
	sigprocmask(SIG_SETMASK, old, NULL);
	return r;
}
