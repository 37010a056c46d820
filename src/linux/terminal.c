/* process.terminal: a pty from the container's own devpts, the master
 * handed out (console socket or the caller), the peer bound on
 * /dev/console and made stdio and controlling terminal. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

#define PTMX_FLAGS (O_RDWR | O_NOCTTY | O_CLOEXEC)

/* <root>/dev/ptmx, never leaving the root; NULL root: we are already in it. */
static int open_ptmx(const struct husk_child *c, struct husk_err *err)
{
	int fd;

	if (!c->p) {
		fd = open("/dev/ptmx", PTMX_FLAGS);
	} else {
		_cleanup_close_ int own_root = -1;
		int root = c->rootfs.root_fd;
		if (root < 0)
			root = c->rootfs.rootfs_dir_fd; /* the runtime's: no lookup above it */
		if (root < 0) {
			own_root = open(c->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (own_root < 0)
				return husk_err_sys(err, "open rootfs %s", c->p->rootfs);
			root = own_root;
		}
		struct open_how how = {.flags = PTMX_FLAGS, .resolve = RESOLVE_IN_ROOT};
		fd = (int)syscall(SYS_openat2, root, "dev/ptmx", &how, sizeof(how));
	}
	if (fd < 0)
		return husk_err_sys(err, "open /dev/ptmx in the container");
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2) {
		close(fd);
		return husk_err_plain(err, EPERM,
				      "/dev/ptmx in the container is not the pty multiplexer");
	}
	return fd;
}

static int open_peer(int master, const struct husk_process *proc, struct husk_err *err)
{
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return husk_err_sys(err, "unlock pty");
	int slave = ioctl(master, TIOCGPTPEER, PTMX_FLAGS);
	if (slave < 0)
		return husk_err_sys(err, "open pty peer");
	if (proc->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)proc->console_height,
				     .ws_col = (unsigned short)proc->console_width};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0) {
			husk_err_sys(err, "set console size");
			close(slave);
			return -1;
		}
	}
	return slave;
}

/* As runc does, the console socket gets the master with the master's own
 * name ("/dev/ptmx") as payload. */
static int hand_out_master(struct husk_child *c, int master, struct husk_err *err)
{
	static const char name[] = "/dev/ptmx";

	if (c->console_fd >= 0) {
		if (husk_send_fd(c->console_fd, name, sizeof(name) - 1, master, err) < 0)
			return husk_err_prefix(err, "send pty master to the console socket");
		close(c->console_fd);
		c->console_fd = -1;
		return 0;
	}
	if (c->want_pty_master)
		return husk_msg_send(c->sock, HUSK_MSG_PTY_MASTER, 0, master, err);
	return 0;
}

static int make_stdio(int slave, uid_t uid, struct husk_err *err)
{
	/* The user must own its terminal to reopen it (/dev/tty). */
	if (uid != 0 && fchown(slave, uid, (gid_t)-1) < 0)
		return husk_err_sys(err, "chown pty to uid %u", (unsigned)uid);
	for (int fd = 0; fd < 3; fd++)
		if (slave != fd && dup2(slave, fd) < 0)
			return husk_err_sys(err, "dup pty onto fd %d", fd);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return husk_err_sys(err, "make the pty the controlling terminal");
	return 0;
}

int husk_terminal_setup(struct husk_child *c, struct husk_err *err)
{
	if (!c->proc->terminal)
		return 0;
	_cleanup_close_ int master = open_ptmx(c, err);
	if (master < 0)
		return -1;
	_cleanup_close_ int slave = open_peer(master, c->proc, err);
	if (slave < 0)
		return -1;
	if (hand_out_master(c, master, err) < 0)
		return -1;
	if (c->p && husk_rootfs_bind_console(c->p, &c->rootfs, slave, err) < 0)
		return -1;
	if (make_stdio(slave, c->proc->user.uid, err) < 0)
		return -1;
	if (slave < 3)
		slave = -1; /* it is stdio now */
	return 0;
}
