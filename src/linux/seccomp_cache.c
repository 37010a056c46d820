/* A cache of compiled seccomp programs. Engines pass large profiles (Docker's
 * default lists ~350 syscalls for three architectures) and libseccomp takes
 * around 10 ms to turn one into BPF, more than the rest of `create`; the same
 * profile comes back container after container.
 *
 * A file holds the profile's canonical text and its program. The name is a
 * hash of the text, but a hit needs the stored text to equal ours byte for
 * byte, so a collision (FNV is not collision resistant) cannot hand one
 * container another's filter. The directory must be ours and private; a bad
 * or foreign entry is a miss. Failing to write the cache is not an error. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

#define CACHE_MAGIC "HUSKBPF1"
#define CACHE_MAX   (8u << 20)

static char *cache_dir_override;
static bool cache_dir_set;

void husk_linux_set_seccomp_cache_dir(const char *dir)
{
	free(cache_dir_override);
	cache_dir_override = dir ? strdup(dir) : NULL;
	cache_dir_set = true;
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (int pass = 0; pass < 2 && !b->oom; pass++) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* Length-prefixed, so no name can imitate a separator. */
static void sb_str(struct sbuf *b, const char *s)
{
	if (s)
		sb_printf(b, "%zu:%s,", strlen(s), s);
	else
		sb_printf(b, "-,");
}

static void canon_rule(struct sbuf *b, const struct husk_seccomp_rule *r)
{
	sb_printf(b, "rule %d %d %" PRIu32 " names ", (int)r->action, (int)r->has_errno_ret,
		  r->errno_ret);
	for (size_t k = 0; k < r->names.n; k++)
		sb_str(b, r->names.v[k]);
	sb_printf(b, " args");
	for (size_t k = 0; k < r->n_args; k++)
		sb_printf(b, " %u/%" PRIu64 "/%" PRIu64 "/%d", r->args[k].index, r->args[k].value,
			  r->args[k].value_two, (int)r->args[k].op);
	sb_printf(b, "\n");
}

/* Everything the program depends on: the profile's rules, default and
 * architectures, the native architecture, libseccomp's and the kernel's
 * versions (a new kernel may support actions an old one did not). */
char *husk_seccomp_canon(const struct husk_seccomp *sc, size_t *len)
{
	const struct scmp_version *v = seccomp_version();
	struct sbuf b = {0};
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	sb_printf(&b, "husk-seccomp 1\nlibseccomp %u.%u.%u\nkernel %s\nnative %" PRIu32 "\n",
		  v->major, v->minor, v->micro, u.release, seccomp_arch_native());
	sb_printf(&b, "default %d %d %" PRIu32 "\narch ", (int)sc->default_action,
		  (int)sc->has_default_errno_ret, sc->default_errno_ret);
	for (size_t i = 0; i < sc->architectures.n; i++)
		sb_str(&b, sc->architectures.v[i]);
	sb_printf(&b, "\n");
	for (size_t i = 0; i < sc->n_rules; i++)
		canon_rule(&b, &sc->rules[i]);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static uint64_t fnv1a(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

static bool private_dir(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & 022);
}

/* The cache directory, created private when missing; -1 when there is none. */
static int open_cache_dir(void)
{
	char buf[4096];
	const char *dir = cache_dir_override;

	if (!cache_dir_set) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		/* Beside the state root, not in it: there `list` would show the
		 * cache as a container and no container could take its name. */
		if (geteuid() == 0)
			dir = "/run/husk-seccomp-cache";
		else if (xdg && *xdg &&
			 (size_t)snprintf(buf, sizeof(buf), "%s/husk-seccomp-cache", xdg) <
			     sizeof(buf))
			dir = buf;
	}
	if (!dir)
		return -1;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
		}
		mkdir(dir, 0700);
		fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && !private_dir(fd)) {
		husk_debug("seccomp cache %s is not private: not used", dir);
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* The entry's program when its text is ours, else NULL. */
static struct sock_filter *read_entry(int fd, const char *canon, size_t canon_len, size_t *count)
{
	struct stat st;
	char magic[8];
	uint64_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size > CACHE_MAX)
		return NULL;
	if (!read_all(fd, magic, 8) || memcmp(magic, CACHE_MAGIC, 8) != 0 ||
	    !read_all(fd, &n, sizeof(n)) || n != canon_len)
		return NULL;
	_cleanup_free_ char *text = malloc(canon_len);
	if (!text || !read_all(fd, text, canon_len) || memcmp(text, canon, canon_len) != 0)
		return NULL;
	if (!read_all(fd, &n, sizeof(n)) || n == 0 || n > 0xffff)
		return NULL;
	struct sock_filter *insns = calloc(n, sizeof(*insns));
	if (!insns || !read_all(fd, insns, n * sizeof(*insns))) {
		free(insns);
		return NULL;
	}
	*count = n;
	return insns;
}

struct sock_filter *husk_seccomp_cache_get(const char *canon, size_t canon_len, size_t *count)
{
	char name[32];
	_cleanup_close_ int dir = open_cache_dir();
	if (dir < 0)
		return NULL;
	snprintf(name, sizeof(name), "%016" PRIx64 ".bpf", fnv1a(canon, canon_len));
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? NULL : read_entry(fd, canon, canon_len, count);
}

void husk_seccomp_cache_put(const char *canon, size_t canon_len, const struct sock_filter *insns,
			    size_t count)
{
	char name[32], tmp[64];
	uint64_t n = canon_len, c = count;
	_cleanup_close_ int dir = open_cache_dir();

	if (dir < 0)
		return;
	snprintf(name, sizeof(name), "%016" PRIx64 ".bpf", fnv1a(canon, canon_len));
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%s", (int)getpid(), name);
	_cleanup_close_ int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok =
	    husk_write_all(fd, CACHE_MAGIC, 8) == 0 && husk_write_all(fd, &n, sizeof(n)) == 0 &&
	    husk_write_all(fd, canon, canon_len) == 0 && husk_write_all(fd, &c, sizeof(c)) == 0 &&
	    husk_write_all(fd, insns, count * sizeof(*insns)) == 0;
	if (!ok || renameat(dir, tmp, dir, name) < 0) {
		husk_debug("seccomp cache: cannot store %s: %s", name, strerror(errno));
		unlinkat(dir, tmp, 0);
	}
}
