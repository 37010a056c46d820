/* The four entry points the container process calls (see linux/rootfs.h),
 * each a short recipe of steps implemented by facility in this directory. */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

void husk_rootfs_ctx_init(struct husk_rootfs_ctx *ctx)
{
	ctx->root_fd = -1;
	ctx->rootfs_dir_fd = -1;
	ctx->proc_fd = -1;
	ctx->source_fds = NULL;
	ctx->n_source_fds = 0;
	ctx->idmapped_root_fd = -1;
	ctx->before_cgroup_mount = NULL;
	ctx->before_cgroup_mount_arg = NULL;
}

void husk_rootfs_ctx_close(struct husk_rootfs_ctx *ctx)
{
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	if (ctx->rootfs_dir_fd >= 0)
		close(ctx->rootfs_dir_fd);
	husk_rootfs_drop_sources(ctx);
	husk_rootfs_drop_idmapped_root(ctx);
	husk_rootfs_ctx_init(ctx);
}

void husk_fs_init(struct husk_fs *fs, const struct husk_spawn_params *p,
		  struct husk_rootfs_ctx *ctx)
{
	fs->p = p;
	fs->spec = p->spec;
	fs->ctx = ctx;
	fs->userns = p->spec->linux.ns[HUSK_NS_USER].enabled;
	fs->root_path[0] = '\0';
	husk_mount_probe();
}

/* The root's own name (read from its fd, so symlinks in the configured
 * path do not matter), which the post-mount checks compare against. Only
 * meaningful before pivot_root. */
int husk_fs_read_root_path(struct husk_fs *fs, struct husk_err *err)
{
	char link[32];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fs->ctx->root_fd);
	ssize_t n =
	    husk_fs_sys->readlinkat(AT_FDCWD, link, fs->root_path, sizeof(fs->root_path) - 1);
	if (n < 0)
		return husk_err_sys(err, "rootfs %s: read its path", fs->p->rootfs);
	fs->root_path[n] = '\0';
	return 0;
}

static int need_root(const struct husk_rootfs_ctx *ctx, struct husk_err *err)
{
	if (ctx->root_fd < 0)
		return husk_err_set(err, EBADF, "rootfs not prepared");
	return 0;
}

/* process.cwd may be missing from the image: create it (as runc does) while
 * the root can still be written, inside the root like any other path. */
static int make_cwd(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_process *proc = fs->spec->process;
	if (!proc || !proc->cwd || !*proc->cwd || strcmp(proc->cwd, "/") == 0)
		return 0;
	int fd = husk_mkdir_at(fs->ctx->root_fd, proc->cwd, 0755, HUSK_RESOLVE_IN_ROOT, err);
	if (fd < 0)
		return husk_err_prefix(err, "process.cwd");
	close(fd);
	return 0;
}

/* The spec may leave the mount namespace out: the container then inherits
 * the runtime's, as runtime-spec requires of any namespace type not listed.
 * Every mount would land on the host and outlive the container (runc and
 * youki leak them there), so husk mounts nothing: the container gets the
 * image as it is on disk, entered with chroot. */
static bool has_mount_ns(const struct husk_spawn_params *p)
{
	return p->spec->linux.ns[HUSK_NS_MOUNT].enabled;
}

static int prepare_without_mount_ns(struct husk_fs *fs, struct husk_err *err)
{
	const struct husk_linux *l = &fs->spec->linux;

	/* sysctls go through the container's own procfs, which needs a mount */
	if (l->sysctl.n > 0)
		return husk_err_plain(err, EINVAL,
				      "linux.sysctl: setting sysctls needs a mount namespace "
				      "(linux.namespaces has no \"mount\")");
	/* Said, not skipped silently: what the config asks that this leaves out. */
	if (fs->spec->n_mounts || l->masked_paths.n || l->readonly_paths.n)
		husk_warn("no mount namespace: %s entered with chroot; its %zu mounts, "
			  "masked and read-only paths are not applied (they would be "
			  "host mounts)",
			  fs->p->rootfs, fs->spec->n_mounts);
	/* No mount namespace: the runtime's fd names the very directory. */
	fs->ctx->root_fd =
	    fs->ctx->rootfs_dir_fd >= 0
		? fcntl(fs->ctx->rootfs_dir_fd, F_DUPFD_CLOEXEC, 0)
		: husk_fs_sys->openat(AT_FDCWD, fs->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fs->ctx->root_fd < 0)
		return husk_err_sys(err, "open rootfs %s", fs->p->rootfs);
	return make_cwd(fs, err);
}

int husk_rootfs_prepare(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
			struct husk_err *err)
{
	struct husk_fs fs;

	husk_fs_init(&fs, p, ctx);
	if (!has_mount_ns(p))
		return prepare_without_mount_ns(&fs, err);
	if (husk_fs_prepare_root(&fs, err) < 0 || husk_fs_read_root_path(&fs, err) < 0)
		return -1;
	if (husk_fs_mount_all(&fs, err) < 0)
		return -1;
	if (husk_fs_setup_dev(&fs, err) < 0)
		return -1;
	return make_cwd(&fs, err);
}

int husk_rootfs_bind_console(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
			     int pty_slave_fd, struct husk_err *err)
{
	struct husk_fs fs;

	husk_fs_init(&fs, p, ctx);
	if (!has_mount_ns(p))
		return 0; /* binding it on /dev/console would be a host mount */
	if (need_root(ctx, err) < 0 || husk_fs_read_root_path(&fs, err) < 0)
		return -1;
	return husk_fs_bind_console(&fs, pty_slave_fd, err);
}

int husk_rootfs_pivot(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
		      struct husk_err *err)
{
	struct husk_fs fs;

	husk_fs_init(&fs, p, ctx);
	if (need_root(ctx, err) < 0)
		return -1;
	if (!has_mount_ns(p))
		return husk_fs_chroot(&fs, err);
	return husk_fs_pivot(&fs, err);
}

/* After pivot_root: the root is "/" and host paths are gone; everything
 * goes through root_fd and proc_fd. runc's order: sysctl, read-only paths,
 * masked paths, then the read-only root. */
int husk_rootfs_finish(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
		       struct husk_err *err)
{
	struct husk_fs fs;

	husk_fs_init(&fs, p, ctx);
	if (need_root(ctx, err) < 0)
		return -1;
	if (!has_mount_ns(p))
		return 0;
	if (husk_fs_sysctl(&fs, err) < 0)
		return -1;
	if (husk_fs_readonly_paths(&fs, err) < 0)
		return -1;
	if (husk_fs_masked_paths(&fs, err) < 0)
		return -1;
	return husk_fs_readonly_root(&fs, err);
}
