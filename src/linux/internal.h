/* Internal interface of the linux backend's process side: the steps that
 * process.c (parent), child.c (container init) and exec.c (husk exec) put
 * together. Each group lives in the file named in its comment. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "linux/linux.h"
#include "linux/rootfs.h"
#include "spec/spec.h"
#include "util/err.h"

/* ---- handshake.c: messages over the SOCK_SEQPACKET socketpair ---------- */

enum husk_msg_type {
	HUSK_MSG_GO = 1,     /* parent -> child: setup may begin; value = host pid */
	HUSK_MSG_RUN_HOOKS,  /* child -> parent: run prestart + createRuntime now */
	HUSK_MSG_HOOKS_DONE, /* parent -> child: they succeeded */
	HUSK_MSG_PTY_MASTER, /* child -> parent: pty master (SCM_RIGHTS) */
	HUSK_MSG_SECCOMP_FD, /* child -> parent: seccomp listener (SCM_RIGHTS) */
	HUSK_MSG_CHILD_PID,  /* an intermediate -> parent: value = pid, code = into cgroup */
	HUSK_MSG_READY,	     /* child -> parent: blocked before the exec fifo */
	HUSK_MSG_ERROR,	     /* child -> parent: code = errno, text = message */
	HUSK_MSG_JOINED,     /* parent -> child: it is in the container's cgroups now */
};

/* The phases of the conversation, and (handshake.c, a table) the messages
 * each accepts; ERROR is accepted in every phase and ends it. */
enum husk_phase {
	HUSK_PHASE_GO,	      /* child, first: the parent wrote its maps, oom score */
	HUSK_PHASE_JOINED,    /* child: the parent moved it into its cgroups */
	HUSK_PHASE_HOOKS,     /* child: the parent ran prestart + createRuntime */
	HUSK_PHASE_CHILD_PID, /* parent: an intermediate reports the final pid */
	HUSK_PHASE_SERVE,     /* parent: the child's requests until READY */
	HUSK_PHASE_COUNT,
};
/* Whether `type` is allowed in `phase`; the phase's name for errors. */
bool husk_phase_accepts(enum husk_phase phase, uint32_t type);
const char *husk_phase_name(enum husk_phase phase);
const char *husk_msg_name(uint32_t type);

struct husk_msg {
	uint32_t type;
	int32_t code;
	int64_t value;
	char text[HUSK_ERR_MSG_MAX];
};

/* Send one message, with `fd` attached as SCM_RIGHTS when fd >= 0. */
int husk_msg_send(int sock, enum husk_msg_type type, int64_t value, int fd, struct husk_err *err);
/* Child side, no descriptor: by write(2), which a loaded seccomp filter
 * allows far more often than sendmsg. */
int husk_msg_write(int sock, enum husk_msg_type type, int64_t value, struct husk_err *err);
/* Child side: an error message with err's errno and text; best effort. */
void husk_msg_send_error(int sock, const struct husk_err *e);
/* Receive one message; *fd gets an attached descriptor (O_CLOEXEC) or -1.
 * Returns 1 for a message, 0 at end of stream, -1 on error. */
int husk_msg_recv(int sock, struct husk_msg *m, int *fd, struct husk_err *err);
/* Wait for the message that ends `phase` (one it accepts); an ERROR
 * message, EOF or a message the phase does not accept become err. */
int husk_msg_expect(int sock, enum husk_phase phase, struct husk_msg *m, struct husk_err *err);
/* When the peer has already sent HUSK_MSG_ERROR (it failed and is gone or
 * going), put its error in err and return true; never waits. */
bool husk_msg_take_error(int sock, struct husk_err *err);
/* Raw SCM_RIGHTS send of `fd` with `data` as payload (console socket). */
int husk_send_fd(int sock, const void *data, size_t len, int fd, struct husk_err *err);

/* ---- nsjoin.c: namespaces ---------------------------------------------- */

/* The namespaces to join by path, opened up front; -1 where none. */
struct husk_ns_fds {
	int fd[HUSK_NS_COUNT];
};

void husk_ns_fds_init(struct husk_ns_fds *f);
void husk_ns_fds_close(struct husk_ns_fds *f);
/* Before the clone: the namespace paths to join (and nothing else). */
int husk_ns_open_paths(const struct husk_spec *spec, struct husk_ns_fds *f, struct husk_err *err);
/* CLONE_NEW* flags clone3 creates (new namespaces except cgroup and time,
 * which the child unshares once it sits in its cgroups / has its offsets). */
uint64_t husk_ns_clone_flags(const struct husk_spec *spec);
/* A user namespace to join rather than create: clone3 then runs in an
 * intermediate process that joined it (and the other paths) first. */
bool husk_ns_user_by_path(const struct husk_spec *spec);
/* Every namespace the container has (new or joined): what exec enters. */
uint64_t husk_ns_all_flags(const struct husk_spec *spec);
/* For the trace: the config's namespaces, "pid,mount,network(join)". */
const char *husk_ns_describe(const struct husk_spec *spec, char *buf, size_t cap);

/* ---- netdev.c: linux.netDevices ----------------------------------------- */

/* The interfaces to move, as the runtime found them on the host, with an
 * rtnetlink socket of the host's network namespace: part of the hand-off. */
struct husk_moving_dev;
struct husk_netdevs {
	int sock; /* NETLINK_ROUTE, bound in the host's network namespace, or -1 */
	struct husk_moving_dev *devs;
	size_t n;
};
void husk_netdevs_init(struct husk_netdevs *n);
/* Runtime side, before the clone: find the host interfaces and save their
 * addresses into *out (the child gets it in struct husk_child). */
int husk_netdev_prepare(const struct husk_spec *spec, struct husk_netdevs *out,
			struct husk_err *err);
/* Child side, once in its network namespace: move them in, addresses back. */
int husk_netdev_move(const struct husk_spec *spec, struct husk_netdevs *n, struct husk_err *err);
void husk_netdev_release(struct husk_netdevs *n);
/* Child side, in a network namespace it created: set lo up. */
int husk_netdev_loopback_up(struct husk_err *err);
/* Whether the parent must join ns `t` around clone3 rather than the child:
 * a pid namespace only applies to children, and with a new user namespace
 * every other path must be joined while the process still has host caps. */
bool husk_ns_joined_by_parent(const struct husk_spec *spec, enum husk_ns_type t);

struct husk_ns_saved {
	int fd[HUSK_NS_COUNT]; /* the parent's own namespaces to return to */
	int cwd_fd;
};
int husk_ns_parent_enter(const struct husk_spec *spec, struct husk_ns_fds *f,
			 struct husk_ns_saved *saved, struct husk_err *err);
int husk_ns_parent_leave(struct husk_ns_saved *saved, struct husk_err *err);
/* In the child, first: its /proc/self/timens_offsets into *fd (closing an
 * intermediate's), while it still holds the host's ids: once root of a new
 * user namespace it is no longer dumpable, its proc files belong to the
 * host's root and it could not open that file for writing. */
int husk_ns_open_time_offsets(const struct husk_spec *spec, int *fd, struct husk_err *err);
/* In the child: user namespace first, then the rest joined by path; closes
 * the namespace fds. */
int husk_ns_child_join(const struct husk_spec *spec, struct husk_ns_fds *f, struct husk_err *err);
/* In the child: new cgroup and time namespaces, the time offsets written
 * through *offsets_fd (taken) or, without one, /proc/self. */
int husk_ns_child_unshare(const struct husk_spec *spec, int proc_fd, int *offsets_fd,
			  struct husk_err *err);

/* ---- userns.c: id mappings (parent side) -------------------------------- */

bool husk_userns_is_new(const struct husk_spec *spec);
/* true when the parent writes "deny" to setgroups (rootless, one mapping). */
bool husk_userns_setgroups_denied(const struct husk_spec *spec);
int husk_userns_write_maps(const struct husk_spec *spec, pid_t pid, struct husk_err *err);
/* In the child once the maps exist: become root of the new namespace. */
int husk_userns_become_root_uid(const struct husk_spec *spec, struct husk_err *err);
int husk_userns_become_root_gid(const struct husk_spec *spec, struct husk_err *err);

/* ---- terminal.c --------------------------------------------------------- */

struct husk_child;
int husk_terminal_setup(struct husk_child *c, struct husk_err *err);

/* ---- caps.c ------------------------------------------------------------- */

int husk_caps_drop_bounding(const struct husk_caps *caps, struct husk_err *err);
int husk_caps_apply(const struct husk_caps *caps, struct husk_err *err);

/* ---- rlimits.c ---------------------------------------------------------- */

const char *husk_rlimit_name(int resource);
int husk_rlimits_apply(const struct husk_process *proc, struct husk_err *err);

/* ---- identity.c: user, groups, umask ------------------------------------ */

/* keep_caps: the capability sets get applied after the uid change. */
int husk_identity_apply(const struct husk_user *user, bool setgroups_allowed, bool keep_caps,
			struct husk_err *err);

/* The home directory of uid in the container's /etc/passwd (after pivot),
 * malloc'ed, or NULL. */
char *husk_passwd_home(uid_t uid);

/* ---- attrs.c: scheduling, personality, keyring, oom ---------------------- */

int husk_oom_score_adj_set(pid_t pid, int value, struct husk_err *err);
int husk_attrs_apply(const struct husk_spec *spec, const struct husk_process *proc,
		     struct husk_err *err);
/* Join a new session keyring "_ses.<id>" (NULL id: an anonymous one). */
int husk_keyring_join(const char *id, struct husk_err *err);
/* sched_setaffinity to a "0-3,7" list; `which` (initial, final) for the log. */
int husk_affinity_apply(const char *list, const char *which, struct husk_err *err);

/* ---- lsm.c: AppArmor and SELinux --------------------------------------- */

/* Refuse an apparmorProfile, selinuxLabel or mountLabel the host cannot
 * enforce (its LSM is off); `exec` words the error for husk exec's flags. */
int husk_lsm_check(const struct husk_process *proc, const char *mount_label, bool exec,
		   struct husk_err *err);
/* Set the profile and label the process gets at its execve. */
int husk_lsm_apply(const struct husk_process *proc, struct husk_err *err);

/* ---- fds.c --------------------------------------------------------------- */

/* Mark every fd from `first` on close-on-exec; close_range, else one by one
 * (proc_fd: the host's /proc when the container's may be missing, or -1). */
int husk_fds_cloexec_from(unsigned int first, int proc_fd, struct husk_err *err);

/* ---- seccomp.c ---------------------------------------------------------- */

/* Compile linux.seccomp to a BPF program (*out, opaque). */
int husk_seccomp_compile(const struct husk_seccomp *sc, void **out, struct husk_err *err);
/* Load it; *notify_fd gets the listener when a rule uses SCMP_ACT_NOTIFY. */
int husk_seccomp_load(void *filter, int *notify_fd, struct husk_err *err);
void husk_seccomp_release(void *filter);
/* Whether loading it gives a listener (SCMP_ACT_NOTIFY) to hand over. */
bool husk_seccomp_has_listener(const void *filter);
/* Check now what only the load would tell: that the kernel takes its flags. */
int husk_seccomp_check(const void *filter, struct husk_err *err);
/* seccomp_cache.c: the profile's canonical text (malloc'ed; NULL when
 * out of memory), and the cached program for it (malloc'ed) or NULL. */
struct sock_filter;
char *husk_seccomp_canon(const struct husk_seccomp *sc, size_t *len);
struct sock_filter *husk_seccomp_cache_get(const char *canon, size_t canon_len, size_t *count);
void husk_seccomp_cache_put(const char *canon, size_t canon_len, const struct sock_filter *insns,
			    size_t count);
/* Parent side: hand the listener of process `pid` to linux.seccomp.listenerPath.
 * init_pid is the running container's init for an exec, 0 while creating. */
int husk_seccomp_send_listener(const struct husk_spec *spec, const char *id, const char *bundle,
			       pid_t pid, pid_t init_pid, int notify_fd, struct husk_err *err);

/* ---- execfifo.c --------------------------------------------------------- */

/* Block until `start` opens the fifo; returns the write end (O_CLOEXEC). */
int husk_execfifo_open(int proc_fd, int fifo_fd, struct husk_err *err);
/* The go byte, once the startContainer hooks ran; fd stays open to execve. */
int husk_execfifo_release(int fd, struct husk_err *err);

/* ---- steps.c: the child's set-up as tables of named steps ---------------- */

struct husk_child;
struct husk_step {
	const char *name; /* in the --debug trace, and before any error: "NAME: ..." */
	int (*run)(struct husk_child *c, struct husk_err *err);
	/* NULL: always; else whether the step applies to this child */
	bool (*applies)(const struct husk_child *c);
	/* what it acts on, for the trace: a fixed text, or built when tracing */
	const char *what;
	const char *(*object)(const struct husk_child *c, char *buf, size_t cap);
};

struct husk_steps {
	const struct husk_step *v;
	size_t n;
};

/* Run the steps in order; the first failure returns -1 with the step's
 * name before its error (errno kept). */
int husk_steps_run(const struct husk_step *steps, size_t n, struct husk_child *c,
		   struct husk_err *err);

/* child.c: the two recipes. The order is security-relevant; see the
 * comments at each table and docs/design.md. */
extern const struct husk_steps husk_create_steps; /* clone to "ready" */
extern const struct husk_steps husk_exec_steps;	  /* clone to just before execve */

/* ---- child.c: the container process ------------------------------------- */

struct husk_child {
	const struct husk_spec *spec;
	const struct husk_process *proc;
	const struct husk_spawn_params *p; /* spawn only, else NULL */
	int sock;			   /* our end of the socketpair */
	int parent_sock;		   /* the runtime's end: closed first thing in every child,
					      or the runtime's death would never reach us as EOF */
	int console_fd;			   /* connected --console-socket, or -1 */
	bool want_pty_master;
	int preserve_fds;
	int fifo_fd; /* O_PATH exec fifo (spawn), or -1 */
	int proc_fd; /* host /proc, O_PATH, opened before pivot */
	pid_t host_pid;
	const int *join_fds; /* v1 tasks files to write "0" to ("cgroup join") */
	size_t n_join_fds;
	bool joined;	       /* the runtime said HUSK_MSG_JOINED */
	bool cwd_done;	       /* process.cwd entered (before or after the user change) */
	bool setgroups_denied; /* decided by the parent: in the child euid is 0 */
	/* The hand-off: what the runtime prepared for this process before the
	 * clone, each by its own step (process.c, child_prepare). The child
	 * gets it in its copy of this struct; no file-level state crosses. */
	struct husk_ns_fds ns;	       /* namespaces to join by path */
	struct husk_rootfs_ctx rootfs; /* with the bind sources (rootfs.source_fds) */
	struct husk_netdevs netdevs;   /* linux.netDevices to move */
	void *seccomp;		       /* compiled filter or NULL */
	/* The child's own, across its steps. */
	int timens_offsets_fd; /* husk_ns_open_time_offsets, or -1 */
	uint64_t started;      /* clone (or exec's start), for the trace; 0: none */
	bool seccomp_late;     /* loaded just before execve (child.c) */
	bool seccomp_loaded;
	char **argv;	 /* process.args, NULL-terminated */
	char *exec_path; /* args[0] resolved against the container's PATH */
	char **envp;	 /* process.env, plus HOME when it lacks one */
};

/* First step of every process cloned by the runtime: drop the copies of the
 * runtime's own fds that matter (its end of the socketpair). */
void husk_child_enter(struct husk_child *c);
/* The spawn child (husk_create_steps, then the exec fifo): never returns. */
__attribute__((noreturn)) void husk_child_main(struct husk_child *c);
/* The exec child, once in the container's namespaces (husk_exec_steps,
 * then execve): never returns. */
__attribute__((noreturn)) void husk_child_exec_main(struct husk_child *c);
/* Report a failure before "ready" and exit. */
__attribute__((noreturn)) void husk_child_fail(struct husk_child *c, const struct husk_err *e);
/* execve the resolved binary; on failure print to stderr and exit 127. */
__attribute__((noreturn)) void husk_child_exec(struct husk_child *c);

/* ---- process.c: shared parent helpers ----------------------------------- */

/* clone3 wrapper: returns pid (0 in the child), fills *pidfd. Retries
 * without CLONE_INTO_CGROUP when the kernel refuses it; *into_cgroup says
 * whether it was used. With CLONE_PARENT the exit signal is inherited. */
pid_t husk_clone3(uint64_t flags, int cgroup_fd, int *pidfd, bool *into_cgroup,
		  struct husk_err *err);
/* A child description with no fds yet (all -1) for PROC of SPEC; it gets
 * the pty master back only when there is no console socket to send it to. */
struct husk_child husk_child_new(const struct husk_spec *spec, const struct husk_process *proc,
				 bool want_pty_master, const char *console_socket,
				 int preserve_fds);
/* The socketpair to the child: c->sock gets the child's end; returns ours. */
int husk_child_socketpair(struct husk_child *c, struct husk_err *err);
/* Connect to the --console-socket PATH; returns the fd. */
int husk_console_connect(const char *path, struct husk_err *err);
/* The intermediate's last step after its clone3 of the final process (pid,
 * or -1 with err): report it with HUSK_MSG_CHILD_PID and exit. */
__attribute__((noreturn)) void husk_intermediate_report(struct husk_child *c, pid_t pid, bool into,
							const struct husk_err *err);
/* After clone3 of an intermediate (pid ipid) that reports the final
 * process with HUSK_MSG_CHILD_PID and exits: close our copy of the child's
 * socket end (c->sock), reap the intermediate, return that pid and a pidfd
 * for it. */
pid_t husk_intermediate_result(pid_t ipid, int ipidfd, struct husk_child *c, int sock, int *pidfd,
			       bool *into, struct husk_err *err);
/* Write pid into cgroup.procs of the v2 directory fd. */
int husk_cgroup_fd_attach(int cgroup_fd, pid_t pid, struct husk_err *err);
void husk_kill_and_reap(pid_t pid, int pidfd);

struct husk_serve_ctx {
	const struct husk_spec *spec;
	const char *id, *bundle;
	const struct husk_spawn_callbacks *cb;
	pid_t pid;
	pid_t init_pid;	     /* exec: the running container's init; 0 when creating */
	bool eof_is_success; /* exec: the socket closes at execve */
};
/* Serve the child's requests (hooks, pty master, seccomp listener) until
 * "ready" (or, with eof_is_success, its execve); -1 with its error. */
int husk_serve_child(const struct husk_serve_ctx *s, int sock, struct husk_spawn_result *out,
		     struct husk_err *err);
/* The parent's last step: unless its setup of the child failed (setup_rc
 * < 0), serve the child until ready; fills out with s->pid and pidfd, or
 * on failure kills and reaps the child and drops what it sent. */
int husk_spawn_complete(const struct husk_serve_ctx *s, int sock, int pidfd, int setup_rc,
			struct husk_spawn_result *out, struct husk_err *err);
