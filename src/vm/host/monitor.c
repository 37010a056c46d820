/* The monitor: the container's pid on the host while its VM runs. Set-up
 * (share, hypervisor, agent hello, CREATE) is reported to the waiting
 * `create`; then it holds the exec fifo, relays stdio, signals and exec
 * streams, and exits with the container init's status (vm.h). */
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "state/state.h"
#include "vm/host/monitor.h"
#include "vm/proto.h"

static void report(int fd, const struct husk_err *e)
{
	if (fd >= 0 && write(fd, e, sizeof(*e)) < 0)
		return;
}

/* Close every fd the create call had open (its state lock above all: the
 * monitor outlives it) but the ones we were given. */
static void close_inherited(const struct husk_vm_monitor_args *a)
{
	int keep[64], n = 0;

	keep[n++] = 2;
	keep[n++] = a->dir_fd;
	keep[n++] = a->report_fd;
	keep[n++] = a->go_fd;
	if (a->tty_fd >= 0)
		keep[n++] = a->tty_fd;
	for (size_t i = 0; i < a->n_join_fds && n < 64; i++)
		keep[n++] = a->join_fds[i];
	/* sort, then close the gaps */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0, prev = 2; i <= n; i++) {
		int next = i < n ? keep[i] : -1;
		if (i < n && next <= prev)
			continue;
		syscall(SYS_close_range, (unsigned)prev + 1, i < n ? (unsigned)next - 1 : ~0u, 0);
		if (i < n)
			prev = next;
	}
}

static int listen_unix(const char *name, int type, struct husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	unlink(name);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(name, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		husk_err_sys(err, "listen on %s", name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Rewritten as the boot goes on: the pids first, the step times once known. */
static void write_runtime_file(const struct monitor *m)
{
	char buf[512];
	int n =
	    snprintf(buf, sizeof(buf),
		     "{\"monitor_pid\":%d,\"vmm_pid\":%d,\"virtiofsd_pid\":%d,\"accel\":\"%s\","
		     "\"monotonic_ns\":{\"monitor\":%llu,\"vmm_exec\":%llu,\"agent_ready\":%llu,"
		     "\"created\":%llu},\"guest_boot_ns\":%llu}\n",
		     (int)getpid(), (int)m->vmm_pid, (int)m->fs_pid,
		     m->a->plan->kvm ? "kvm" : "tcg", (unsigned long long)m->t.monitor,
		     (unsigned long long)m->t.vmm_exec, (unsigned long long)m->t.agent_ready,
		     (unsigned long long)m->t.created, (unsigned long long)m->t.guest_boot_ns);
	int fd = open(HUSK_VM_RUNTIME_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (write(fd, buf, (size_t)n) < 0)
			(void)0;
		close(fd);
	}
}

/* The last lines of the guest's console, for errors about a boot. */
void husk_vm_console_tail(char *out, size_t size)
{
	int fd = open(HUSK_VM_CONSOLE_LOG, O_RDONLY | O_CLOEXEC);
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	size_t want = size - 1;
	ssize_t n = 0;

	out[0] = '\0';
	if (fd < 0)
		return;
	if (end > (off_t)want)
		lseek(fd, end - (off_t)want, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, out, want);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	for (char *p = out; *p; p++)
		if (*p == '\r')
			*p = ' ';
}

/* The agent's own husk names the step as "create <id>: ..." too. */
static int guest_error(struct monitor *m, struct husk_vm_msg *msg, struct husk_err *err)
{
	const char *text = json_string_value(json_object_get(msg->json, "message"));
	size_t id_len = strlen(m->a->id);
	int code = (int)json_integer_value(json_object_get(msg->json, "errno"));

	if (strncmp(text, "create ", 7) == 0 && strncmp(text + 7, m->a->id, id_len) == 0 &&
	    strncmp(text + 7 + id_len, ": ", 2) == 0)
		text += 7 + id_len + 2;
	husk_err_plain(err, code, "in the VM: %s", text);
	husk_vm_msg_clear(msg);
	return -1;
}

/* Wait for one message of the guest on stream 0 during set-up. */
static int await(struct monitor *m, uint16_t want, const char *what, struct husk_vm_msg *out,
		 struct husk_err *err)
{
	long deadline = husk_monotonic_ms() + HUSK_VM_BOOT_TIMEOUT_S * 1000L;
	char tail[700];

	for (;;) {
		struct pollfd p[2] = {{.fd = m->agent, .events = POLLIN},
				      {.fd = m->vmm_pidfd, .events = POLLIN}};
		long left = deadline - husk_monotonic_ms();
		int r;

		if (left <= 0) {
			husk_vm_console_tail(tail, sizeof(tail));
			return husk_err_plain(err, ETIMEDOUT,
					      "vm: no %s from the guest within %d s; console: %s",
					      what, HUSK_VM_BOOT_TIMEOUT_S, tail);
		}
		r = poll(p, 2, (int)left);
		if (r < 0 && errno != EINTR)
			return husk_err_sys(err, "vm: wait for %s", what);
		if (r <= 0)
			continue;
		if (p[0].revents) {
			r = husk_vm_reader_step(&m->rd, m->agent, out, err);
			if (r < 0)
				return -1;
			if (r == 1 && out->type == HUSK_VM_ERROR)
				return guest_error(m, out, err);
			if (r == 1 && out->type == want)
				return 0;
			if (r == 1) {
				husk_vm_msg_clear(out);
				continue;
			}
			if (r == 0)
				continue;
		}
		husk_vm_console_tail(tail, sizeof(tail));
		return husk_err_plain(err, ECHILD, "vm: the %s ended before %s; console: %s",
				      p[0].revents ? "agent channel" : "hypervisor", what, tail);
	}
}

/* Send on the agent channel, which the event loop reads non-blocking. */
int husk_vm_monitor_send(struct monitor *m, uint16_t type, uint32_t stream, const json_t *json,
			 const void *data, size_t len, struct husk_err *err)
{
	int fl = fcntl(m->agent, F_GETFL), r;

	fcntl(m->agent, F_SETFL, fl & ~O_NONBLOCK);
	r = husk_vm_send(m->agent, type, stream, json, data, len, err);
	fcntl(m->agent, F_SETFL, fl);
	return r;
}

static int boot(struct monitor *m, struct husk_err *err)
{
	const struct husk_vm_monitor_args *a = m->a;
	int sv[2], vfs;
	json_t *guest, *create;
	struct husk_vm_msg msg = {0};
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return husk_err_sys(err, "vm: agent socketpair");
	m->agent = sv[0];
	fcntl(m->agent, F_SETFL, O_NONBLOCK);
	husk_vm_reader_init(&m->rd, true);
	m->ctl = listen_unix(HUSK_VM_CONTROL_SOCK, SOCK_SEQPACKET, err);
	vfs = m->ctl < 0 ? -1 : listen_unix(HUSK_VM_VFS_SOCK, SOCK_STREAM, err);
	if (vfs < 0)
		return -1;
	m->fs_pid = husk_vm_share_start(a->rootfs, a->bundle, a->config, vfs, err);
	close(vfs);
	if (m->fs_pid < 0)
		return -1;
	if (husk_vm_net_setup(a->config, &m->net, err) < 0) {
		close(sv[1]);
		return -1;
	}
	husk_vm_net_record(a->config, &m->net);
	m->t.vmm_exec = husk_monotonic_ns();
	m->vmm_pid = husk_vm_vmm_start(&husk_vmm_qemu, a->plan, sv[1], &m->net, err);
	close(sv[1]);
	/* QEMU holds the taps now: they go when it ends */
	for (size_t i = 0; i < m->net.n; i++) {
		close(m->net.nic[i].tap_fd);
		m->net.nic[i].tap_fd = -1;
	}
	if (m->vmm_pid < 0)
		return -1;
	m->vmm_pidfd = (int)syscall(SYS_pidfd_open, m->vmm_pid, 0);
	write_runtime_file(m);
	if (await(m, HUSK_VM_HELLO, "agent hello", &msg, err) < 0)
		return -1;
	m->t.agent_ready = husk_monotonic_ns();
	m->t.guest_boot_ns = (uint64_t)json_integer_value(json_object_get(msg.json, "boot_ns"));
	husk_vm_msg_clear(&msg);
	guest = husk_vm_guest_config(a->config, a->id, m->net.guest, err);
	if (!guest)
		return -1;
	create = json_pack("{s:s,s:o,s:b}", "id", a->id, "config", guest, "terminal", m->terminal);
	r = create ? husk_vm_monitor_send(m, HUSK_VM_CREATE, 0, create, NULL, 0, err)
		   : husk_err_set(err, ENOMEM, "vm: CREATE");
	json_decref(create);
	if (r < 0 || await(m, HUSK_VM_CREATED, "container created", &msg, err) < 0)
		return -1;
	husk_vm_msg_clear(&msg);
	m->t.created = husk_monotonic_ns();
	write_runtime_file(m);
	/* the size may have changed while the guest booted */
	return m->terminal ? husk_vm_monitor_winsize(m, 0, 0, err) : 0;
}

/* process.terminal: the pty slave becomes our stdio, as it would be the
 * init's on a linux host, and our controlling terminal, so that a resize of
 * its master reaches us as SIGWINCH (setsid came first; SIGWINCH is
 * blocked for the signalfd already, so none is lost). */
static int take_terminal(struct monitor *m, struct husk_err *err)
{
	int fd = m->a->tty_fd;

	if (fd < 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return husk_err_sys(err, "vm: pty slave onto fd %d", i);
	if (fd > 2)
		close(fd);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return husk_err_sys(err, "vm: make the pty our controlling terminal");
	m->terminal = true;
	return 0;
}

/* The guest's pty gets the size of ours (WINSIZE), now and at each resize. */
int husk_vm_monitor_winsize(struct monitor *m, uint32_t stream, int tty_fd, struct husk_err *err)
{
	json_t *ws = husk_vm_winsize_json(tty_fd);
	int r;

	if (!ws)
		return husk_err_sys(err, "vm: size of the pty");
	r = husk_vm_monitor_send(m, HUSK_VM_WINSIZE, stream, ws, NULL, 0, err);
	json_decref(ws);
	return r;
}

static int setup_signals(struct monitor *m, struct husk_err *err)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; husk_vm_forwarded_signals[i]; i++)
		sigaddset(&set, husk_vm_forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return husk_err_sys(err, "vm: block signals");
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	return m->sigfd < 0 ? husk_err_sys(err, "vm: signalfd") : 0;
}

__attribute__((noreturn)) void husk_vm_monitor_main(const struct husk_vm_monitor_args *a)
{
	struct monitor m = {.a = a,
			    .agent = -1,
			    .ctl = -1,
			    .vmm_pidfd = -1,
			    .sigfd = -1,
			    .fifo_sock = -1,
			    .fifo_fd = -1,
			    .vmm_pid = -1,
			    .fs_pid = -1,
			    .net = {.ns_fd = -1}};
	struct husk_err err = {0};
	char byte;

	m.t.monitor = husk_monotonic_ns();
	prctl(PR_SET_NAME, "husk-vm-monitor");
	/* virtiofsd's own sandbox child comes back to us if virtiofsd dies */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	close_inherited(a);
	/* v1 hierarchies: we move ourselves (as the linux backend's child does);
	 * then the create call puts us in the rest and says go. */
	for (size_t i = 0; i < a->n_join_fds; i++) {
		if (write(a->join_fds[i], "0", 1) != 1)
			_exit(1);
		close(a->join_fds[i]);
	}
	if (read(a->go_fd, &byte, 1) != 1)
		_exit(1);
	close(a->go_fd);
	if (setsid() < 0 || fchdir(a->dir_fd) < 0) {
		husk_err_sys(&err, "vm: monitor set-up");
	} else if (setup_signals(&m, &err) == 0 && take_terminal(&m, &err) == 0 &&
		   boot(&m, &err) == 0) {
		err.code = -1; /* ready */
		report(a->report_fd, &err);
		close(a->report_fd);
		husk_vm_monitor_loop(&m);
	}
	/* Everything we started is gone before create hears of the failure
	 * (it then reaps us): nothing is left to outlive it. */
	husk_vm_monitor_stop(&m);
	report(a->report_fd, &err);
	_exit(255);
}
