/* /dev: device nodes (the defaults every container gets plus linux.devices),
 * the standard links, and /dev/ptmx. Everything is created relative to an fd
 * of the root's /dev that was opened without following any symlink and is a
 * real directory, so an image whose /dev points at a host directory gets an
 * error instead of nodes on the host. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"

/* What runc gives every container, unless linux.devices names the path. */
static const struct {
	const char *path;
	unsigned int major, minor;
} default_devices[] = {
    /* runc's order, which shows in mountinfo where they are bind mounts */
    {"/dev/null", 1, 3}, {"/dev/random", 1, 8}, {"/dev/full", 1, 7},
    {"/dev/tty", 5, 0},	 {"/dev/zero", 1, 5},	{"/dev/urandom", 1, 9},
};

static const struct {
	const char *target, *name;
} dev_links[] = {
    {"/proc/self/fd", "fd"},
    {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"},
};

int husk_fs_open_dev(int root_fd, struct husk_err *err)
{
	struct stat st;
	int fd =
	    husk_openat2(root_fd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, HUSK_RESOLVE_STRICT);
	if (fd < 0 && errno == ENOENT) {
		if (husk_fs_sys->mkdirat(root_fd, "dev", 0755) < 0 && errno != EEXIST)
			return husk_err_sys(err, "mkdir /dev in rootfs");
		fd = husk_openat2(root_fd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0,
				  HUSK_RESOLVE_STRICT);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == EXDEV))
		return husk_err_set(err, 0, "/dev in rootfs is a symlink or not a directory");
	if (fd < 0)
		return husk_err_sys(err, "open /dev in rootfs");
	if (husk_fs_sys->fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return husk_err_set(err, 0, "/dev in rootfs is a symlink or not a directory");
	}
	return fd;
}

/* runc sets up /dev unless the spec bind-mounts it from somewhere. */
static bool dev_wanted(const struct husk_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const char *d = spec->mounts[i].destination;
		while (*d == '/' && d[1] == '/')
			d++;
		if ((strcmp(d, "/dev") == 0 || strcmp(d, "/dev/") == 0) &&
		    husk_mount_is_bind(&spec->mounts[i]))
			return false;
	}
	return true;
}

/* The path relative to /dev, or NULL when it lies elsewhere. */
static const char *under_dev(const char *path)
{
	while (*path == '/')
		path++;
	if (strncmp(path, "dev/", 4) != 0)
		return NULL;
	path += 4;
	while (*path == '/')
		path++;
	return *path ? path : NULL;
}

static mode_t node_type(char type)
{
	switch (type) {
	case 'b':
		return S_IFBLK;
	case 'p':
		return S_IFIFO;
	default: /* 'c' and 'u' (unbuffered char) */
		return S_IFCHR;
	}
}

/* In a user namespace mknod is refused: bind the host's node onto an empty
 * file instead, which gives the same device with the host's permissions.
 * Nothing is executed from a device node and no set-id bit belongs on one,
 * so the bind is nosuid,noexec (crun does the same), set while it is still
 * detached so it is never visible without them. */
static int bind_host_node(int dir_fd, const char *name, const char *host_path)
{
	_cleanup_close_ int tree =
	    husk_fs_sys->open_tree(AT_FDCWD, host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -1;
	_cleanup_close_ int file = husk_fs_sys->openat(
	    dir_fd, name, O_CREAT | O_NOFOLLOW | O_WRONLY | O_CLOEXEC | O_NONBLOCK, 0);
	if (file < 0)
		return -1;
	return husk_attach(tree, file, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
}

static int make_node(int base_fd, const char *rel, uint64_t resolve, const struct husk_device *d,
		     struct husk_err *err)
{
	char parent[PATH_MAX], name[NAME_MAX + 1];
	mode_t mode = (d->has_file_mode ? d->file_mode : 0666) & 07777;

	if (husk_split_path(rel, parent, sizeof(parent), name, sizeof(name)) < 0)
		return husk_err_plain(err, EINVAL, "device %s: bad path", d->path);
	/* Most nodes sit right in /dev: no lookup needed for their parent. */
	_cleanup_close_ int opened = -1;
	int dir = base_fd;
	if (strcmp(parent, ".") != 0) {
		dir = opened = husk_mkdir_at(base_fd, parent, 0755, resolve, err);
		if (dir < 0)
			return husk_err_prefix(err, "device %s", d->path);
	}

	dev_t dev = d->type == 'p' ? 0 : makedev((unsigned int)d->major, (unsigned int)d->minor);
	if (husk_fs_sys->mknodat(dir, name, mode | node_type(d->type), dev) < 0) {
		if (errno == EEXIST)
			return 0; /* the image or a mount already has it, as runc leaves it */
		if (errno != EPERM || d->type == 'p')
			return husk_err_sys(err, "mknod %s", d->path);
		if (bind_host_node(dir, name, d->path) < 0)
			return husk_err_sys(err, "bind host device %s", d->path);
		return 0;
	}
	if ((d->has_uid || d->has_gid) &&
	    husk_fs_sys->fchownat(dir, name, d->has_uid ? d->uid : (uid_t)-1,
				  d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
		return husk_err_sys(err, "chown %s", d->path);
	return 0;
}

static int create_device(struct husk_fs *fs, int dev_fd, const struct husk_device *d,
			 struct husk_err *err)
{
	const char *rel = under_dev(d->path);
	if (rel)
		return make_node(dev_fd, rel, HUSK_RESOLVE_STRICT, d, err);
	return make_node(fs->ctx->root_fd, d->path, HUSK_RESOLVE_IN_ROOT, d, err);
}

static bool spec_has_device(const struct husk_spec *spec, const char *path)
{
	for (size_t i = 0; i < spec->linux.n_devices; i++)
		if (strcmp(spec->linux.devices[i].path, path) == 0)
			return true;
	return false;
}

static int create_devices(struct husk_fs *fs, int dev_fd, struct husk_err *err)
{
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(default_devices); i++) {
		struct husk_device d = {
		    .type = 'c',
		    .path = (char *)default_devices[i].path,
		    .major = default_devices[i].major,
		    .minor = default_devices[i].minor,
		};
		if (!spec_has_device(fs->spec, d.path) && create_device(fs, dev_fd, &d, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < fs->spec->linux.n_devices; i++) {
		const struct husk_device *d = &fs->spec->linux.devices[i];
		/* /dev/ptmx always becomes the pts/ptmx link (create_links), as with
		 * runc. A node bound from the host there (user namespace) could not
		 * be removed again: podman --privileged --uidmap lists it. */
		const char *rel = under_dev(d->path);
		if (rel && strcmp(rel, "ptmx") == 0)
			continue;
		if (create_device(fs, dev_fd, d, err) < 0)
			return husk_err_prefix(err, "linux.devices[%zu]", i);
	}
	return 0;
}

static int create_links(int dev_fd, struct husk_err *err)
{
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(dev_links); i++)
		if (husk_fs_sys->symlinkat(dev_links[i].target, dev_fd, dev_links[i].name) < 0 &&
		    errno != EEXIST)
			return husk_err_sys(err, "symlink /dev/%s", dev_links[i].name);
	/* /dev/core only where the kernel has a core image to show. */
	if (husk_fs_sys->faccessat(AT_FDCWD, "/proc/kcore", F_OK, 0) == 0 &&
	    husk_fs_sys->symlinkat("/proc/kcore", dev_fd, "core") < 0 && errno != EEXIST)
		return husk_err_sys(err, "symlink /dev/core");
	/* The devpts instance's own ptmx, not a node from the image. */
	if (husk_fs_sys->unlinkat(dev_fd, "ptmx", 0) < 0 && errno != ENOENT)
		return husk_err_sys(err, "remove /dev/ptmx");
	if (husk_fs_sys->symlinkat("pts/ptmx", dev_fd, "ptmx") < 0)
		return husk_err_sys(err, "symlink /dev/ptmx");
	return 0;
}

int husk_fs_setup_dev(struct husk_fs *fs, struct husk_err *err)
{
	if (!dev_wanted(fs->spec))
		return 0;
	_cleanup_close_ int dev_fd = husk_fs_open_dev(fs->ctx->root_fd, err);
	if (dev_fd < 0)
		return -1;
	/* Modes are the spec's, not filtered by our umask. */
	mode_t old = umask(0);
	int rc = create_devices(fs, dev_fd, err);
	umask(old);
	if (rc < 0)
		return -1;
	return create_links(dev_fd, err);
}
