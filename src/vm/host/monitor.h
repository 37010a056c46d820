/* The monitor's parts (monitor.c: set-up; loop.c: the event loop). */
#pragma once
#include <signal.h>

#include "vm/host/vm.h"
#include "vm/proto.h"

#define HUSK_VM_MAX_EXEC 64

/* One exec'd process: its relay's connection and the stdio it passed
 * (with a terminal: three copies of the pty slave). */
struct exec_stream {
	uint32_t stream; /* 0: the slot is free */
	int conn, in, out, errfd;
	bool terminal; /* errfd is then the slave we size the guest's pty by */
	bool started;  /* EXEC_STARTED came: the guest has the stream */
};

struct monitor {
	const struct husk_vm_monitor_args *a;
	int agent; /* our end of the agent channel, non-blocking */
	struct husk_vm_reader rd;
	pid_t vmm_pid, fs_pid;
	int vmm_pidfd, ctl, sigfd;
	int fifo_sock; /* the fifo holder child sends the fifo's write end here */
	pid_t fifo_pid;
	int fifo_fd;	 /* held until STARTED, as a linux init holds it to execve */
	bool stdin_open; /* fd 0 still relayed */
	bool terminal;	 /* process.terminal: fds 0, 1 and 2 are the pty slave */
	struct exec_stream ex[HUSK_VM_MAX_EXEC];
	uint32_t next_stream;
	/* CLOCK_MONOTONIC (ns, system-wide) at each step of the boot, and the
	 * guest's own CLOCK_BOOTTIME at HELLO: vm.json keeps them for
	 * benchmarks and --debug (docs/vm.md). */
	struct {
		uint64_t monitor, vmm_exec, agent_ready, created, guest_boot_ns;
	} t;
	struct husk_vm_net net;
};

/* The signals the monitor passes on to the container's init (0-ended). */
extern const int husk_vm_forwarded_signals[];

int husk_vm_monitor_send(struct monitor *m, uint16_t type, uint32_t stream, const json_t *json,
			 const void *data, size_t len, struct husk_err *err);
/* Send the size of tty_fd as WINSIZE on stream. */
int husk_vm_monitor_winsize(struct monitor *m, uint32_t stream, int tty_fd, struct husk_err *err);
__attribute__((noreturn)) void husk_vm_monitor_loop(struct monitor *m);
/* Kill and reap everything the monitor started. */
void husk_vm_monitor_stop(struct monitor *m);
/* Stop the VM and exit with `status`. */
__attribute__((noreturn)) void husk_vm_monitor_finish(struct monitor *m, int status);
void husk_vm_console_tail(char *out, size_t size);
