/* The real kernel calls behind the seam in sys.h. Calls glibc declares
 * variadic or does not wrap get a small adapter with the table's type. */
#include "linux/fs/sys.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

static int real_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

static int real_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, size);
}

static int real_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

const struct husk_fs_sys husk_fs_sys_real = {
    .mount = mount,
    .umount2 = umount2,
    .fsopen = fsopen,
    .fsconfig = fsconfig,
    .fsmount = fsmount,
    .open_tree = open_tree,
    .move_mount = move_mount,
    .mount_setattr = mount_setattr,
    .pivot_root = real_pivot_root,
    .chroot = chroot,
    .chdir = chdir,
    .fchdir = fchdir,
    .openat2 = real_openat2,
    .openat = real_openat,
    .mkdirat = mkdirat,
    .mknodat = mknodat,
    .symlinkat = symlinkat,
    .readlinkat = readlinkat,
    .unlinkat = unlinkat,
    .faccessat = faccessat,
    .fchownat = fchownat,
    .fchmodat = fchmodat,
    .fchown = fchown,
    .fchmod = fchmod,
    .fstat = fstat,
    .fstatat = fstatat,
    .statx = statx,
    .statfs = statfs,
    .fstatfs = fstatfs,
    .fstatvfs = fstatvfs,
};

/* Weak: a unit test's own definition replaces it (see sys.h). */
__attribute__((weak)) const struct husk_fs_sys *const husk_fs_sys = &husk_fs_sys_real;
