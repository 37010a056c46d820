/* Root filesystem setup inside the container's mount namespace. Called by the
 * container process (process.c) in this order:
 *   husk_rootfs_prepare   before hooks: propagation, bind root, spec mounts,
 *                         /dev (devices, symlinks, devpts), all resolved by fd
 *                         inside the root
 *   husk_rootfs_bind_console  when process.terminal: pty slave onto /dev/console
 *   husk_rootfs_pivot     pivot_root (or MS_MOVE + chroot with --no-pivot)
 *   husk_rootfs_finish    sysctl, masked and read-only paths, read-only root
 * Every path that comes from config.json or the image is resolved inside the
 * rootfs without following links out of it. */
#pragma once
#include "linux/linux.h"

/* Implemented under src/linux/fs/. */

struct husk_rootfs_ctx {
	int root_fd; /* O_PATH fd of the rootfs once bound onto itself, or -1 */
	/* The rootfs directory as the runtime opened it before the clone
	 * (O_PATH, in the runtime's mount namespace), or -1. With a new mount
	 * namespace the runtime also clone3s from it as working directory, so
	 * the child starts in its own copy of it: a container root mapped to an
	 * unprivileged host uid never looks the rootfs up through host
	 * directories it may not search (a bundle under a 0700 directory). */
	int rootfs_dir_fd;
	int proc_fd; /* verified procfs handle of the container, or -1 */
	/* Bind sources the runtime opened before the clone
	 * (husk_rootfs_open_sources): source_fds[i] for spec mount i, or -1;
	 * NULL when none. prepare takes each fd it uses (sets it to -1);
	 * husk_rootfs_drop_sources closes the rest and frees the array. */
	int *source_fds;
	size_t n_source_fds;
	/* The rootfs tree the runtime cloned before the clone and idmapped
	 * before GO (annotation husk.rootfs.idmap, husk_rootfs_open_idmapped_root,
	 * husk_rootfs_idmap_root), which
	 * prepare attaches in place of binding the rootfs onto itself and takes
	 * (sets to -1); -1 when none. */
	int idmapped_root_fd;
	/* Called before a "cgroup" mount, which shows the process's own cgroup:
	 * the spawn child waits there until the runtime has moved it in. */
	int (*before_cgroup_mount)(void *arg, struct husk_err *err);
	void *before_cgroup_mount_arg;
};

void husk_rootfs_ctx_init(struct husk_rootfs_ctx *ctx);
void husk_rootfs_ctx_close(struct husk_rootfs_ctx *ctx);

int husk_rootfs_prepare(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
			struct husk_err *err);
int husk_rootfs_bind_console(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
			     int pty_slave_fd, struct husk_err *err);
int husk_rootfs_pivot(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
		      struct husk_err *err);
int husk_rootfs_finish(const struct husk_spawn_params *p, struct husk_rootfs_ctx *ctx,
		       struct husk_err *err);

/* Runtime side, just before cloning a child into a user namespace (new, or
 * joined: `container_userns` is then an fd on it, else -1): open every bind
 * source with an absolute path, idmapped where asked, with the host's
 * privileges the child will not have (a relative one against `bundle`); a
 * source the container's root may not reach (a 0700 directory) still mounts. They go in
 * ctx->source_fds, which the child gets in its copy of the context and husk_rootfs_prepare takes
 * from; husk_rootfs_drop_sources closes the runtime's copies once the child
 * is cloned (and, in the child, whatever prepare did not take). */
int husk_rootfs_open_sources(const struct husk_spec *spec, const char *bundle, int container_userns,
			     struct husk_rootfs_ctx *ctx, struct husk_err *err);
void husk_rootfs_drop_sources(struct husk_rootfs_ctx *ctx);

/* Runtime side, before the clone, with the host's privileges (annotation
 * husk.rootfs.idmap=true): the rootfs tree cloned (open_tree) into *out,
 * for the child to attach; *out stays -1 without the annotation. */
int husk_rootfs_open_idmapped_root(const struct husk_spawn_params *p, int *out,
				   struct husk_err *err);
/* Runtime side, once it wrote the maps of child `pid` and before GO: that
 * tree (the runtime's copy of the child's fd, the same mount) idmapped with
 * the child's user namespace; nothing when `tree` is -1. An error names
 * the filesystem where the kernel refuses. */
int husk_rootfs_idmap_root(const struct husk_spawn_params *p, int tree, pid_t pid,
			   struct husk_err *err);
/* Close ctx->idmapped_root_fd (the runtime's copy once the child is
 * cloned, or the child's when prepare did not take it). */
void husk_rootfs_drop_idmapped_root(struct husk_rootfs_ctx *ctx);
