/* process.terminal on the vm backend: a host pty whose master goes where
 * the linux backend's would (the console socket, or back to the caller),
 * and whose slave the monitor relays to the process's own pty in the guest
 * (vm.h). The slave is raw: the guest's pty is the only line discipline,
 * so ^C, echo and the end of line happen there as on a host. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "linux/internal.h"
#include "vm/host/vm.h"

#define PTY_FLAGS (O_RDWR | O_NOCTTY | O_CLOEXEC)

static int open_slave(int master, const struct husk_process *proc, struct husk_err *err)
{
	struct termios raw;
	int slave;

	if (grantpt(master) < 0 || unlockpt(master) < 0)
		return husk_err_sys(err, "vm: unlock pty");
	slave = ioctl(master, TIOCGPTPEER, PTY_FLAGS);
	if (slave < 0)
		return husk_err_sys(err, "vm: open pty peer");
	if (tcgetattr(slave, &raw) == 0) {
		cfmakeraw(&raw);
		if (tcsetattr(slave, TCSANOW, &raw) < 0)
			goto fail;
	}
	if (proc->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)proc->console_height,
				     .ws_col = (unsigned short)proc->console_width};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			goto fail;
	}
	return slave;
fail:
	husk_err_sys(err, "vm: set up the pty");
	close(slave);
	return -1;
}

void husk_vm_pty_close(struct husk_vm_pty *pty)
{
	if (pty->master >= 0)
		close(pty->master);
	if (pty->slave >= 0)
		close(pty->slave);
	if (pty->console_fd >= 0)
		close(pty->console_fd);
	pty->master = pty->slave = pty->console_fd = -1;
}

int husk_vm_pty_open(const struct husk_process *proc, const char *console_socket,
		     struct husk_vm_pty *pty, struct husk_err *err)
{
	*pty = (struct husk_vm_pty){.master = -1, .slave = -1, .console_fd = -1};
	/* connected first: a wrong path fails before anything else is made */
	if (console_socket && (pty->console_fd = husk_console_connect(console_socket, err)) < 0)
		return -1;
	pty->master = posix_openpt(PTY_FLAGS);
	if (pty->master < 0) {
		husk_err_sys(err, "vm: open /dev/ptmx");
		husk_vm_pty_close(pty);
		return -1;
	}
	pty->slave = open_slave(pty->master, proc, err);
	if (pty->slave < 0) {
		husk_vm_pty_close(pty);
		return -1;
	}
	return 0;
}

/* As the linux backend (and runc) does: the master with "/dev/ptmx" as
 * payload to the console socket; else it is the caller's, when it asked. */
int husk_vm_pty_hand_out(struct husk_vm_pty *pty, bool want_master, int *out_master,
			 struct husk_err *err)
{
	static const char name[] = "/dev/ptmx";

	*out_master = -1;
	if (pty->console_fd >= 0) {
		if (husk_send_fd(pty->console_fd, name, sizeof(name) - 1, pty->master, err) < 0)
			return husk_err_prefix(err, "send pty master to the console socket");
		return 0;
	}
	if (want_master) {
		*out_master = pty->master;
		pty->master = -1;
	}
	return 0;
}

json_t *husk_vm_winsize_json(int tty_fd)
{
	struct winsize ws;

	if (ioctl(tty_fd, TIOCGWINSZ, &ws) < 0)
		return NULL;
	return json_pack("{s:i,s:i}", "rows", (int)ws.ws_row, "cols", (int)ws.ws_col);
}
