/* Internal interface of the rootfs code (src/linux/fs/). Each facility lives
 * in its own file; rootfs.c strings them together in the order the container
 * process needs them.
 *
 * Decisions:
 * - Every path that comes from config.json or the image is resolved by fd
 *   inside the rootfs (openat2 RESOLVE_IN_ROOT; /dev and procfs with no
 *   symlinks at all), never by a host path lookup. Missing directories are
 *   made with mkdirat() in their resolved parent's fd.
 * - Mounts go onto that fd: binds and fresh procfs/tmpfs are built detached
 *   (open_tree/fsmount), get their flags while detached, and are attached
 *   with move_mount(); other filesystems use one mount(2) on
 *   /proc/self/fd/N. After attaching, the fd's path is checked to still lie
 *   inside the root (CVE-2021-30465).
 * - Flags are changed with mount_setattr(), which only touches the named
 *   ones, so flags a source has locked are kept without reading them first.
 * - Needs the new mount API (open_tree, move_mount, fsopen: Linux 5.2+).
 *   Without openat2 (5.6) a userspace resolver (resolve.c) takes over;
 *   without mount_setattr (5.12) flags change by classic remount once a
 *   mount is attached, and "rro"-style options and idmapped mounts are
 *   refused. Tests force both fallbacks. */
#pragma once
/* gnu17 predefines `linux` as 1, which would eat struct husk_spec's member. */
#undef linux
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "linux/fs/sys.h"
#include "linux/rootfs.h"

/* Resolution inside the container root: symlinks are followed but scoped to
 * the root (as if chrooted), and magic /proc links are refused. */
#define HUSK_RESOLVE_IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
/* Resolution under a directory we own (/dev, procfs): no symlinks at all. */
#define HUSK_RESOLVE_STRICT (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* State shared by the steps of one husk_rootfs_* call. */
struct husk_fs {
	const struct husk_spawn_params *p;
	const struct husk_spec *spec;
	struct husk_rootfs_ctx *ctx;
	bool userns;		  /* the container has its own user namespace */
	char root_path[PATH_MAX]; /* the root as the kernel names it, for re-checks */
};

void husk_fs_init(struct husk_fs *fs, const struct husk_spawn_params *p,
		  struct husk_rootfs_ctx *ctx);
int husk_fs_read_root_path(struct husk_fs *fs, struct husk_err *err);

/* fdpath.c: open and create by fd, never leaving the directory given.
 * husk_openat2 uses openat2(2), or resolve.c where the kernel (or a seccomp
 * filter) lacks it; tests set husk_fdpath_no_openat2 to force that path. */
extern bool husk_fdpath_no_openat2;
int husk_resolve_fallback(int dirfd, const char *path, uint64_t flags, mode_t mode,
			  uint64_t resolve);
int husk_openat2(int dirfd, const char *path, uint64_t flags, mode_t mode, uint64_t resolve);
int husk_open_at(int dirfd, const char *path, uint64_t flags, uint64_t resolve,
		 struct husk_err *err);
int husk_mkdir_at(int dirfd, const char *path, mode_t mode, uint64_t resolve, struct husk_err *err);
int husk_mkfile_at(int dirfd, const char *path, mode_t mode, uint64_t resolve,
		   struct husk_err *err);
int husk_split_path(const char *path, char *parent, size_t plen, char *base, size_t blen);
void husk_unescape_mountinfo(char *s);
int husk_fd_root_path(const struct husk_fs *fs, int fd, const char *dest, char *out, size_t len,
		      struct husk_err *err);
int husk_fd_check_inside(const struct husk_fs *fs, int fd, const char *dest, struct husk_err *err);

/* mountapi.c: thin wrappers over the new mount API and classic mount(2). */
struct husk_mount_attr {
	uint64_t set;
	uint64_t clr;
};
void husk_ms_to_attr(unsigned long ms, struct husk_mount_attr *out);
int husk_mount_on_fd(const char *source, int target_fd, const char *type, unsigned long flags,
		     const char *data);
int husk_move_onto(int tree_fd, int target_fd);
/* Without mount_setattr() (Linux < 5.12, or set by tests) flags change by
 * classic remount, once attached, and on the top mount only. */
extern bool husk_mount_no_setattr;
void husk_mount_probe(void);
unsigned long husk_mount_flags(int mnt_fd);
int husk_mount_setattr(int mnt_fd, bool recursive, uint64_t set, uint64_t clr);
int husk_attach(int tree_fd, int target_fd, bool recursive, uint64_t set, uint64_t clr);
int husk_mount_propagate(int mnt_fd, unsigned long ms_prop);
int husk_fs_configure(int fs_fd, const char *source, const char *data);
int husk_fs_new_mount(const char *type, const char *source, const char *data,
		      unsigned long ms_flags);

/* mounts.c: the spec's mounts, in order. */
int husk_fs_mount_all(struct husk_fs *fs, struct husk_err *err);
bool husk_mount_is_bind(const struct husk_mount *m);
int husk_bind_source_tree(const struct husk_spawn_params *p, const struct husk_mount *m,
			  struct husk_err *err);
int husk_bind_tree_flags(const struct husk_mount *m, int tree);

/* idmap.c */
bool husk_mount_is_idmapped(const struct husk_mount *m);
int husk_idmap_tree(const struct husk_spec *spec, const struct husk_mount *m, int tree,
		    int container_userns, int proc_fd, struct husk_err *err);

/* copyup.c: tmpcopyup */
int husk_copyup_open(int target_fd);
int husk_copyup(int covered_fd, int tmpfs_fd);

/* cgroupfs.c: a "cgroup" mount (usually /sys/fs/cgroup). */
int husk_fs_mount_cgroup(struct husk_fs *fs, const struct husk_mount *m, int target_fd,
			 struct husk_err *err);

/* devices.c: nodes and links under /dev. */
int husk_fs_open_dev(int root_fd, struct husk_err *err);
int husk_fs_setup_dev(struct husk_fs *fs, struct husk_err *err);

/* console.c */
int husk_fs_bind_console(struct husk_fs *fs, int pty_slave_fd, struct husk_err *err);

/* pivot.c */
int husk_fs_prepare_root(struct husk_fs *fs, struct husk_err *err);
int husk_fs_pivot(struct husk_fs *fs, struct husk_err *err);
/* No mount namespace of its own: enter the root with chroot alone. */
int husk_fs_chroot(struct husk_fs *fs, struct husk_err *err);

/* procfs.c: a verified handle on the container's procfs. */
int husk_procfs_handle(struct husk_fs *fs, struct husk_err *err);
int husk_procfs_check(int fd);

/* sysctl.c */
int husk_fs_sysctl(struct husk_fs *fs, struct husk_err *err);

/* masked.c: maskedPaths, readonlyPaths, root.readonly */
int husk_fs_readonly_paths(struct husk_fs *fs, struct husk_err *err);
int husk_fs_masked_paths(struct husk_fs *fs, struct husk_err *err);
int husk_fs_readonly_root(struct husk_fs *fs, struct husk_err *err);

/* A user namespace holding these maps (idmap.c), for MOUNT_ATTR_IDMAP; -1
 * with errno on failure. `proc_fd` is the host's /proc. */
int husk_userns_with_maps(int proc_fd, const struct husk_id_map *uids, size_t n_uids,
			  const struct husk_id_map *gids, size_t n_gids);
/* The user namespace of `pid`, a child of ours, read-only fd; -1 with
 * errno. `proc_fd` is the host's /proc (any pid namespace's). */
int husk_userns_of_child(int proc_fd, pid_t pid);
