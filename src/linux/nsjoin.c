/* Namespaces: which ones clone3 creates, which ones are joined by path and
 * by whom, and the late ones (cgroup, time) the child unshares itself. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linux/internal.h"
#include "linux/rootfs.h"
#include "util/cleanup.h"

static const struct {
	uint64_t flag;
	const char *proc_name; /* under /proc/self/ns */
} ns_info[HUSK_NS_COUNT] = {
    [HUSK_NS_PID] = {CLONE_NEWPID, "pid"},	    [HUSK_NS_NETWORK] = {CLONE_NEWNET, "net"},
    [HUSK_NS_MOUNT] = {CLONE_NEWNS, "mnt"},	    [HUSK_NS_IPC] = {CLONE_NEWIPC, "ipc"},
    [HUSK_NS_UTS] = {CLONE_NEWUTS, "uts"},	    [HUSK_NS_USER] = {CLONE_NEWUSER, "user"},
    [HUSK_NS_CGROUP] = {CLONE_NEWCGROUP, "cgroup"}, [HUSK_NS_TIME] = {CLONE_NEWTIME, "time"},
};

static bool ns_is_new(const struct husk_spec *spec, enum husk_ns_type t)
{
	return spec->linux.ns[t].enabled && !spec->linux.ns[t].path;
}

void husk_ns_fds_init(struct husk_ns_fds *f)
{
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		f->fd[t] = -1;
}

void husk_ns_fds_close(struct husk_ns_fds *f)
{
	for (int t = 0; t < HUSK_NS_COUNT; t++) {
		if (f->fd[t] >= 0)
			close(f->fd[t]);
		f->fd[t] = -1;
	}
}

/* All paths are opened before any is joined: once in a new mount or user
 * namespace the host paths may no longer resolve. */
int husk_ns_open_paths(const struct husk_spec *spec, struct husk_ns_fds *f, struct husk_err *err)
{
	for (int t = 0; t < HUSK_NS_COUNT; t++) {
		const struct husk_namespace *ns = &spec->linux.ns[t];
		if (!ns->enabled || !ns->path)
			continue;
		f->fd[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (f->fd[t] < 0)
			return husk_err_sys(err, "open %s namespace %s", ns_info[t].proc_name,
					    ns->path);
	}
	return 0;
}

bool husk_ns_joined_by_parent(const struct husk_spec *spec, enum husk_ns_type t)
{
	if (!spec->linux.ns[t].enabled || !spec->linux.ns[t].path)
		return false;
	if (t == HUSK_NS_PID)
		return true;
	return t != HUSK_NS_USER && husk_userns_is_new(spec);
}

/* With a user namespace given by path, clone3 runs in an intermediate that
 * joined it first (process.c), so the new namespaces are owned by it.
 * A new IPC namespace under a new user namespace waits for the child to be
 * root there: its mqueue root inode takes the creator's fsuid, and runc
 * shows the container's root as its owner (its gid is still the host's). */
static bool created_by_clone(const struct husk_spec *spec, enum husk_ns_type t)
{
	if (t == HUSK_NS_IPC && husk_userns_is_new(spec))
		return false;
	return ns_is_new(spec, t) && t != HUSK_NS_CGROUP && t != HUSK_NS_TIME;
}

bool husk_ns_user_by_path(const struct husk_spec *spec)
{
	return spec->linux.ns[HUSK_NS_USER].enabled && spec->linux.ns[HUSK_NS_USER].path;
}

uint64_t husk_ns_clone_flags(const struct husk_spec *spec)
{
	uint64_t flags = 0;
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		if (created_by_clone(spec, t))
			flags |= ns_info[t].flag;
	return flags;
}

uint64_t husk_ns_all_flags(const struct husk_spec *spec)
{
	uint64_t flags = 0;
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		if (spec->linux.ns[t].enabled)
			flags |= ns_info[t].flag;
	return flags;
}

static int ns_setns(int fd, enum husk_ns_type t, const char *what, struct husk_err *err)
{
	if (setns(fd, (int)ns_info[t].flag) < 0)
		return husk_err_sys(err, "setns %s namespace%s%s", ns_info[t].proc_name,
				    what ? " " : "", what ? what : "");
	return 0;
}

int husk_ns_parent_enter(const struct husk_spec *spec, struct husk_ns_fds *f,
			 struct husk_ns_saved *saved, struct husk_err *err)
{
	char path[64];

	saved->cwd_fd = -1;
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		saved->fd[t] = -1;
	for (int t = 0; t < HUSK_NS_COUNT; t++) {
		if (!husk_ns_joined_by_parent(spec, t))
			continue;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_info[t].proc_name);
		saved->fd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (saved->fd[t] < 0)
			return husk_err_sys(err, "open %s", path);
		/* setns into a mount namespace moves root and cwd; keep cwd. */
		if (t == HUSK_NS_MOUNT &&
		    (saved->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return husk_err_sys(err, "open current directory");
	}
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		if (saved->fd[t] >= 0 && ns_setns(f->fd[t], t, spec->linux.ns[t].path, err) < 0)
			return -1;
	return 0;
}

int husk_ns_parent_leave(struct husk_ns_saved *saved, struct husk_err *err)
{
	int ret = 0;
	for (int t = 0; t < HUSK_NS_COUNT; t++) {
		if (saved->fd[t] < 0)
			continue;
		if (ret == 0 && ns_setns(saved->fd[t], t, "(restore)", err) < 0)
			ret = -1;
		close(saved->fd[t]);
		saved->fd[t] = -1;
	}
	if (saved->cwd_fd >= 0) {
		if (ret == 0 && fchdir(saved->cwd_fd) < 0)
			ret = husk_err_sys(err, "restore current directory");
		close(saved->cwd_fd);
		saved->cwd_fd = -1;
	}
	return ret;
}

static bool has_time_offsets(const struct husk_spec *spec)
{
	return ns_is_new(spec, HUSK_NS_TIME) &&
	       (spec->linux.time_monotonic.set || spec->linux.time_boottime.set);
}

int husk_ns_open_time_offsets(const struct husk_spec *spec, int *fd, struct husk_err *err)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (!has_time_offsets(spec))
		return 0;
	*fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (*fd < 0)
		return husk_err_sys(err, "open /proc/self/timens_offsets");
	return 0;
}

int husk_ns_child_join(const struct husk_spec *spec, struct husk_ns_fds *f, struct husk_err *err)
{
	if (f->fd[HUSK_NS_USER] >= 0 &&
	    ns_setns(f->fd[HUSK_NS_USER], HUSK_NS_USER, spec->linux.ns[HUSK_NS_USER].path, err) < 0)
		return -1;
	for (int t = 0; t < HUSK_NS_COUNT; t++) {
		if (t == HUSK_NS_USER || f->fd[t] < 0 || husk_ns_joined_by_parent(spec, t))
			continue;
		if (ns_setns(f->fd[t], t, spec->linux.ns[t].path, err) < 0)
			return -1;
	}
	husk_ns_fds_close(f);
	return 0;
}

static int write_time_offsets(const struct husk_spec *spec, int proc_fd, int *offsets_fd,
			      struct husk_err *err)
{
	const struct husk_time_offset *mono = &spec->linux.time_monotonic;
	const struct husk_time_offset *boot = &spec->linux.time_boottime;
	char buf[128];
	int len = 0;

	if (mono->set)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "monotonic %" PRId64 " %u\n",
				mono->secs, mono->nanosecs);
	if (boot->set)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "boottime %" PRId64 " %u\n",
				boot->secs, boot->nanosecs);
	if (len == 0)
		return 0;
	_cleanup_close_ int fd = *offsets_fd >= 0
				     ? HUSK_STEAL_FD(*offsets_fd)
				     : openat(proc_fd, "self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open /proc/self/timens_offsets");
	if (write(fd, buf, (size_t)len) != len)
		return husk_err_sys(err, "write /proc/self/timens_offsets");
	return 0;
}

/* unshare(CLONE_NEWTIME) makes a namespace for our children only. Newer
 * kernels move us into it at execve too; 6.1 (Debian 12's) does not, and
 * the init would run on the host's clocks. Entering it ourselves, once its
 * offsets are written, works on every kernel with time namespaces, as crun
 * does. */
static int enter_new_time_ns(const struct husk_spec *spec, int proc_fd, int *offsets_fd,
			     struct husk_err *err)
{
	if (write_time_offsets(spec, proc_fd, offsets_fd, err) < 0)
		return -1;
	_cleanup_close_ int fd = openat(proc_fd, "self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open /proc/self/ns/time_for_children");
	if (setns(fd, CLONE_NEWTIME) < 0)
		return husk_err_sys(err, "enter the new time namespace");
	return 0;
}

/* The cgroup namespace is created only now, after the parent put us in our
 * cgroups, so its root is the container's cgroup. The time namespace
 * applies from execve on, and its offsets must be written before then. */
int husk_ns_child_unshare(const struct husk_spec *spec, int proc_fd, int *offsets_fd,
			  struct husk_err *err)
{
	uint64_t flags = 0;

	for (int t = 0; t < HUSK_NS_COUNT; t++)
		if (ns_is_new(spec, t) && !created_by_clone(spec, t))
			flags |= ns_info[t].flag;
	if (flags == 0)
		return 0;
	if (unshare((int)flags) < 0)
		return husk_err_sys(err, "unshare namespaces 0x%" PRIx64, flags);
	if (flags & CLONE_NEWTIME)
		return enter_new_time_ns(spec, proc_fd, offsets_fd, err);
	return 0;
}

/* For the trace: the namespaces the config names, "pid,mount,...". */
const char *husk_ns_describe(const struct husk_spec *spec, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int t = 0; t < HUSK_NS_COUNT && o < cap; t++)
		if (spec->linux.ns[t].enabled)
			o += (size_t)snprintf(buf + o, cap - o, "%s%s%s", o ? "," : "",
					      husk_ns_name(t),
					      spec->linux.ns[t].path ? "(join)" : "");
	return buf;
}
