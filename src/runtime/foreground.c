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
	char in[4096]; /* read from stdin, not yet taken by the pty */
	size_t in_len, in_off;
	bool mid_line; /* the last byte from stdin was not a newline */
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

/* Take a chunk of stdin. At its end, a stdin that is not a terminal
 * becomes an end-of-file character for the pty (VEOF, as a user types it). */
static void read_stdin(struct fg *f)
{
	ssize_t n = read(STDIN_FILENO, f->in, sizeof(f->in));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	f->in_off = 0;
	if (n > 0) {
		f->in_len = (size_t)n;
		f->mid_line = f->in[n - 1] != '\n';
		return;
	}
	f->stdin_open = false;
	f->in_len = 0;
	if (!f->tty_in) {
		/* On a partial line the first ^D only hands the line over. */
		f->in[f->in_len++] = 4;
		if (f->mid_line)
			f->in[f->in_len++] = 4;
	}
}

/* Hand buffered input to the pty without blocking: a container that does
 * not read its input must not stop us copying its output. */
static void feed_master(struct fg *f)
{
	ssize_t n = write(f->p->pty_master, f->in + f->in_off, f->in_len - f->in_off);

	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		f->in_len = f->in_off = 0; /* the pty is gone; drop the input */
		return;
	}
	if (n > 0)
		f->in_off += (size_t)n;
	if (f->in_off == f->in_len)
		f->in_len = f->in_off = 0;
}

/* Poll until the process exits. */
static int loop(struct fg *f, struct husk_err *err)
{
	int master = f->p->pty_master;

	for (;;) {
		bool pending = f->in_len > 0;
		struct pollfd fds[4] = {
		    {.fd = f->sfd, .events = POLLIN},
		    {.fd = f->p->pidfd, .events = POLLIN},
		    {.fd = f->stdin_open && !pending ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = f->master_open ? master : -1,
		     .events = (short)(POLLIN | (pending ? POLLOUT : 0))},
		};
		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return husk_err_sys(err, "poll");
		}
		if (fds[0].revents)
			on_signal(f);
		if (fds[2].revents)
			read_stdin(f);
		if (fds[3].revents & POLLOUT)
			feed_master(f);
		if ((fds[3].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(master, STDOUT_FILENO))
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
	/* What the process wrote just before exiting may still be on its way
	 * through the pty: read until the slave side is closed (EIO), or until
	 * nothing more comes for a moment (another process may hold it open). */
	while (r == 0 && f.master_open) {
		struct pollfd d = {.fd = p->pty_master, .events = POLLIN};
		if (poll(&d, 1, 100) <= 0 || !pump(p->pty_master, STDOUT_FILENO))
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
