/* The vm backend's host side: a container runs in its own lightweight VM.
 *
 * `create` forks a monitor (monitor.c), the container's pid in state. The
 * monitor starts virtiofsd (share.c) and the hypervisor (vmm.h, qemu.c) as
 * its own children, speaks the agent protocol (src/vm/proto.h) with the
 * guest's husk-agent over a virtio-serial port, relays the init's stdio,
 * holds the exec fifo as a linux init would, and exits with the init's
 * status. Later commands reach it over a unix socket in the state directory
 * (control.c): signals, and exec'd processes (relay.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "linux/linux.h"
#include "spec/spec.h"
#include "util/argv.h"
#include "util/err.h"

/* Files in the container's state directory. */
#define HUSK_VM_CONTROL_SOCK "vm.sock"	   /* the monitor's control socket */
#define HUSK_VM_VFS_SOCK     "vfs.sock"	   /* virtiofsd's vhost-user socket */
#define HUSK_VM_SHARE_DIR    "share"	   /* what virtio-fs exports */
#define HUSK_VM_CONSOLE_LOG  "console.log" /* the guest's serial console */
#define HUSK_VM_VMM_LOG	     "vmm.log"	   /* the hypervisor's own stderr */
#define HUSK_VM_RUNTIME_FILE "vm.json"	   /* runtime facts: pids, accel */
#define HUSK_VM_EXIT_FILE    "vm.exit"	   /* why the VM ended, when not by the init */
#define HUSK_VM_ARGV_FILE    "vmm.argv"	   /* the hypervisor's argv, NUL-separated */
#define HUSK_VM_NET_FILE     "vm.net"	   /* the network namespace and veths joined */
/* Where the guest mounts the share (the agent knows it too). */
#define HUSK_VM_GUEST_SHARE "/run/husk/share"
/* The guest's initial network namespace (the agent is PID 1): the container's. */
#define HUSK_VM_GUEST_NETNS "/proc/1/ns/net"

/* State annotations the vm backend records at create. */
#define HUSK_VM_ANN_ACCEL  "org.husk.vm.accel"
#define HUSK_VM_ANN_KERNEL "org.husk.vm.kernel"
/* Config annotations it reads. */
#define HUSK_VM_ANN_MEMORY "org.husk.vm.memory_mib"
#define HUSK_VM_ANN_CPUS   "org.husk.vm.cpus"
/* The guest config's network settings for the agent (net.c; docs/vm.md):
 * set by the monitor, never taken from the bundle. */
#define HUSK_VM_ANN_NETWORK "org.husk.vm.network"

#define HUSK_VM_BOOT_TIMEOUT_S 60

/* Everything needed to start one VM, decided before anything starts. */
struct husk_vm_plan {
	char *hypervisor; /* absolute path */
	bool kvm;	  /* else TCG */
	char *kernel, *initrd;
	char *kernel_params; /* the whole command line */
	char **hv_params;    /* vm.hypervisor.parameters, appended; NULL-ended */
	unsigned int memory_mib, cpus;
};

/* Decide the plan from the config (the raw JSON, for its `vm` section) and
 * its annotations. Every refusal names the field or the missing file. */
int husk_vm_plan_make(const json_t *config, const struct husk_kvv *annotations,
		      struct husk_vm_plan *plan, struct husk_err *err);
void husk_vm_plan_free(struct husk_vm_plan *plan);
/* Whether KVM can be used here (/dev/kvm opens and answers). */
bool husk_vm_kvm_usable(void);

/* net.c: the container's network namespace joined to the VM. */
#define HUSK_VM_MAX_NICS 8
struct husk_vm_nic {
	int tap_fd;	/* the tap beside the veth, for the hypervisor; -1 once passed */
	char mac[18];	/* the veth's, which the guest card takes */
	int veth_index; /* in the namespace */
};
struct husk_vm_net {
	int ns_fd; /* the namespace (-1: none, or one without a path) */
	struct husk_vm_nic nic[HUSK_VM_MAX_NICS];
	size_t n;
	json_t *guest; /* {"interfaces": [...]} for the agent, NULL without cards */
};
/* With a network namespace path in the config: a tap for each interface
 * there that is up with an address, joined to it by tc mirred both ways,
 * and what the guest must set. Otherwise nothing (the guest gets only lo). */
int husk_vm_net_setup(const json_t *config, struct husk_vm_net *net, struct husk_err *err);
/* Close the taps, remove the tc set-up from the namespace's links. */
void husk_vm_net_release(struct husk_vm_net *net);
/* Keep what was joined in the state directory (the monitor's cwd), and undo
 * it from there at delete when the monitor could not (it was SIGKILLed). */
void husk_vm_net_record(const json_t *config, const struct husk_vm_net *net);
void husk_vm_net_undo_recorded(int dir_fd);

/* A hypervisor driver: the argv that runs a plan. Fds and paths it refers to
 * are relative to the monitor's working directory, the state directory. */
struct husk_vmm {
	const char *name;
	/* argv (NULL-ended, caller frees with husk_argv_free): agent_fd is
	 * the hypervisor's end of the agent channel. */
	char **(*build_argv)(const struct husk_vm_plan *plan, int agent_fd,
			     const struct husk_vm_net *net, struct husk_err *err);
};
extern const struct husk_vmm husk_vmm_qemu;

/* The config.json the guest gets (see docs/vm.md): root and bind sources
 * point into the share, hooks, namespace paths, the network namespace and
 * the vm section are gone. A new reference. */
json_t *husk_vm_guest_config(const json_t *config, const char *id, const json_t *net,
			     struct husk_err *err);
/* Whether mounts[i] of the config is a bind mount (its source is shared). */
bool husk_vm_mount_is_bind(const json_t *mount);

/* tty.c: process.terminal. A host pty for the process's terminal: the
 * master for the console socket or the caller, the slave (raw) relayed by
 * the monitor to the process's pty in the guest. */
struct husk_vm_pty {
	int master, slave;
	int console_fd; /* connected --console-socket, or -1 */
};
/* Connect the console socket (when one is named), open the pair, set the
 * slave raw and to proc's consoleSize. */
int husk_vm_pty_open(const struct husk_process *proc, const char *console_socket,
		     struct husk_vm_pty *pty, struct husk_err *err);
void husk_vm_pty_close(struct husk_vm_pty *pty);
/* Send the master to the console socket; without one, and want_master,
 * move it to *out_master (else -1). */
int husk_vm_pty_hand_out(struct husk_vm_pty *pty, bool want_master, int *out_master,
			 struct husk_err *err);
/* {"rows","cols"} of a terminal (a WINSIZE payload), or NULL. */
json_t *husk_vm_winsize_json(int tty_fd);

/* The monitor's whole life (monitor.c); never returns. */
struct husk_vm_monitor_args {
	const char *id;
	int dir_fd;    /* state directory */
	int report_fd; /* create waits on it: one struct husk_err, code -1 = ready */
	int go_fd;     /* a byte once the monitor is in the container's cgroups */
	const char *rootfs, *bundle;
	const json_t *config; /* the bundle's config */
	const struct husk_vm_plan *plan;
	const int *join_fds;
	size_t n_join_fds;
	int tty_fd; /* process.terminal: the pty slave to relay, else -1 */
};
__attribute__((noreturn)) void husk_vm_monitor_main(const struct husk_vm_monitor_args *a);

/* share.c: fork virtiofsd exporting <state>/share, whose rootfs and mounts/N
 * are bind mounts made in virtiofsd's own mount namespace. listen_fd: a
 * listening socket it serves. Returns its pid. */
pid_t husk_vm_share_start(const char *rootfs, const char *bundle, const json_t *config,
			  int listen_fd, struct husk_err *err);

/* The process JSON of `exec` (OCI process object). */
json_t *husk_vm_process_json(const struct husk_process *p);

/* Control socket messages (SOCK_SEQPACKET, one JSON object each, fds by
 * SCM_RIGHTS). Requests: {"op":"signal","signal":N,"all":B},
 * {"op":"exec","process":{...},"terminal":B} with stdin, stdout, stderr
 * attached (with a terminal: the pty slave three times); then, on an exec's
 * connection, {"signal":N} and {"op":"winsize"} (the slave was resized).
 * Replies: {"ok":true}, {"started":PID}, {"exit":STATUS},
 * {"errno":N,"error":"..."}. */
int husk_vm_ctl_send(int sock, const json_t *msg, const int *fds, size_t n_fds,
		     struct husk_err *err);
/* 0 and *msg, or 1 at end of file; fds received (up to max) in fds/n_fds. */
int husk_vm_ctl_recv(int sock, json_t **msg, int *fds, size_t max, size_t *n_fds,
		     struct husk_err *err);
/* Connect to <state dir>/vm.sock. */
int husk_vm_ctl_connect(int dir_fd, struct husk_err *err);

/* relay.c: backend->exec. */
int husk_vm_exec(const struct husk_exec_params *p, struct husk_spawn_result *out,
		 struct husk_err *err);

/* A whole-number annotation in [min, max], or def when absent. */
int husk_vm_annotation_uint(const struct husk_kvv *ann, const char *key, unsigned int def,
			    unsigned int min, unsigned int max, unsigned int *out,
			    struct husk_err *err);

/* vmm_start.c: fork the hypervisor (cwd: the state directory). */
pid_t husk_vm_vmm_start(const struct husk_vmm *vmm, const struct husk_vm_plan *plan, int agent_fd,
			const struct husk_vm_net *net, struct husk_err *err);
/* In a forked child: stdin /dev/null, stdout and stderr appended to log. */
int husk_vm_child_stdio(const char *log);
