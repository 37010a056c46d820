/* The recording fake of src/linux/fs/sys.h; see fs_fake.h. */
#include "fs_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#define MAX_NODES 256
#define MAX_FDS	  512
#define FD_BASE	  1000
#define LOG_SIZE  65536

struct node {
	char path[256];
	mode_t mode;
	dev_t rdev;
	char target[256]; /* symlinks */
};

struct fake_fd {
	char path[256]; /* a place in the model, or what a detached mount holds */
	bool detached;	/* open_tree()/fsmount(): a mount, not a place */
	long fs_type;	/* what fstatfs() says; 0: ext4-like */
};

static struct node nodes[MAX_NODES];
static size_t n_nodes;
static struct fake_fd fds[MAX_FDS];
static size_t n_fds;
static char log_buf[LOG_SIZE];
static size_t log_len;
static char fail_prefix[256];
static int fail_errno;

void fake_reset(void)
{
	n_nodes = n_fds = log_len = 0;
	log_buf[0] = '\0';
	fail_prefix[0] = '\0';
}

static struct node *lookup(const char *path)
{
	for (size_t i = 0; i < n_nodes; i++)
		if (strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	return NULL;
}

static struct node *add(const char *path, mode_t mode)
{
	struct node *n = lookup(path);
	if (!n) {
		if (n_nodes == MAX_NODES)
			abort();
		n = &nodes[n_nodes++];
	}
	memset(n, 0, sizeof(*n));
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->mode = mode;
	return n;
}

void fake_dir(const char *path, mode_t mode)
{
	add(path, S_IFDIR | mode);
}

void fake_file(const char *path)
{
	add(path, S_IFREG | 0644);
}

void fake_chr(const char *path, unsigned int major, unsigned int minor)
{
	add(path, S_IFCHR | 0666)->rdev = makedev(major, minor);
}

void fake_link(const char *path, const char *target)
{
	snprintf(add(path, S_IFLNK | 0777)->target, sizeof(nodes[0].target), "%s", target);
}

bool fake_exists(const char *path)
{
	return lookup(path) != NULL;
}

void fake_fail(const char *prefix, int err)
{
	snprintf(fail_prefix, sizeof(fail_prefix), "%s", prefix);
	fail_errno = err;
}

static int new_fd(const char *path, bool detached, long fs_type)
{
	if (n_fds == MAX_FDS)
		abort();
	struct fake_fd *f = &fds[n_fds];
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->detached = detached;
	f->fs_type = fs_type;
	return FD_BASE + (int)n_fds++;
}

int fake_open_fd(const char *path)
{
	return new_fd(path, false, 0);
}

static struct fake_fd *fd_of(int fd)
{
	if (fd < FD_BASE || fd >= FD_BASE + (int)n_fds)
		return NULL;
	return &fds[fd - FD_BASE];
}

/* ---- the log --------------------------------------------------------------- */

struct bit {
	unsigned long v;
	const char *name;
};
#define B(x)                                                                                       \
	{                                                                                          \
		x, #x                                                                              \
	}

static const struct bit ms_bits[] = {
    B(MS_RDONLY),     B(MS_NOSUID),	B(MS_NODEV),   B(MS_NOEXEC),	  B(MS_REMOUNT),
    B(MS_BIND),	      B(MS_REC),	B(MS_MOVE),    B(MS_PRIVATE),	  B(MS_SLAVE),
    B(MS_SHARED),     B(MS_UNBINDABLE), B(MS_NOATIME), B(MS_STRICTATIME), B(MS_RELATIME),
    B(MS_NODIRATIME), {0, NULL},
};
static const struct bit attr_bits[] = {
    B(MOUNT_ATTR_RDONLY),      B(MOUNT_ATTR_NOSUID),
    B(MOUNT_ATTR_NODEV),       B(MOUNT_ATTR_NOEXEC),
    B(MOUNT_ATTR_NOATIME),     B(MOUNT_ATTR_STRICTATIME),
    B(MOUNT_ATTR_NODIRATIME),  B(MOUNT_ATTR_IDMAP),
    B(MOUNT_ATTR_NOSYMFOLLOW), {0, NULL},
};
static const struct bit prop_bits[] = {
    B(MS_PRIVATE), B(MS_SLAVE), B(MS_SHARED), B(MS_UNBINDABLE), {0, NULL},
};
/* O_CLOEXEC and the *_CLOEXEC flags are left out: every call has them. */
static const struct bit at_bits[] = {
    B(OPEN_TREE_CLONE), B(AT_RECURSIVE), B(AT_EMPTY_PATH), B(AT_SYMLINK_NOFOLLOW), {0, NULL},
};
static const struct bit open_bits[] = {
    B(O_WRONLY), B(O_RDWR),	 B(O_CREAT),	B(O_EXCL), B(O_NOFOLLOW),
    B(O_PATH),	 B(O_DIRECTORY), B(O_NONBLOCK), {0, NULL},
};
static const struct bit resolve_bits[] = {
    B(RESOLVE_IN_ROOT),	      B(RESOLVE_BENEATH), B(RESOLVE_NO_SYMLINKS),
    B(RESOLVE_NO_MAGICLINKS), {0, NULL},
};

__attribute__((format(printf, 1, 2))) static void append(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		log_len += (size_t)n < sizeof(log_buf) - log_len ? (size_t)n : 0;
}

static void put_bits(unsigned long v, const struct bit *bits)
{
	bool any = false;
	for (const struct bit *b = bits; b->name; b++)
		if (b->v && (v & b->v) == b->v) {
			append("%s%s", any ? "|" : "", b->name);
			any = true;
		}
	if (!any)
		append("0");
}

static void put_fd(int fd)
{
	struct fake_fd *f = fd_of(fd);
	if (fd == AT_FDCWD)
		append("AT_FDCWD");
	else if (f)
		append("[%s%s]", f->detached ? "mnt:" : "", f->path);
	else
		append("%d", fd);
}

static void put_str(const char *s)
{
	if (s)
		append("\"%s\"", s);
	else
		append("NULL");
}

/* A /proc/self/fd/N target is shown as the fd it names. */
static void put_target(const char *s)
{
	int fd;
	if (s && sscanf(s, "/proc/self/fd/%d", &fd) == 1 && fd_of(fd))
		put_fd(fd);
	else
		put_str(s);
}

/* Each call: its line is begun, then checked against the scripted failure. */
static size_t line_start;

static void begin(const char *name)
{
	line_start = log_len;
	append("%s(", name);
}

static bool end_fails(void)
{
	append(")");
	bool fail =
	    fail_prefix[0] && strncmp(log_buf + line_start, fail_prefix, strlen(fail_prefix)) == 0;
	if (fail) {
		append(" = -%s", strerrorname_np(fail_errno));
		fail_prefix[0] = '\0';
		errno = fail_errno;
	}
	append("\n");
	return fail;
}

static int fails(void)
{
	return -1;
}

static int error(int e)
{
	errno = e;
	return -1;
}

const char *fake_log(const char *names)
{
	static char out[LOG_SIZE];
	size_t len = 0;

	if (!names)
		return log_buf;
	out[0] = '\0';
	for (const char *l = log_buf; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);
		size_t name_len = strcspn(l, "(");
		for (const char *w = names; *w;) {
			size_t wl = strcspn(w, ",");
			if (wl == name_len && strncmp(w, l, wl) == 0) {
				memcpy(out + len, l, n);
				len += n;
				out[len] = '\0';
				break;
			}
			w += wl + (w[wl] == ',');
		}
		l += n;
	}
	return out;
}

/* ---- paths ----------------------------------------------------------------- */

/* `rel` joined onto `base` (a place inside `root`), or onto `root` when
 * absolute, with "." and ".." folded; never above `root`. */
static void join(const char *root, const char *base, const char *rel, char *out, size_t len)
{
	char tmp[512];
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	const char *start = rel[0] == '/' ? root : base;
	size_t o = strcmp(start, "/") == 0 ? 0 : strlen(start);
	char *save = NULL;

	memcpy(out, start, o);
	snprintf(tmp, sizeof(tmp), "%s", rel);
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (o > rl && out[o - 1] != '/')
				o--;
			if (o > rl)
				o--;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "/%s", c);
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
}

/* Resolve `path` from dirfd as openat2 would with `resolve`: links are
 * followed inside the root (dirfd's place with IN_ROOT), or refused. */
static int resolve_path(int dirfd, const char *path, uint64_t resolve, bool follow_last, char *out,
			size_t len)
{
	struct fake_fd *d = fd_of(dirfd);
	const char *base = d ? d->path : "/";
	const char *root = (d && (resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH))) ? d->path : "/";
	char cur[512];

	join(root, base, path, cur, sizeof(cur));
	for (int links = 0; links < 40; links++) {
		/* find the first link among cur's components */
		char prefix[512];
		size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		bool redone = false;
		for (size_t i = rl + 1; i <= strlen(cur); i++) {
			if (cur[i] != '/' && cur[i] != '\0')
				continue;
			memcpy(prefix, cur, i);
			prefix[i] = '\0';
			struct node *n = lookup(prefix);
			if (!n)
				return error(ENOENT);
			if (!S_ISLNK(n->mode))
				continue;
			if (cur[i] == '\0' && !follow_last)
				break;
			if (resolve & RESOLVE_NO_SYMLINKS)
				return error(ELOOP);
			char parent[512], rest[512], next[512];
			snprintf(rest, sizeof(rest), "%s", cur + i);
			snprintf(parent, sizeof(parent), "%s", prefix);
			*strrchr(parent, '/') = '\0';
			join(root, parent[0] ? parent : "/", n->target, next, sizeof(next));
			snprintf(cur, sizeof(cur), "%s%s", next, rest);
			redone = true;
			break;
		}
		if (!redone) {
			snprintf(out, len, "%s", cur);
			return 0;
		}
	}
	return error(ELOOP);
}

static void at_path(int dirfd, const char *name, char *out, size_t len)
{
	struct fake_fd *d = fd_of(dirfd);
	join("/", d ? d->path : "/", name, out, len);
}

static void fill_stat(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = n->mode;
	st->st_rdev = n->rdev;
}

/* ---- the calls --------------------------------------------------------------- */

static int f_mount(const char *source, const char *target, const char *type, unsigned long flags,
		   const void *data)
{
	begin("mount");
	put_str(source), append(", "), put_target(target), append(", "), put_str(type);
	append(", "), put_bits(flags, ms_bits), append(", "), put_str(data);
	return end_fails() ? fails() : 0;
}

static int f_umount2(const char *target, int flags)
{
	begin("umount2");
	put_str(target), append(", %s", flags & MNT_DETACH ? "MNT_DETACH" : "0");
	return end_fails() ? fails() : 0;
}

static int f_fsopen(const char *type, unsigned int flags)
{
	begin("fsopen");
	put_str(type);
	if (end_fails())
		return fails();
	return new_fd(type, true, strcmp(type, "proc") == 0 ? PROC_SUPER_MAGIC : TMPFS_MAGIC);
}

static int f_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	begin("fsconfig");
	put_fd(fd);
	if (cmd == FSCONFIG_CMD_CREATE)
		append(", CREATE");
	else
		append(", "), put_str(key), append(", "), put_str(value);
	return end_fails() ? fails() : 0;
}

static int f_fsmount(int fd, unsigned int flags, unsigned int attr)
{
	struct fake_fd *f = fd_of(fd);
	begin("fsmount");
	put_fd(fd), append(", "), put_bits(attr, attr_bits);
	if (end_fails())
		return fails();
	return new_fd(f ? f->path : "?", true, f ? f->fs_type : 0);
}

static int f_open_tree(int dirfd, const char *path, unsigned int flags)
{
	char where[512];
	struct fake_fd *d = fd_of(dirfd);
	begin("open_tree");
	put_fd(dirfd), append(", "), put_str(path), append(", "), put_bits(flags, at_bits);
	if (end_fails())
		return fails();
	if (d && (flags & AT_EMPTY_PATH) && !*path)
		return new_fd(d->path, true, d->fs_type);
	at_path(dirfd, path, where, sizeof(where));
	if (!lookup(where))
		return error(ENOENT);
	return new_fd(where, true, 0);
}

static int f_move_mount(int from, const char *from_path, int to, const char *to_path,
			unsigned int flags)
{
	begin("move_mount");
	put_fd(from), append(", "), put_fd(to);
	return end_fails() ? fails() : 0;
}

static int f_mount_setattr(int dirfd, const char *path, unsigned int flags, struct mount_attr *attr,
			   size_t size)
{
	if (dirfd == -1)
		return error(EBADF); /* husk_mount_probe: the call exists */
	begin("mount_setattr");
	put_fd(dirfd), append(", "), put_bits(flags, at_bits);
	append(", set="), put_bits(attr->attr_set, attr_bits);
	append(", clr="), put_bits(attr->attr_clr, attr_bits);
	if (attr->propagation)
		append(", propagation="), put_bits(attr->propagation, prop_bits);
	return end_fails() ? fails() : 0;
}

static int f_pivot_root(const char *new_root, const char *put_old)
{
	begin("pivot_root");
	put_str(new_root), append(", "), put_str(put_old);
	return end_fails() ? fails() : 0;
}

static int f_chroot(const char *path)
{
	begin("chroot");
	put_str(path);
	return end_fails() ? fails() : 0;
}

static int f_chdir(const char *path)
{
	begin("chdir");
	put_str(path);
	return end_fails() ? fails() : 0;
}

static int f_fchdir(int fd)
{
	begin("fchdir");
	put_fd(fd);
	return end_fails() ? fails() : 0;
}

static int f_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	char where[512];
	begin("openat2");
	put_fd(dirfd), append(", "), put_str(path), append(", ");
	put_bits(how->flags, open_bits), append(", "), put_bits(how->resolve, resolve_bits);
	if (end_fails())
		return fails();
	bool nofollow = how->flags & (O_NOFOLLOW);
	if (resolve_path(dirfd, path, how->resolve, !nofollow, where, sizeof(where)) < 0)
		return -1;
	struct node *n = lookup(where);
	if (nofollow && S_ISLNK(n->mode) && !(how->flags & O_PATH))
		return error(ELOOP);
	if ((how->flags & O_DIRECTORY) && !S_ISDIR(n->mode))
		return error(ENOTDIR);
	return new_fd(where, false, 0);
}

static int f_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	char where[512];
	begin("openat");
	put_fd(dirfd), append(", "), put_str(path), append(", ");
	put_bits((unsigned long)flags, open_bits);
	if (end_fails())
		return fails();
	if (dirfd == AT_FDCWD && path[0] == '/')
		snprintf(where, sizeof(where), "%s", path);
	else
		at_path(dirfd, path, where, sizeof(where));
	struct node *n = lookup(where);
	if (n && (flags & O_CREAT) && (flags & O_EXCL))
		return error(EEXIST);
	if (n && S_ISLNK(n->mode) && (flags & O_NOFOLLOW))
		return error(ELOOP);
	if (!n && !(flags & O_CREAT))
		return error(ENOENT);
	if (!n)
		add(where, S_IFREG | (mode & 07777));
	return new_fd(where, false, 0);
}

static int f_mkdirat(int dirfd, const char *path, mode_t mode)
{
	char where[512];
	begin("mkdirat");
	put_fd(dirfd), append(", "), put_str(path), append(", 0%o", (unsigned int)mode);
	if (end_fails())
		return fails();
	at_path(dirfd, path, where, sizeof(where));
	if (lookup(where))
		return error(EEXIST);
	add(where, S_IFDIR | mode);
	return 0;
}

static int f_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	char where[512];
	begin("mknodat");
	put_fd(dirfd), append(", "), put_str(path);
	append(", %s|0%o, %u:%u",
	       S_ISCHR(mode)   ? "S_IFCHR"
	       : S_ISBLK(mode) ? "S_IFBLK"
			       : "S_IFIFO",
	       (unsigned int)(mode & 07777), major(dev), minor(dev));
	if (end_fails())
		return fails();
	at_path(dirfd, path, where, sizeof(where));
	if (lookup(where))
		return error(EEXIST);
	add(where, mode)->rdev = dev;
	return 0;
}

static int f_symlinkat(const char *target, int dirfd, const char *path)
{
	char where[512];
	begin("symlinkat");
	put_str(target), append(", "), put_fd(dirfd), append(", "), put_str(path);
	if (end_fails())
		return fails();
	at_path(dirfd, path, where, sizeof(where));
	if (lookup(where))
		return error(EEXIST);
	fake_link(where, target);
	return 0;
}

static ssize_t f_readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	char where[512];
	int fd;
	/* /proc/self/fd/N: where the fake fd lies. Not logged: it is how the
	 * code checks a place, not something it does. */
	if (dirfd == AT_FDCWD && sscanf(path, "/proc/self/fd/%d", &fd) == 1 && fd_of(fd)) {
		size_t n = strlen(fd_of(fd)->path);
		memcpy(buf, fd_of(fd)->path, n < len ? n : len);
		return (ssize_t)(n < len ? n : len);
	}
	begin("readlinkat");
	put_fd(dirfd), append(", "), put_str(path);
	if (end_fails())
		return fails();
	at_path(dirfd, path, where, sizeof(where));
	struct node *n = lookup(where);
	if (!n)
		return error(ENOENT);
	if (!S_ISLNK(n->mode))
		return error(EINVAL);
	size_t tl = strlen(n->target);
	memcpy(buf, n->target, tl < len ? tl : len);
	return (ssize_t)(tl < len ? tl : len);
}

static int f_unlinkat(int dirfd, const char *path, int flags)
{
	char where[512];
	begin("unlinkat");
	put_fd(dirfd), append(", "), put_str(path);
	if (end_fails())
		return fails();
	at_path(dirfd, path, where, sizeof(where));
	struct node *n = lookup(where);
	if (!n)
		return error(ENOENT);
	*n = nodes[--n_nodes];
	return 0;
}

static int f_faccessat(int dirfd, const char *path, int mode, int flags)
{
	char where[512];
	at_path(dirfd, path, where, sizeof(where));
	return lookup(where) ? 0 : error(ENOENT);
}

static int f_fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	begin("fchownat");
	put_fd(dirfd), append(", "), put_str(path), append(", %d, %d", (int)uid, (int)gid);
	return end_fails() ? fails() : 0;
}

static int f_fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	begin("fchmodat");
	put_fd(dirfd), append(", "), put_str(path), append(", 0%o", (unsigned int)mode);
	return end_fails() ? fails() : 0;
}

static int f_fchown(int fd, uid_t uid, gid_t gid)
{
	begin("fchown");
	put_fd(fd), append(", %d, %d", (int)uid, (int)gid);
	return end_fails() ? fails() : 0;
}

static int f_fchmod(int fd, mode_t mode)
{
	begin("fchmod");
	put_fd(fd), append(", 0%o", (unsigned int)mode);
	return end_fails() ? fails() : 0;
}

/* Asking what is there is not logged either. A detached mount of a new
 * filesystem is a directory; a bind's tree is what its source is. */
static int f_fstat(int fd, struct stat *st)
{
	struct fake_fd *f = fd_of(fd);
	struct node *n = f ? lookup(f->path) : NULL;
	if (f && f->detached && !n) {
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	if (!n)
		return error(EBADF);
	fill_stat(n, st);
	return 0;
}

static int f_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	char where[512];
	at_path(dirfd, path, where, sizeof(where));
	struct node *n = lookup(where);
	if (!n)
		return error(ENOENT);
	fill_stat(n, st);
	return 0;
}

static int f_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct fake_fd *f = fd_of(dirfd);
	memset(stx, 0, sizeof(*stx));
	/* "/" and the fake root are mount roots */
	if (f && (strcmp(f->path, "/") == 0 || strcmp(f->path, "/bundle/rootfs") == 0))
		stx->stx_attributes = STATX_ATTR_MOUNT_ROOT;
	return f ? 0 : error(EBADF);
}

static int f_statfs(const char *path, struct statfs *sfs)
{
	memset(sfs, 0, sizeof(*sfs));
	return lookup(path) ? 0 : error(ENOENT);
}

static int f_fstatfs(int fd, struct statfs *sfs)
{
	struct fake_fd *f = fd_of(fd);
	memset(sfs, 0, sizeof(*sfs));
	if (!f)
		return error(EBADF);
	sfs->f_type = f->fs_type;
	return 0;
}

static int f_fstatvfs(int fd, struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	return fd_of(fd) ? 0 : error(EBADF);
}

const struct husk_fs_sys fake_sys = {
    .mount = f_mount,
    .umount2 = f_umount2,
    .fsopen = f_fsopen,
    .fsconfig = f_fsconfig,
    .fsmount = f_fsmount,
    .open_tree = f_open_tree,
    .move_mount = f_move_mount,
    .mount_setattr = f_mount_setattr,
    .pivot_root = f_pivot_root,
    .chroot = f_chroot,
    .chdir = f_chdir,
    .fchdir = f_fchdir,
    .openat2 = f_openat2,
    .openat = f_openat,
    .mkdirat = f_mkdirat,
    .mknodat = f_mknodat,
    .symlinkat = f_symlinkat,
    .readlinkat = f_readlinkat,
    .unlinkat = f_unlinkat,
    .faccessat = f_faccessat,
    .fchownat = f_fchownat,
    .fchmodat = f_fchmodat,
    .fchown = f_fchown,
    .fchmod = f_fchmod,
    .fstat = f_fstat,
    .fstatat = f_fstatat,
    .statx = f_statx,
    .statfs = f_statfs,
    .fstatfs = f_fstatfs,
    .fstatvfs = f_fstatvfs,
};

/* The fs code of this test program calls the fake (sys.c's is weak). */
const struct husk_fs_sys *const husk_fs_sys = &fake_sys;
