/* husk-agent: PID 1 of a husk VM. It mounts the guest's filesystems, opens
 * the virtio-serial channel to the host, says HELLO, then runs the bundle
 * the host sends with libhusk's linux backend and relays the processes'
 * stdio, signals and exit statuses over the agent protocol (vm/proto.h,
 * docs/vm-agent.md). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/proto.h"

/* Exit status of the test mode when the agent stops for a reason of its own
 * (the host broke the protocol, the channel failed): not a container's. */
#define AGENT_EXIT_FAILURE 125

/* Bytes of STDIN queued for one process before the agent stops reading the
 * channel until that process drains them (back-pressure, bounded memory). */
#define AGENT_STDIN_MAX (1u << 20)
/* How long after a process exits its output may still arrive (a pty's
 * buffer, a pipe a child of it holds) before EXIT is sent regardless. */
#define AGENT_DRAIN_MS 500
/* At most this many processes (the init and exec'd ones) at a time. */
#define AGENT_MAX_PROCS 256

struct agent_proc {
	uint32_t stream;
	pid_t pid;	 /* 0 until known */
	int in_fd;	 /* stdin pipe or the pty master (shared with out_fd), -1 when closed */
	int out_fd;	 /* stdout pipe or the pty master, -1 at end of output */
	int err_fd;	 /* stderr pipe, -1 at end (or with a pty) */
	bool pty;	 /* in_fd == out_fd is a pty master */
	uint8_t *in_buf; /* STDIN not yet written */
	size_t in_len;
	bool in_eof; /* close stdin once in_buf is written */
	bool exited;
	int status;		/* as a shell reports it */
	int64_t drain_deadline; /* CLOCK_MONOTONIC ms, once exited */
};

struct agent {
	bool init; /* PID 1 of the guest (not the test mode) */
	int chan;  /* the channel to the host */
	bool chan_nonblock;
	struct husk_vm_reader reader;
	int sigfd; /* SIGCHLD */
	const char *state_root, *bundle_dir, *work_dir;
	char *tmp_dir; /* the test mode's own work directory, removed at the end */
	char *id;      /* the container, once CREATE succeeded */
	struct agent_proc *procs[AGENT_MAX_PROCS];
	size_t n_procs;
	bool done;	 /* stream 0 ended and its EXIT is sent */
	int exit_status; /* stream 0's */
	bool failed;	 /* stopped for a reason of the agent's own */
};

/* Log a line: /dev/kmsg as PID 1, stderr in the test mode. */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void agent_log_init(bool init);

/* boot.c: the guest's filesystems and loopback, then the channel. */
/* As PID 1: the root moved to a tmpfs, /proc mounted (once). */
int agent_mount_proc(struct husk_err *err);
int agent_boot(struct husk_err *err);
int agent_open_channel(struct husk_err *err);
int agent_wait_host(int fd, struct husk_err *err);
void agent_ensure_std_fds(void);

/* channel.c: sending, with the channel put back to blocking for it. */
int agent_send(struct agent *a, uint16_t type, uint32_t stream, json_t *json);
int agent_send_bytes(struct agent *a, uint16_t type, uint32_t stream, const void *data, size_t len);
int agent_send_error(struct agent *a, uint32_t stream, const struct husk_err *err);
int agent_recv(struct agent *a, struct husk_vm_msg *m, struct husk_err *err);

/* procs.c: the process table and each process's stdio. */
struct agent_proc *agent_proc_find(struct agent *a, uint32_t stream);
struct agent_proc *agent_proc_by_pid(struct agent *a, pid_t pid);
struct agent_proc *agent_proc_new(struct agent *a, uint32_t stream, struct husk_err *err);
void agent_proc_free(struct agent *a, struct agent_proc *p);
int agent_proc_stdin(struct agent_proc *p, const uint8_t *data, size_t len, struct husk_err *err);
int agent_proc_flush_stdin(struct agent_proc *p);
int agent_proc_relay(struct agent *a, struct agent_proc *p, bool is_err);
int agent_proc_drain(struct agent *a, struct agent_proc *p);
bool agent_proc_finished(const struct agent_proc *p);

/* stdio.c: the stdio a new process gets (pipes, or a pty via a console socket). */
struct agent_stdio {
	bool terminal;
	int child[3];  /* pipe ends for the process: stdin, stdout, stderr */
	int saved[3];  /* the agent's own 0, 1, 2 while they are swapped */
	int listen_fd; /* the console socket (terminal) */
	char sock_path[108];
};
int agent_stdio_prepare(struct agent *a, struct agent_stdio *s, struct agent_proc *p, bool terminal,
			struct husk_err *err);
int agent_stdio_swap_in(struct agent_stdio *s, struct husk_err *err);
void agent_stdio_swap_out(struct agent_stdio *s);
int agent_stdio_finish(struct agent_stdio *s, struct agent_proc *p, struct husk_err *err);
void agent_stdio_release(struct agent_stdio *s);

/* net.c: the guest's cards as the config's org.husk.vm.network annotation
 * says (checked strictly; in the test mode only checked). */
int agent_net_setup(const struct agent *a, const json_t *config, struct husk_err *err);

/* requests.c: what each host message does. */
int agent_handle(struct agent *a, struct husk_vm_msg *m);
int agent_read_pid_file(const char *path, pid_t *pid, struct husk_err *err);

/* loop.c: the event loop until stream 0 ends or the host goes away. */
int agent_loop(struct agent *a);
void agent_reap(struct agent *a);
/* Kill and delete the container (at the end, or after a failure). */
void agent_teardown(struct agent *a);
