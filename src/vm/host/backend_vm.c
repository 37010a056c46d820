/* The vm backend: each container in its own VM (vm.h). The lifecycle layer
 * is the linux backend's; what differs is how the container's process is
 * made (a monitor, not a namespaced init), how signals and execs reach it
 * (the monitor's control socket) and what its state records. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "linux/internal.h"
#include "runtime/backend.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"
#include "vm/host/vm.h"

static json_t *load_config(int dir_fd, struct husk_err *err)
{
	size_t len = 0;
	_cleanup_free_ char *text = husk_read_file(dir_fd, HUSK_CONFIG_FILE, 0, &len, err);
	json_error_t je;
	json_t *cfg;

	if (!text)
		return NULL;
	cfg = json_loadb(text, len, 0, &je);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		husk_err_plain(err, EINVAL, "config.json: %s", je.text);
		return NULL;
	}
	return cfg;
}

/* What the vm backend cannot do (yet): refused before anything starts. */
static int check_supported(const struct husk_spawn_params *p, struct husk_err *err)
{
	if (p->preserve_fds > 0)
		return husk_err_plain(err, ENOTSUP,
				      "--preserve-fds: not supported by the vm backend");
	/* The monitor makes taps, tc filters and virtiofsd's mount namespace. */
	if (geteuid() != 0)
		return husk_err_plain(err, EPERM,
				      "the vm backend needs root: rootless vm containers are not "
				      "supported yet");
	return 0;
}

/* The monitor's set-up result: "ready" (code -1) or its error. */
static int wait_ready(int report_fd, bool *reported, struct husk_err *err)
{
	struct husk_err got;
	ssize_t n;

	do
		n = read(report_fd, &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(got))
		return husk_err_set(err, ECHILD, "vm monitor died during set-up");
	if (got.code == -1)
		return 0;
	*reported = true;
	*err = got;
	return -1;
}

struct vm_create {
	int dir_fd, report[2], go[2];
	json_t *config;
	struct husk_vm_plan plan;
	struct husk_vm_pty pty; /* process.terminal, else all -1 */
	pid_t pid;
	int pidfd;
	bool reported; /* the monitor failed and said why: it exits by itself */
};

/* A new network namespace the bundle asks for is made for the monitor (and
 * so QEMU): it is the container's in the host's view, the one prestart hooks
 * find at /proc/<pid>/ns/net. Docker's libnetwork-setkey hook moves the
 * container's veth there and names it eth0; left in the host's namespace,
 * the monitor would have had the hook reconfigure the host's network. */
static uint64_t monitor_clone_flags(const struct husk_spawn_params *p)
{
	const struct husk_namespace *net = &p->spec->linux.ns[HUSK_NS_NETWORK];
	return net->enabled && !net->path ? CLONE_NEWNET : 0;
}

/* --debug: how the VM was run and where its boot's time went (vm.json). */
static void log_boot_facts(int dir_fd, const char *id)
{
	struct husk_err ignored = {0};
	size_t len = 0;
	_cleanup_free_ char *text = husk_read_file(dir_fd, HUSK_VM_RUNTIME_FILE, 0, &len, &ignored);
	json_t *facts = text ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *t = json_object_get(facts, "monotonic_ns");
	double ms = 1e-6;

	if (t)
		husk_debug("vm %s: accel %s; hypervisor started %.1f ms after the monitor, agent "
			   "ready %.1f ms later (guest clock %.1f ms), container created %.1f ms "
			   "after that",
			   id, json_string_value(json_object_get(facts, "accel")),
			   ms * (double)(json_integer_value(json_object_get(t, "vmm_exec")) -
					 json_integer_value(json_object_get(t, "monitor"))),
			   ms * (double)(json_integer_value(json_object_get(t, "agent_ready")) -
					 json_integer_value(json_object_get(t, "vmm_exec"))),
			   ms * (double)json_integer_value(json_object_get(facts, "guest_boot_ns")),
			   ms * (double)(json_integer_value(json_object_get(t, "created")) -
					 json_integer_value(json_object_get(t, "agent_ready"))));
	json_decref(facts);
}

static int run_host_hooks(const struct husk_spawn_params *p, pid_t pid, struct husk_err *err)
{
	if (!p->cb.run_hooks)
		return 0;
	if (p->cb.run_hooks(p->cb.ctx, HUSK_HOOK_PRESTART, pid, err) < 0 ||
	    p->cb.run_hooks(p->cb.ctx, HUSK_HOOK_CREATE_RUNTIME, pid, err) < 0)
		return -1;
	return 0;
}

static int fork_monitor(const struct husk_spawn_params *p, struct vm_create *v,
			struct husk_err *err)
{
	struct husk_vm_monitor_args a = {
	    .id = p->id,
	    .dir_fd = v->dir_fd,
	    .report_fd = v->report[1],
	    .go_fd = v->go[0],
	    .rootfs = p->rootfs,
	    .bundle = p->bundle,
	    .config = v->config,
	    .plan = &v->plan,
	    .join_fds = p->join_fds,
	    .n_join_fds = p->n_join_fds,
	    .tty_fd = v->pty.slave,
	};
	bool into;

	v->pid = husk_clone3(monitor_clone_flags(p), p->cgroup_fd, &v->pidfd, &into, err);
	if (v->pid == 0)
		husk_vm_monitor_main(&a);
	if (v->pid < 0)
		return -1;
	close(v->report[1]);
	v->report[1] = -1;
	close(v->go[0]);
	v->go[0] = -1;
	if (v->pty.slave >= 0) {
		close(v->pty.slave); /* the monitor's now */
		v->pty.slave = -1;
	}
	if ((p->cgroup_fd >= 0 && !into && husk_cgroup_fd_attach(p->cgroup_fd, v->pid, err) < 0) ||
	    (p->cb.child_created && p->cb.child_created(p->cb.ctx, v->pid, err) < 0))
		return -1;
	/* prestart and createRuntime run once the container's namespaces exist
	 * (the monitor's new network namespace) and before the VM boots: what
	 * they put there (Docker's libnetwork-setkey moves the container's
	 * veth in) is what the monitor joins to the guest. */
	if (run_host_hooks(p, v->pid, err) < 0)
		return -1;
	if (write(v->go[1], "g", 1) != 1)
		return husk_err_sys(err, "start vm monitor");
	if (husk_traced("boot vm", p->id, wait_ready(v->report[0], &v->reported, err)) < 0)
		return -1;
	if (husk_trace_enabled)
		log_boot_facts(v->dir_fd, p->id);
	return 0;
}

static void close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

static int vm_create(const struct husk_spawn_params *p, struct husk_spawn_result *out,
		     struct husk_err *err)
{
	struct vm_create v = {
	    .dir_fd = -1, .report = {-1, -1}, .go = {-1, -1}, .pty = {-1, -1, -1}, .pidfd = -1};
	bool terminal = p->spec->process && p->spec->process->terminal;
	int master = -1;
	_cleanup_free_ char *dir = strdup(p->exec_fifo ? p->exec_fifo : "");
	int rc = -1;

	if (!dir)
		return husk_err_set(err, ENOMEM, "vm create");
	v.dir_fd = open(dirname(dir), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (v.dir_fd < 0)
		return husk_err_sys(err, "open state directory");
	if (check_supported(p, err) < 0 || !(v.config = load_config(v.dir_fd, err)) ||
	    husk_vm_plan_make(v.config, &p->spec->annotations, &v.plan, err) < 0 ||
	    (terminal && husk_vm_pty_open(p->spec->process, p->console_socket, &v.pty, err) < 0))
		goto out;
	if (pipe2(v.report, O_CLOEXEC) < 0 || pipe2(v.go, O_CLOEXEC) < 0) {
		husk_err_sys(err, "pipe");
		goto out;
	}
	rc = fork_monitor(p, &v, err);
	if (rc < 0 && v.pid > 0 && v.reported) {
		/* it stops what it started, then exits */
		while (waitpid(v.pid, NULL, 0) < 0 && errno == EINTR)
			;
		v.pid = -1;
	}
	if (rc == 0 && terminal)
		rc = husk_vm_pty_hand_out(&v.pty, p->want_pty_master, &master, err);
	if (rc < 0 && v.pid > 0)
		husk_kill_and_reap(v.pid, v.pidfd);
	if (rc == 0) {
		out->pid = v.pid;
		out->pidfd = v.pidfd;
		out->pty_master = master;
		master = -1;
		v.pidfd = -1;
	}
out:
	if (master >= 0)
		close(master);
	husk_vm_pty_close(&v.pty);
	if (v.pidfd >= 0)
		close(v.pidfd);
	close_pair(v.report);
	close_pair(v.go);
	close(v.dir_fd);
	json_decref(v.config);
	husk_vm_plan_free(&v.plan);
	return rc;
}

static int ask_monitor(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	json_t *req = json_pack("{s:s,s:i,s:b}", "op", "signal", "signal", sig, "all", all), *rep;
	int fd = husk_vm_ctl_connect(c->dir_fd, err), fds[3];
	size_t n;
	int r = fd < 0 ? -1 : husk_vm_ctl_send(fd, req, NULL, 0, err);

	json_decref(req);
	if (r == 0 && husk_vm_ctl_recv(fd, &rep, fds, 0, &n, err) == 0) {
		if (!json_is_true(json_object_get(rep, "ok")))
			r = husk_err_plain(err, EINVAL, "vm monitor refused the signal");
		json_decref(rep);
	} else if (r == 0) {
		r = husk_err_set(err, ESRCH, "vm monitor gave no answer");
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* SIGKILL ends the VM (the monitor, and its children by PDEATHSIG);
 * other signals go to the init in the guest. */
static int vm_kill(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	if (sig == SIGKILL || sig == 0)
		return husk_linux_kill(c, sig, all, err);
	return husk_traced("signal through vm monitor", c->id, ask_monitor(c, sig, all, err));
}

static int vm_freeze(struct husk_container *c, bool frozen, struct husk_err *err)
{
	struct husk_cgroup *cg = husk_container_cgroup(c, err);
	return cg ? husk_cgroup_freeze(cg, frozen, err) : -1;
}

static int vm_pause(struct husk_container *c, struct husk_err *err)
{
	return vm_freeze(c, true, err);
}

static int vm_resume(struct husk_container *c, struct husk_err *err)
{
	return vm_freeze(c, false, err);
}

static char *vm_stats(struct husk_container *c, struct husk_err *err)
{
	struct husk_cgroup *cg = husk_container_cgroup(c, err);
	return cg ? husk_cgroup_stats_json(cg, err) : NULL;
}

static int add_annotation(struct husk_kvv *ann, const char *key, const char *value,
			  struct husk_err *err)
{
	struct husk_kv *bigger = realloc(ann->v, (ann->n + 1) * sizeof(*ann->v));

	if (!bigger)
		return husk_err_set(err, ENOMEM, "annotation %s", key);
	ann->v = bigger;
	bigger[ann->n].key = strdup(key);
	bigger[ann->n].value = strdup(value);
	if (!bigger[ann->n].key || !bigger[ann->n].value) {
		free(bigger[ann->n].key);
		free(bigger[ann->n].value);
		return husk_err_set(err, ENOMEM, "annotation %s", key);
	}
	ann->n++;
	return 0;
}

/* Known before the VM starts: how it will run and on which kernel. The
 * memory and cpu annotations are checked here too, so bad values fail
 * before any state exists. */
static int vm_state_extras(const struct husk_spec *spec, struct husk_kvv *ann, struct husk_err *err)
{
	unsigned int v;

	if (husk_vm_annotation_uint(ann, HUSK_VM_ANN_MEMORY, 0, 64, 1u << 20, &v, err) < 0 ||
	    husk_vm_annotation_uint(ann, HUSK_VM_ANN_CPUS, 0, 1, 64, &v, err) < 0)
		return -1;
	return add_annotation(ann, HUSK_VM_ANN_ACCEL, husk_vm_kvm_usable() ? "kvm" : "tcg", err);
}

/* The tc set-up a monitor killed by SIGKILL left on the namespace's veths. */
static void vm_release(struct husk_container *c)
{
	husk_vm_net_undo_recorded(c->dir_fd);
}

const struct husk_backend husk_backend_vm = {
    .name = "vm",
    .host_processes = false, /* they run in the guest */
    .create = vm_create,
    .start = husk_linux_release,
    .kill = vm_kill,
    .exec = husk_vm_exec,
    .pause = vm_pause,
    .resume = vm_resume,
    .stats = vm_stats,
    .delete = husk_container_kill_wait,
    .release = vm_release,
    .state_extras = vm_state_extras,
};
