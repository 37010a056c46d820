/* User namespace id mappings, written by the parent while the child waits.
 * Root writes /proc/PID/{uid,gid}_map itself; an unprivileged caller can
 * write a single mapping of its own ids (after denying setgroups, as the
 * kernel requires) and needs the setuid newuidmap/newgidmap for more. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

extern char **environ;

bool husk_userns_is_new(const struct husk_spec *spec)
{
	const struct husk_namespace *ns = &spec->linux.ns[HUSK_NS_USER];
	return ns->enabled && !ns->path;
}

/* The kernel lets an unprivileged caller write only "0-or-any OWN 1": its
 * own id, once. Anything else (more lines, a range, a subordinate id)
 * goes through the setuid helper, which checks /etc/subuid. */
static bool use_helpers(const struct husk_id_map *maps, size_t n, uid_t own)
{
	if (geteuid() == 0)
		return false;
	return n > 1 || (n == 1 && (maps[0].host_id != own || maps[0].size != 1));
}

bool husk_userns_setgroups_denied(const struct husk_spec *spec)
{
	const struct husk_linux *l = &spec->linux;
	return husk_userns_is_new(spec) && geteuid() != 0 && l->n_gid_mappings == 1 &&
	       !use_helpers(l->gid_mappings, 1, getegid());
}

static int write_proc_file(pid_t pid, const char *name, const char *data, size_t len,
			   struct husk_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open %s", path);
	ssize_t n = write(fd, data, len);
	if (n < 0)
		return husk_err_sys(err, "write %s", path);
	if ((size_t)n != len)
		return husk_err_set(err, EIO, "write %s: short write", path);
	return 0;
}

static int write_map_file(pid_t pid, const char *name, const struct husk_id_map *maps, size_t n,
			  struct husk_err *err)
{
	/* The kernel takes the whole map in one write of at most a page. */
	char buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", maps[i].container_id,
				 maps[i].host_id, maps[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return husk_err_set(err, E2BIG, "%s: too many mappings", name);
		len += (size_t)w;
	}
	return write_proc_file(pid, name, buf, len, err);
}

static int run_map_helper(const char *helper, pid_t pid, const struct husk_id_map *maps, size_t n,
			  struct husk_err *err)
{
	char nums[3 * 340][12];
	char pidstr[16];
	char *argv[2 + 3 * 340 + 1];
	size_t argc = 0;

	if (n > 340)
		return husk_err_set(err, E2BIG, "%s: too many mappings", helper);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	argv[argc++] = (char *)helper;
	argv[argc++] = pidstr;
	for (size_t i = 0; i < n; i++) {
		uint32_t v[3] = {maps[i].container_id, maps[i].host_id, maps[i].size};
		for (int k = 0; k < 3; k++) {
			snprintf(nums[3 * i + k], sizeof(nums[0]), "%u", v[k]);
			argv[argc++] = nums[3 * i + k];
		}
	}
	argv[argc] = NULL;

	pid_t helper_pid;
	int rc = posix_spawnp(&helper_pid, helper, NULL, NULL, argv, environ);
	if (rc != 0)
		return husk_err_set(err, rc, "run %s", helper);
	int status;
	while (waitpid(helper_pid, &status, 0) < 0)
		if (errno != EINTR)
			return husk_err_sys(err, "wait for %s", helper);
	if (WIFSIGNALED(status))
		return husk_err_set(err, EPERM, "%s %d: killed by signal %d", helper, (int)pid,
				    WTERMSIG(status));
	if (WEXITSTATUS(status) != 0) {
		/* It refuses ids the caller was not given (its own words are on
		 * stderr already): point at where they are given. */
		husk_err_set(err, 0,
			     "%s %d: exited with status %d (are the ids in %s for this user?)",
			     helper, (int)pid, WEXITSTATUS(status),
			     strcmp(helper, "newuidmap") == 0 ? "/etc/subuid" : "/etc/subgid");
		err->code = EPERM;
		return -1;
	}
	return 0;
}

static int write_one_map(const char *helper, const char *file, pid_t pid,
			 const struct husk_id_map *maps, size_t n, uid_t own, struct husk_err *err)
{
	if (n == 0)
		return 0;
	if (use_helpers(maps, n, own))
		return run_map_helper(helper, pid, maps, n, err);
	return write_map_file(pid, file, maps, n, err);
}

int husk_userns_write_maps(const struct husk_spec *spec, pid_t pid, struct husk_err *err)
{
	const struct husk_linux *l = &spec->linux;

	if (husk_userns_setgroups_denied(spec) &&
	    write_proc_file(pid, "setgroups", "deny", 4, err) < 0)
		return -1;
	if (write_one_map("newuidmap", "uid_map", pid, l->uid_mappings, l->n_uid_mappings,
			  geteuid(), err) < 0)
		return -1;
	return write_one_map("newgidmap", "gid_map", pid, l->gid_mappings, l->n_gid_mappings,
			     getegid(), err);
}

static bool maps_contain_zero(const struct husk_id_map *maps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (maps[i].container_id == 0)
			return true;
	return false;
}

/* Until now the child kept the runtime's ids, which have no name inside
 * the namespace; files it creates during setup must belong to its root.
 * In a joined namespace the mappings are unknown: root if it is mapped.
 * The uid changes first, before the child unshares its remaining
 * namespaces, the gid after (husk_userns_become_root_gid), as runc does:
 * the IPC namespace's mqueue root is owned by the creator's fsuid/fsgid. */
int husk_userns_become_root_uid(const struct husk_spec *spec, struct husk_err *err)
{
	const struct husk_linux *l = &spec->linux;
	bool joined = husk_ns_user_by_path(spec);

	if (!husk_userns_is_new(spec) && !joined)
		return 0;
	if ((joined || maps_contain_zero(l->uid_mappings, l->n_uid_mappings)) &&
	    setresuid(0, 0, 0) < 0 && !(joined && errno == EINVAL))
		return husk_err_sys(err, "setresuid 0 in the user namespace");
	return 0;
}

int husk_userns_become_root_gid(const struct husk_spec *spec, struct husk_err *err)
{
	const struct husk_linux *l = &spec->linux;
	bool joined = husk_ns_user_by_path(spec);

	if (!husk_userns_is_new(spec) && !joined)
		return 0;
	if ((joined || maps_contain_zero(l->gid_mappings, l->n_gid_mappings)) &&
	    setresgid(0, 0, 0) < 0 && !(joined && errno == EINVAL))
		return husk_err_sys(err, "setresgid 0 in the user namespace");
	return 0;
}
