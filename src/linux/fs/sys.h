/* The seam between the rootfs code (src/linux/fs/) and the kernel: every
 * mount-API call and every path call by fd goes through `husk_fs_sys`, a
 * table of function pointers with the libc signatures.
 *
 * In husk it points at husk_fs_sys_real (the real calls; both pointer and
 * table are const, so nothing mutable crosses the clone and the cost is one
 * indirect call per syscall). The definition in sys.c is weak: a unit test
 * defines its own `husk_fs_sys` pointing at a recording fake
 * (tests/unit/fs_fake.c), which logs each call with its arguments as text
 * and answers from a script, so the mount and rootfs logic runs without
 * root and without touching the host. See docs/design.md.
 *
 * Plain file I/O (read, write, close, directory listing) is not in the
 * table: a fake fd is a number no real fd has, so closing it is harmless. */
#pragma once
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/vfs.h>

struct open_how;

struct husk_fs_sys {
	/* mounts: classic and the new mount API */
	int (*mount)(const char *source, const char *target, const char *type, unsigned long flags,
		     const void *data);
	int (*umount2)(const char *target, int flags);
	int (*fsopen)(const char *type, unsigned int flags);
	int (*fsconfig)(int fd, unsigned int cmd, const char *key, const void *value, int aux);
	int (*fsmount)(int fd, unsigned int flags, unsigned int attr);
	int (*open_tree)(int dirfd, const char *path, unsigned int flags);
	int (*move_mount)(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
			  unsigned int flags);
	int (*mount_setattr)(int dirfd, const char *path, unsigned int flags,
			     struct mount_attr *attr, size_t size);
	int (*pivot_root)(const char *new_root, const char *put_old);
	int (*chroot)(const char *path);
	int (*chdir)(const char *path);
	int (*fchdir)(int fd);
	/* paths by fd */
	int (*openat2)(int dirfd, const char *path, struct open_how *how, size_t size);
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	int (*mkdirat)(int dirfd, const char *path, mode_t mode);
	int (*mknodat)(int dirfd, const char *path, mode_t mode, dev_t dev);
	int (*symlinkat)(const char *target, int dirfd, const char *path);
	ssize_t (*readlinkat)(int dirfd, const char *path, char *buf, size_t len);
	int (*unlinkat)(int dirfd, const char *path, int flags);
	int (*faccessat)(int dirfd, const char *path, int mode, int flags);
	int (*fchownat)(int dirfd, const char *path, uid_t uid, gid_t gid, int flags);
	int (*fchmodat)(int dirfd, const char *path, mode_t mode, int flags);
	int (*fchown)(int fd, uid_t uid, gid_t gid);
	int (*fchmod)(int fd, mode_t mode);
	/* what is there */
	int (*fstat)(int fd, struct stat *st);
	int (*fstatat)(int dirfd, const char *path, struct stat *st, int flags);
	int (*statx)(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx);
	int (*statfs)(const char *path, struct statfs *sfs);
	int (*fstatfs)(int fd, struct statfs *sfs);
	int (*fstatvfs)(int fd, struct statvfs *sv);
};

extern const struct husk_fs_sys husk_fs_sys_real;
extern const struct husk_fs_sys *const husk_fs_sys;
