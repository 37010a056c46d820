/* Thin wrappers over the mount syscalls. Mounts go onto an fd that was
 * resolved inside the root: move_mount() to the fd itself for trees built
 * with open_tree()/fsmount(), or classic mount(2) on /proc/self/fd/N, which
 * the kernel resolves to exactly that fd's place (one syscall, no path in the
 * container is looked up again). */
#include "linux/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "util/cleanup.h"

/* Per-mount MS_* flags as MOUNT_ATTR_* bits for mount_setattr()/fsmount().
 * Atime modes are one field: set one value only when the caller named one. */
void husk_ms_to_attr(unsigned long ms, struct husk_mount_attr *out)
{
	out->set = 0;
	out->clr = 0;
	if (ms & MS_RDONLY)
		out->set |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		out->set |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		out->set |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		out->set |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		out->set |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOSYMFOLLOW)
		out->set |= MOUNT_ATTR_NOSYMFOLLOW;
	if (ms & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
		out->clr |= MOUNT_ATTR__ATIME;
		if (ms & MS_NOATIME)
			out->set |= MOUNT_ATTR_NOATIME;
		else if (ms & MS_STRICTATIME)
			out->set |= MOUNT_ATTR_STRICTATIME;
	}
}

int husk_mount_on_fd(const char *source, int target_fd, const char *type, unsigned long flags,
		     const char *data)
{
	char target[32];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
	return husk_fs_sys->mount(source, target, type, flags, data);
}

int husk_move_onto(int tree_fd, int target_fd)
{
	return husk_fs_sys->move_mount(tree_fd, "", target_fd, "",
				       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

bool husk_mount_no_setattr;

/* mount_setattr() came with Linux 5.12; older kernels (Debian 11 has 5.10)
 * get classic remounts instead. Probed once: a bad fd answers EBADF where
 * the call exists. */
void husk_mount_probe(void)
{
	static bool probed;
	if (probed)
		return;
	probed = true;
	if (husk_fs_sys->mount_setattr(-1, "", 0, NULL, 0) < 0 && errno == ENOSYS)
		husk_mount_no_setattr = true;
}

/* The per-mount MS_* flags the mount has now (statvfs reports them). */
unsigned long husk_mount_flags(int mnt_fd)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
	    {ST_RDONLY, MS_RDONLY},	{ST_NOSUID, MS_NOSUID},	  {ST_NODEV, MS_NODEV},
	    {ST_NOEXEC, MS_NOEXEC},	{ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
	    {ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long ms = 0;

	if (husk_fs_sys->fstatvfs(mnt_fd, &sv) < 0)
		return 0;
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(map); i++)
		if (sv.f_flag & map[i].st)
			ms |= map[i].ms;
	if (!(ms & (MS_NOATIME | MS_RELATIME)))
		ms |= MS_STRICTATIME;
	return ms;
}

/* mount_setattr() by classic bind remount of the (attached) mount the fd
 * names: its current flags with `set`/`clr` applied, so the flags it has
 * (locked ones included) are kept as with mount_setattr(). Top mount only. */
static int remount_flags(int mnt_fd, uint64_t set, uint64_t clr)
{
	static const struct {
		uint64_t attr;
		unsigned long ms;
	} map[] = {
	    {MOUNT_ATTR_RDONLY, MS_RDONLY},	    {MOUNT_ATTR_NOSUID, MS_NOSUID},
	    {MOUNT_ATTR_NODEV, MS_NODEV},	    {MOUNT_ATTR_NOEXEC, MS_NOEXEC},
	    {MOUNT_ATTR_NODIRATIME, MS_NODIRATIME},
	};
	unsigned long ms = husk_mount_flags(mnt_fd);

	for (size_t i = 0; i < HUSK_ARRAY_SIZE(map); i++) {
		if (clr & map[i].attr)
			ms &= ~map[i].ms;
		if (set & map[i].attr)
			ms |= map[i].ms;
	}
	if (clr & MOUNT_ATTR__ATIME) {
		uint64_t atime = set & MOUNT_ATTR__ATIME;
		ms &= ~(unsigned long)(MS_NOATIME | MS_STRICTATIME | MS_RELATIME);
		ms |= atime == MOUNT_ATTR_NOATIME	? MS_NOATIME
		      : atime == MOUNT_ATTR_STRICTATIME ? MS_STRICTATIME
							: MS_RELATIME;
	}
	return husk_mount_on_fd(NULL, mnt_fd, NULL, MS_REMOUNT | MS_BIND | ms, NULL);
}

int husk_mount_setattr(int mnt_fd, bool recursive, uint64_t set, uint64_t clr)
{
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
	if (set == 0 && clr == 0)
		return 0;
	if (husk_mount_no_setattr)
		return remount_flags(mnt_fd, set, clr);
	return husk_fs_sys->mount_setattr(
	    mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr));
}

/* Set flags on a detached tree and attach it onto target_fd. Without
 * mount_setattr() the flags can only be changed once it is attached. */
int husk_attach(int tree_fd, int target_fd, bool recursive, uint64_t set, uint64_t clr)
{
	if (!husk_mount_no_setattr && husk_mount_setattr(tree_fd, recursive, set, clr) < 0)
		return -1;
	if (husk_move_onto(tree_fd, target_fd) < 0)
		return -1;
	return husk_mount_no_setattr ? husk_mount_setattr(tree_fd, recursive, set, clr) : 0;
}

/* Apply each propagation type named in ms_prop (MS_REC makes them recursive). */
int husk_mount_propagate(int mnt_fd, unsigned long ms_prop)
{
	static const unsigned long kinds[] = {MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE};
	unsigned int flags = AT_EMPTY_PATH | ((ms_prop & MS_REC) ? AT_RECURSIVE : 0);

	for (size_t i = 0; i < HUSK_ARRAY_SIZE(kinds); i++) {
		struct mount_attr attr = {.propagation = kinds[i]};
		if (!(ms_prop & kinds[i]))
			continue;
		int rc =
		    husk_mount_no_setattr
			? husk_mount_on_fd(NULL, mnt_fd, NULL, kinds[i] | (ms_prop & MS_REC), NULL)
			: husk_fs_sys->mount_setattr(mnt_fd, "", flags, &attr, sizeof(attr));
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Feed a comma-separated option string to a filesystem context, one
 * key[=value] per fsconfig() call, the way mount(2) would have split it. */
int husk_fs_configure(int fs_fd, const char *source, const char *data)
{
	if (source && husk_fs_sys->fsconfig(fs_fd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return -1;
	if (data && *data) {
		_cleanup_free_ char *copy = strdup(data);
		char *save = NULL;
		if (!copy)
			return -1;
		for (char *opt = strtok_r(copy, ",", &save); opt;
		     opt = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(opt, '=');
			int rc;
			if (eq) {
				*eq = '\0';
				rc = husk_fs_sys->fsconfig(fs_fd, FSCONFIG_SET_STRING, opt, eq + 1,
							   0);
			} else {
				rc = husk_fs_sys->fsconfig(fs_fd, FSCONFIG_SET_FLAG, opt, NULL, 0);
			}
			if (rc < 0)
				return -1;
		}
	}
	return husk_fs_sys->fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
}

/* A new, detached mount of a fresh superblock: the fd is both what gets
 * attached with move_mount() and a handle no later lookup can redirect. */
int husk_fs_new_mount(const char *type, const char *source, const char *data,
		      unsigned long ms_flags)
{
	struct husk_mount_attr attr;
	_cleanup_close_ int fs_fd = husk_fs_sys->fsopen(type, FSOPEN_CLOEXEC);

	if (fs_fd < 0 || husk_fs_configure(fs_fd, source, data) < 0)
		return -1;
	husk_ms_to_attr(ms_flags, &attr);
	return husk_fs_sys->fsmount(fs_fd, FSMOUNT_CLOEXEC, (unsigned int)attr.set);
}
