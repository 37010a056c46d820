/* An idmapped rootfs (annotation husk.rootfs.idmap=true): the image, owned
 * by host uid 0 as extracted, appears owned by the container's root through
 * an idmapped mount of the container's own mappings. Nothing is chowned or
 * copied; the host's files keep their owners. The kernel lets only a
 * process with CAP_SYS_ADMIN over the filesystem's user namespace idmap a
 * mount, which the container (in its own user namespace) never has: the
 * runtime clones the tree before the clone of the child (child_prepare,
 * process.c), the fd travels in the hand-off (struct husk_rootfs_ctx), the
 * runtime idmaps it on its own copy of that fd with the child's user
 * namespace once it has written the maps and before it lets the child go
 * on (parent_setup_child), and the child attaches it where it would
 * otherwise bind the rootfs onto itself (pivot.c). */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define ANNOTATION "husk.rootfs.idmap"

static const char *annotation(const struct husk_spec *s, const char *key)
{
	for (size_t i = 0; i < s->annotations.n; i++)
		if (strcmp(s->annotations.v[i].key, key) == 0)
			return s->annotations.v[i].value;
	return NULL;
}

/* The filesystem's name for the error: the common ones by magic number. */
static const char *fs_name(unsigned long magic, char *buf, size_t len)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} known[] = {
	    {EXT4_SUPER_MAGIC, "ext4"},	   {TMPFS_MAGIC, "tmpfs"},
	    {RAMFS_MAGIC, "ramfs"},	   {OVERLAYFS_SUPER_MAGIC, "overlayfs"},
	    {BTRFS_SUPER_MAGIC, "btrfs"},  {XFS_SUPER_MAGIC, "xfs"},
	    {NFS_SUPER_MAGIC, "nfs"},	   {SQUASHFS_MAGIC, "squashfs"},
	    {FUSE_SUPER_MAGIC, "fuse"},	   {V9FS_MAGIC, "9p"},
	    {0x6a656a63, "virtiofs/fuse"},
	};
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(known); i++)
		if (known[i].magic == magic)
			return known[i].name;
	snprintf(buf, len, "filesystem type 0x%lx", magic);
	return buf;
}

static int refuse(const struct husk_spawn_params *p, int tree, int code, struct husk_err *err)
{
	struct statfs sfs;
	char buf[48];
	const char *name = fstatfs(tree, &sfs) == 0
			       ? fs_name((unsigned long)sfs.f_type, buf, sizeof(buf))
			       : "unknown filesystem";

	return husk_err_set(
	    err, code,
	    "annotation " ANNOTATION ": rootfs %s is on %s, which cannot be "
	    "idmapped here; move the image to a filesystem that can (ext4, "
	    "xfs, btrfs; tmpfs from Linux 6.3), chown it to the container's host range, or "
	    "remove the annotation and choose the identity map knowingly",
	    p->rootfs, name);
}

/* The tree of the rootfs, cloned: idmapped once the container's user
 * namespace has its maps (husk_rootfs_idmap_root). */
static int open_root_tree(const struct husk_spawn_params *p, int *out, struct husk_err *err)
{
	int tree =
	    open_tree(AT_FDCWD, p->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	/* The kernel idmaps a mount only for CAP_SYS_ADMIN over the filesystem's
	 * user namespace: a rootless caller has it over no filesystem the host
	 * mounted. Say so rather than name the syscall. */
	if (tree < 0 && errno == EPERM && geteuid() != 0)
		return husk_err_set(err, EPERM,
				    "annotation " ANNOTATION
				    ": rootfs %s: an unprivileged user cannot "
				    "idmap a filesystem the host mounted (the kernel asks for "
				    "CAP_SYS_ADMIN over it); rootless containers map your own ids, "
				    "so own the image yourself and remove the annotation",
				    p->rootfs);
	if (tree < 0)
		return husk_err_sys(err, "idmap rootfs %s: open_tree", p->rootfs);
	*out = tree;
	return 0;
}

/* The container's own user namespace holds exactly its maps once the
 * runtime wrote them: no helper process and namespace of our own for them.
 * The idmapped mount keeps that namespace alive as long as it lives. */
static int idmap_root(const struct husk_spawn_params *p, int tree, pid_t pid, struct husk_err *err)
{
	_cleanup_close_ int proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (proc_fd < 0 || husk_procfs_check(proc_fd) < 0)
		return husk_err_sys(err, "idmap rootfs: open /proc");
	_cleanup_close_ int userns = husk_userns_of_child(proc_fd, pid);
	if (userns < 0)
		return husk_err_sys(err, "idmap rootfs %s: open the user namespace of %d",
				    p->rootfs, (int)pid);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return refuse(p, tree, errno, err);
	return 0;
}

int husk_rootfs_idmap_root(const struct husk_spawn_params *p, int tree, pid_t pid,
			   struct husk_err *err)
{
	if (tree < 0)
		return 0;
	/* Traced on its own (--debug): the idmap's cost, which `make bench`
	 * (bench/README.md, section userns) reports. */
	return husk_traced("idmap rootfs", p->rootfs, idmap_root(p, tree, pid, err));
}

int husk_rootfs_open_idmapped_root(const struct husk_spawn_params *p, int *out,
				   struct husk_err *err)
{
	const struct husk_linux *l = &p->spec->linux;
	const char *want = annotation(p->spec, ANNOTATION);

	*out = -1;
	if (!want || strcmp(want, "false") == 0)
		return 0;
	if (strcmp(want, "true") != 0)
		return husk_err_plain(err, EINVAL,
				      "annotation " ANNOTATION ": \"%s\" is neither true nor false",
				      want);
	if (!husk_userns_is_new(p->spec) || !l->n_uid_mappings || !l->n_gid_mappings)
		return husk_err_plain(
		    err, EINVAL,
		    "annotation " ANNOTATION ": needs a new user namespace with "
		    "linux.uidMappings and linux.gidMappings (or husk.userns=auto)");
	if (!l->ns[HUSK_NS_MOUNT].enabled)
		return husk_err_plain(err, EINVAL,
				      "annotation " ANNOTATION ": needs a mount namespace");
	return husk_traced("rootfs tree", p->rootfs, open_root_tree(p, out, err));
}

void husk_rootfs_drop_idmapped_root(struct husk_rootfs_ctx *ctx)
{
	if (ctx->idmapped_root_fd >= 0)
		close(ctx->idmapped_root_fd);
	ctx->idmapped_root_fd = -1;
}
