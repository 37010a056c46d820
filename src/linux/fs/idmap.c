/* Idmapped bind mounts (a mount's uidMappings/gidMappings, or the "idmap"
 * option, which means the container's own mappings). The kernel wants a user
 * namespace fd holding the mappings, and CAP_SYS_ADMIN over the source
 * filesystem's namespace: the container process has that only when it has
 * no user namespace of its own. Otherwise the runtime builds the trees on
 * the host side before the clone (husk_rootfs_open_sources) and hands them
 * over in the child's rootfs context. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"

bool husk_mount_is_idmapped(const struct husk_mount *m)
{
	return m->opts.idmap || m->n_uid_mappings || m->n_gid_mappings;
}

static int write_map(int proc_fd, pid_t pid, const char *file, const struct husk_id_map *maps,
		     size_t n)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
					maps[i].container_id, maps[i].host_id, maps[i].size);
	if (len >= sizeof(buf))
		return errno = E2BIG, -1;
	snprintf(path, sizeof(path), "%d/%s", (int)pid, file);
	_cleanup_close_ int fd = openat(proc_fd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	return 0;
}

/* `pid` (a child of ours) as procfs `proc_fd` numbers it: that procfs may
 * belong to an ancestor pid namespace, where the child has another number.
 * A pidfd's fdinfo shows the pid in the namespace of the procfs read. */
static pid_t pid_in_procfs(int proc_fd, pid_t pid)
{
	char path[64], buf[1024];
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	snprintf(path, sizeof(path), "self/fdinfo/%d", pidfd);
	_cleanup_close_ int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *line = strstr(buf, "\nPid:");
	return line ? (pid_t)strtol(line + 5, NULL, 10) : -1;
}

int husk_userns_of_child(int proc_fd, pid_t pid)
{
	char path[64];
	errno = 0;
	pid_t seen = pid_in_procfs(proc_fd, pid);
	if (seen <= 0)
		return errno = errno ? errno : ESRCH, -1;
	snprintf(path, sizeof(path), "%d/ns/user", (int)seen);
	return openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
}

/* A user namespace holding the given maps: a short-lived child unshares
 * one, we write its maps (through `proc_fd`) and keep an fd on the
 * namespace. */
int husk_userns_with_maps(int proc_fd, const struct husk_id_map *uids, size_t n_uids,
			  const struct husk_id_map *gids, size_t n_gids)
{
	int sync[2];
	char path[64];
	int fd = -1, saved = 0;

	if (pipe2(sync, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(sync[0]);
		close(sync[1]);
		return -1;
	}
	if (pid == 0) {
		char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'x';
		close(sync[0]);
		if (write(sync[1], &c, 1) == 1)
			pause(); /* until killed: the namespace lives while we do */
		_exit(1);
	}
	close(sync[1]);
	char c = 0;
	pid_t seen = -1;
	if (read(sync[0], &c, 1) == 1 && c == 'u' && (seen = pid_in_procfs(proc_fd, pid)) > 0 &&
	    write_map(proc_fd, seen, "uid_map", uids, n_uids) == 0 &&
	    write_map(proc_fd, seen, "gid_map", gids, n_gids) == 0) {
		snprintf(path, sizeof(path), "%d/ns/user", (int)seen);
		fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	}
	saved = fd < 0 ? (errno ? errno : EPERM) : 0;
	close(sync[0]);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = saved;
	return fd;
}

/* The namespace whose maps the mount uses: its own, or else the
 * container's (`container_userns` if the caller has an fd on it). */
static int mapping_userns(const struct husk_spec *spec, const struct husk_mount *m,
			  int container_userns, int proc_fd, struct husk_err *err)
{
	const struct husk_id_map *u = m->uid_mappings, *g = m->gid_mappings;
	size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;

	if (!nu && !ng && container_userns >= 0) {
		int fd = fcntl(container_userns, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? husk_err_sys(err, "idmap %s: dup userns fd", m->destination) : fd;
	}
	if (!nu && !ng) {
		u = spec->linux.uid_mappings, nu = spec->linux.n_uid_mappings;
		g = spec->linux.gid_mappings, ng = spec->linux.n_gid_mappings;
	}
	if (!nu || !ng)
		return husk_err_plain(err, EINVAL, "idmap %s: no uid and gid mappings to use",
				      m->destination);
	int fd = husk_userns_with_maps(proc_fd, u, nu, g, ng);
	if (fd < 0)
		return husk_err_sys(err, "idmap %s: create a user namespace with its mappings",
				    m->destination);
	return fd;
}

int husk_idmap_tree(const struct husk_spec *spec, const struct husk_mount *m, int tree,
		    int container_userns, int proc_fd, struct husk_err *err)
{
	_cleanup_close_ int userns = mapping_userns(spec, m, container_userns, proc_fd, err);
	if (userns < 0)
		return -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
	unsigned int flags = AT_EMPTY_PATH | (m->opts.idmap_recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(tree, "", flags, &attr, sizeof(attr)) < 0)
		return husk_err_sys(err, "idmap %s", m->destination);
	return 0;
}

/* The runtime's copies of the trees it opened for the child (or the
 * child's own, once rootfs set-up is done with them). */
void husk_rootfs_drop_sources(struct husk_rootfs_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_source_fds; i++)
		if (ctx->source_fds[i] >= 0)
			close(ctx->source_fds[i]);
	free(ctx->source_fds);
	ctx->source_fds = NULL;
	ctx->n_source_fds = 0;
}

/* One bind source, opened and idmapped with the host's privileges; a
 * relative one against the bundle, as the child would (none without one). */
static int host_source_tree(const struct husk_spec *spec, const char *bundle,
			    const struct husk_mount *m, int container_userns, int proc_fd,
			    struct husk_err *err)
{
	const struct husk_spawn_params hp = {.spec = spec, .bundle = bundle};

	if (!m->source || (m->source[0] != '/' && !bundle))
		return -1;
	_cleanup_close_ int tree = husk_bind_source_tree(&hp, m, err);
	if (tree < 0)
		return -2;
	if (husk_mount_is_idmapped(m) &&
	    husk_idmap_tree(spec, m, tree, container_userns, proc_fd, err) < 0)
		return -2;
	if (!husk_mount_no_setattr && husk_bind_tree_flags(m, tree) < 0) {
		husk_err_sys(err, "mount %s on %s: set flags", m->source, m->destination);
		return -2;
	}
	return HUSK_STEAL_FD(tree);
}

int husk_rootfs_open_sources(const struct husk_spec *spec, const char *bundle, int container_userns,
			     struct husk_rootfs_ctx *ctx, struct husk_err *err)
{
	_cleanup_close_ int proc_fd = -1;

	bool any_bind = false, any_idmap = false;

	husk_rootfs_drop_sources(ctx);
	/* A rootless runtime has no more privilege than its child has. */
	if (spec->n_mounts == 0 || geteuid() != 0)
		return 0;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		if (!husk_mount_is_bind(&spec->mounts[i]))
			continue;
		any_bind = true;
		any_idmap = any_idmap || husk_mount_is_idmapped(&spec->mounts[i]);
	}
	if (!any_bind) /* the common start-up path costs nothing here */
		return 0;
	husk_mount_probe();
	/* /proc only to write an idmapping helper's maps. */
	if (any_idmap) {
		proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (proc_fd < 0 || husk_procfs_check(proc_fd) < 0)
			return husk_err_sys(err, "bind mount sources: open /proc");
	}
	ctx->source_fds = malloc(spec->n_mounts * sizeof(*ctx->source_fds));
	if (!ctx->source_fds)
		return husk_err_sys(err, "bind mount sources");
	ctx->n_source_fds = spec->n_mounts;
	for (size_t i = 0; i < ctx->n_source_fds; i++)
		ctx->source_fds[i] = -1;
	for (size_t i = 0; i < ctx->n_source_fds; i++) {
		const struct husk_mount *m = &spec->mounts[i];
		if (!husk_mount_is_bind(m))
			continue;
		ctx->source_fds[i] =
		    host_source_tree(spec, bundle, m, container_userns, proc_fd, err);
		if (ctx->source_fds[i] == -2) {
			husk_rootfs_drop_sources(ctx);
			return -1;
		}
	}
	return 0;
}
