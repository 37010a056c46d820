/* A "cgroup" mount (normally /sys/fs/cgroup). On a cgroup2 host it is one
 * cgroup2 mount. On a v1 or hybrid host it is what runc builds: a tmpfs
 * holding one directory per v1 hierarchy, each the container's own cgroup
 * bound from the host (or, inside a cgroup namespace, the hierarchy mounted
 * afresh, which the namespace roots at the container's cgroup). */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MS_NOT_FLAGS                                                                               \
	(MS_BIND | MS_REC | MS_REMOUNT | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

struct v1_hier {
	char mountpoint[PATH_MAX];
	char root[PATH_MAX];
	char controllers[256]; /* "cpu,cpuacct" or "name=systemd" */
};

/* Keep the controller names of a v1 superblock's options ("rw,cpu,xattr"). */
static void controllers_of(const char *super_opts, char *out, size_t len)
{
	static const char *const not_controllers[] = {
	    "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode"};
	_cleanup_free_ char *copy = strdup(super_opts);
	char *save = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (!copy)
		return;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool skip = strncmp(o, "release_agent=", 14) == 0;
		for (size_t i = 0; i < HUSK_ARRAY_SIZE(not_controllers) && !skip; i++)
			skip = strcmp(o, not_controllers[i]) == 0;
		if (!skip)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      o);
	}
}

/* Parse one mountinfo line; true when it is a v1 cgroup mount. */
static bool parse_v1_line(char *line, struct v1_hier *h)
{
	char *f[10], *save = NULL;
	int nf = 0;

	for (char *t = strtok_r(line, " \n", &save); t && nf < 10;
	     t = strtok_r(NULL, " \n", &save)) {
		if (nf == 6 && strcmp(t, "-") != 0)
			continue; /* optional fields */
		f[nf++] = t;
	}
	if (nf < 10 || strcmp(f[7], "cgroup") != 0)
		return false;
	husk_unescape_mountinfo(f[3]);
	husk_unescape_mountinfo(f[4]);
	snprintf(h->root, sizeof(h->root), "%s", f[3]);
	snprintf(h->mountpoint, sizeof(h->mountpoint), "%s", f[4]);
	controllers_of(f[9], h->controllers, sizeof(h->controllers));
	return h->controllers[0] != '\0';
}

/* The process's own cgroup in the hierarchy with these controllers, from
 * /proc/self/cgroup ("4:cpu,cpuacct:/path"). */
static bool own_cgroup(const char *cgroups, const char *controllers, char *out, size_t len)
{
	for (const char *l = cgroups; *l;) {
		const char *end = strchrnul(l, '\n');
		const char *c1 = memchr(l, ':', (size_t)(end - l));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2 && (size_t)(c2 - c1 - 1) == strlen(controllers) &&
		    memcmp(c1 + 1, controllers, strlen(controllers)) == 0) {
			snprintf(out, len, "%.*s", (int)(end - c2 - 1), c2 + 1);
			return true;
		}
		l = *end ? end + 1 : end;
	}
	return false;
}

static int read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = husk_fs_sys->openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	size_t n = 0;
	ssize_t r;
	if (fd < 0)
		return -1;
	while (n + 1 < len && (r = read(fd, buf + n, len - n - 1)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return r < 0 ? -1 : 0;
}

/* How much of our cgroup path the mount's root covers; -1 when our cgroup
 * lies outside what that mount shows. */
static ssize_t root_prefix_len(const struct v1_hier *h, const char *own)
{
	size_t rl = strlen(h->root);
	if (strcmp(h->root, "/") == 0)
		return 0;
	if (strncmp(own, h->root, rl) != 0 || (own[rl] != '/' && own[rl] != '\0'))
		return -1;
	return (ssize_t)rl;
}

/* Host path of our cgroup in hierarchy h: its mountpoint plus our path
 * relative to the mount's root. */
static int bind_hierarchy(const struct husk_mount *m, const struct v1_hier *h, const char *own,
			  int dir_fd)
{
	char src[PATH_MAX];
	struct husk_mount_attr attr;

	snprintf(src, sizeof(src), "%s%s", h->mountpoint, own + root_prefix_len(h, own));

	_cleanup_close_ int tree =
	    husk_fs_sys->open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -1;
	husk_ms_to_attr(m->opts.flags & ~MS_NOT_FLAGS, &attr);
	return husk_attach(tree, dir_fd, false, attr.set, attr.clr);
}

/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
static void link_comounted(int tmp_fd, const char *name)
{
	if (!strchr(name, ','))
		return;
	_cleanup_free_ char *copy = strdup(name);
	char *save = NULL;
	if (!copy)
		return;
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
		/* Best effort: without the alias the hierarchy is still there
		 * under its full name. (A bare call trips warn_unused_result
		 * under _FORTIFY_SOURCE, which distribution builds turn on.) */
		if (strcmp(c, name) != 0 && husk_fs_sys->symlinkat(name, tmp_fd, c) < 0)
			continue;
}

static int mount_one_v1(struct husk_fs *fs, const struct husk_mount *m, const struct v1_hier *h,
			const char *cgroups, int tmp_fd, struct husk_err *err)
{
	char own[PATH_MAX];
	const char *name =
	    strrchr(h->mountpoint, '/') ? strrchr(h->mountpoint, '/') + 1 : h->mountpoint;

	bool cgroupns = fs->spec->linux.ns[HUSK_NS_CGROUP].enabled;

	if (!own_cgroup(cgroups, h->controllers, own, sizeof(own)))
		return 0; /* a hierarchy we are not part of */
	if (!cgroupns && root_prefix_len(h, own) < 0)
		return 0; /* our cgroup is not visible through the host's mount */
	if (husk_fs_sys->mkdirat(tmp_fd, name, 0755) < 0 && errno != EEXIST)
		return husk_err_sys(err, "mount cgroup on %s/%s: mkdir", m->destination, name);
	_cleanup_close_ int dir =
	    husk_fs_sys->openat(tmp_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (dir < 0)
		return husk_err_sys(err, "mount cgroup on %s/%s", m->destination, name);

	int rc;
	if (cgroupns)
		/* A named hierarchy shows its name as the source, as with runc. */
		rc = husk_mount_on_fd(strncmp(h->controllers, "name=", 5) == 0 ? h->controllers + 5
									       : "cgroup",
				      dir, "cgroup", m->opts.flags & ~MS_NOT_FLAGS, h->controllers);
	else
		rc = bind_hierarchy(m, h, own, dir);
	if (rc < 0)
		return husk_err_sys(err, "mount cgroup on %s/%s", m->destination, name);
	link_comounted(tmp_fd, name);
	return 0;
}

/* The tmpfs only holds the hierarchies: as runc leaves it, mode 0555, so
 * the container makes no directories or files of its own there. Where the
 * config's cgroup mount is read-only, the tmpfs is too, so that not even a
 * root with CAP_DAC_OVERRIDE can change what it shows. */
static int seal_tmpfs(const struct husk_mount *m, int tmp_fd, struct husk_err *err)
{
	_cleanup_close_ int dir = openat(tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0 || fchmod(dir, 0555) < 0)
		return husk_err_sys(err, "mount tmpfs on %s: chmod 0555", m->destination);
	if ((m->opts.flags & MS_RDONLY) &&
	    husk_mount_setattr(tmp_fd, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return husk_err_sys(err, "mount tmpfs on %s: make read-only", m->destination);
	return 0;
}

static int mount_v1(struct husk_fs *fs, const struct husk_mount *m, int target,
		    struct husk_err *err)
{
	char cgroups[8192];
	_cleanup_fclose_ FILE *mi = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char seen[1024] = ",";

	if (read_small("/proc/self/cgroup", cgroups, sizeof(cgroups)) < 0)
		return husk_err_sys(err, "mount cgroup on %s: read /proc/self/cgroup",
				    m->destination);
	if (husk_mount_on_fd("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "mode=755") < 0)
		return husk_err_sys(err, "mount tmpfs on %s", m->destination);
	if (husk_fd_check_inside(fs, target, m->destination, err) < 0)
		return -1;
	_cleanup_close_ int tmp_fd = husk_open_at(fs->ctx->root_fd, m->destination,
						  O_PATH | O_DIRECTORY, HUSK_RESOLVE_IN_ROOT, err);
	if (tmp_fd < 0)
		return husk_err_prefix(err, "mount cgroup");
	mi = fopen("/proc/self/mountinfo", "re");
	if (!mi)
		return husk_err_sys(err, "mount cgroup on %s: read mountinfo", m->destination);
	setvbuf(mi, NULL, _IOFBF, 1 << 16); /* few reads, not one per KiB */
	while (getline(&line, &cap, mi) > 0) {
		struct v1_hier h;
		char key[300];
		if (!parse_v1_line(line, &h))
			continue;
		/* A hierarchy mounted twice on the host appears once. */
		snprintf(key, sizeof(key), ",%s,", h.controllers);
		if (strstr(seen, key))
			continue;
		if (strlen(seen) + strlen(key) < sizeof(seen))
			strcat(seen, key + 1);
		if (mount_one_v1(fs, m, &h, cgroups, tmp_fd, err) < 0)
			return -1;
	}
	return seal_tmpfs(m, tmp_fd, err);
}

static int mount_v2(struct husk_fs *fs, const struct husk_mount *m, int target,
		    struct husk_err *err)
{
	unsigned long flags = m->opts.flags & ~MS_NOT_FLAGS;
	int rc = husk_mount_on_fd(m->source ? m->source : "cgroup2", target, "cgroup2", flags,
				  m->opts.data);

	/* Without a cgroup namespace of its own, a user namespace may not
	 * mount cgroup2 (EPERM, or EBUSY): show the host's tree, as runc does. */
	if (rc < 0 && (errno == EPERM || errno == EBUSY)) {
		struct husk_mount_attr attr;
		_cleanup_close_ int tree = husk_fs_sys->open_tree(
		    AT_FDCWD, "/sys/fs/cgroup", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		husk_ms_to_attr(flags, &attr);
		rc = tree < 0 ? -1 : husk_attach(tree, target, true, attr.set, attr.clr);
	}
	if (rc < 0)
		return husk_err_sys(err, "mount cgroup2 on %s", m->destination);
	return husk_fd_check_inside(fs, target, m->destination, err);
}

int husk_fs_mount_cgroup(struct husk_fs *fs, const struct husk_mount *m, int target_fd,
			 struct husk_err *err)
{
	struct statfs sfs;
	if (husk_fs_sys->statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		return mount_v2(fs, m, target_fd, err);
	return mount_v1(fs, m, target_fd, err);
}
