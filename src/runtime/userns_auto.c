/* husk.userns=auto: the container's ids map to a host range of its own.
 *
 * The pool is the `containers` entry of /etc/subuid and /etc/subgid (as
 * Podman's --userns=auto reads them), else host ids 2^30 .. 2^31-1, which no
 * distribution hands to users. It is cut into blocks of 65536 ids; block i
 * is held by the file <state root>/@userns/<i> (created O_EXCL, holding
 * "ID\nPID\n": the container's id and the pid of the create that took it),
 * taken under an flock of <state root>/@userns/lock, so two creates never
 * take one block, and released (unlinked) at delete. A block whose
 * container has no state directory and whose create is gone (a create or
 * delete killed half way) is free again. The range in use is recorded in
 * the state's annotations. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define BLOCK	      65536u
#define DEFAULT_START (1u << 30)
#define DEFAULT_COUNT (1u << 30)
#define DIR_NAME      "@userns" /* "@" is no id character: never a container's */

struct pool {
	uint32_t start, count;
};

static const char *annotation(const struct husk_spec *s, const char *key)
{
	for (size_t i = 0; i < s->annotations.n; i++)
		if (strcmp(s->annotations.v[i].key, key) == 0)
			return s->annotations.v[i].value;
	return NULL;
}

/* "containers:START:COUNT" in a subordinate id file; false when absent. */
static bool subid_pool(const char *file, struct pool *out)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[256];

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long start, count;
		if (sscanf(line, "containers:%llu:%llu", &start, &count) == 2 &&
		    start + count <= UINT32_MAX && count >= BLOCK) {
			out->start = (uint32_t)start;
			out->count = (uint32_t)count;
			return true;
		}
	}
	return false;
}

static int add_annotation(struct husk_spec *s, const char *key, const char *value)
{
	struct husk_kv *v = realloc(s->annotations.v, (s->annotations.n + 1) * sizeof(*v));
	if (!v)
		return -1;
	s->annotations.v = v;
	v[s->annotations.n].key = strdup(key);
	v[s->annotations.n].value = strdup(value);
	if (!v[s->annotations.n].key || !v[s->annotations.n].value) {
		free(v[s->annotations.n].key);
		free(v[s->annotations.n].value);
		return -1;
	}
	s->annotations.n++;
	return 0;
}

static int set_mapping(struct husk_id_map **maps, size_t *n, uint32_t host)
{
	struct husk_id_map *m = malloc(sizeof(*m));
	if (!m)
		return -1;
	*m = (struct husk_id_map){.container_id = 0, .host_id = host, .size = BLOCK};
	free(*maps);
	*maps = m;
	*n = 1;
	return 0;
}

static int open_dir(const char *root, struct husk_err *err)
{
	char path[4096];

	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return husk_err_sys(err, "state root %s", root);
	snprintf(path, sizeof(path), "%s/" DIR_NAME, root);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return husk_err_sys(err, "user namespace ranges %s", path);
	int fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	return fd < 0 ? husk_err_sys(err, "user namespace ranges %s", path) : fd;
}

/* The holder of block `name`: its container id (and the pid of the create
 * that took it, 0 when the file has none); false when unreadable. */
static bool read_holder(int dir, const char *name, char *id, size_t cap, pid_t *pid)
{
	char buf[512], *nl;
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	*pid = nl ? (pid_t)strtol(nl + 1, NULL, 10) : 0;
	if (nl)
		*nl = '\0';
	snprintf(id, cap, "%s", buf);
	return true;
}

/* A block left by a create or delete that died: its container has no
 * state directory under the root, and the create that took it is gone. */
static bool block_is_stale(int root, int dir, const char *name)
{
	char id[256];
	pid_t pid;
	struct stat st;

	if (!read_holder(dir, name, id, sizeof(id), &pid) || !id[0])
		return false;
	if (fstatat(root, id, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	return pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH);
}

/* Take the first free block; its index, or -1. */
static long take_block(int root, int dir, const char *id, uint32_t blocks, struct husk_err *err)
{
	_cleanup_close_ int lock = openat(dir, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	char name[16], holder[300];
	int len = snprintf(holder, sizeof(holder), "%s\n%d\n", id, (int)getpid());

	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return husk_err_sys(err, "lock user namespace ranges");
	for (uint32_t i = 0; i < blocks; i++) {
		snprintf(name, sizeof(name), "%" PRIu32, i);
		_cleanup_close_ int fd =
		    openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST) {
			/* held: free again only when its holder is gone */
			if (!block_is_stale(root, dir, name) || unlinkat(dir, name, 0) < 0)
				continue;
			fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		}
		if (fd < 0 || write(fd, holder, (size_t)len) != len) {
			husk_err_sys(err, "take user namespace range %s", name);
			if (fd >= 0)
				unlinkat(dir, name, 0);
			return -1;
		}
		return (long)i;
	}
	return husk_err_set(err, ENOSPC, "no free user namespace range (%" PRIu32 " in use)",
			    blocks);
}

/* Take a free block of the pool and give `spec` its mappings. */
static int take_range(const char *root, const char *id, struct husk_spec *spec, long *block,
		      struct husk_err *err)
{
	struct pool uids = {DEFAULT_START, DEFAULT_COUNT}, gids = uids;
	char uid_map[64], gid_map[64];

	if (!subid_pool("/etc/subuid", &uids) || !subid_pool("/etc/subgid", &gids))
		uids = gids = (struct pool){DEFAULT_START, DEFAULT_COUNT};
	uint32_t blocks = (uids.count < gids.count ? uids.count : gids.count) / BLOCK;
	_cleanup_close_ int dir = open_dir(root, err);
	if (dir < 0)
		return -1;
	_cleanup_close_ int root_fd = open(root, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (root_fd < 0)
		return husk_err_sys(err, "state root %s", root);
	long i = take_block(root_fd, dir, id, blocks, err);
	if (i < 0)
		return -1;
	*block = i;
	uint32_t uid = uids.start + (uint32_t)i * BLOCK, gid = gids.start + (uint32_t)i * BLOCK;
	snprintf(uid_map, sizeof(uid_map), "0 %" PRIu32 " %u", uid, BLOCK);
	snprintf(gid_map, sizeof(gid_map), "0 %" PRIu32 " %u", gid, BLOCK);
	if (set_mapping(&spec->linux.uid_mappings, &spec->linux.n_uid_mappings, uid) < 0 ||
	    set_mapping(&spec->linux.gid_mappings, &spec->linux.n_gid_mappings, gid) < 0 ||
	    add_annotation(spec, "husk.userns.uidmap", uid_map) < 0 ||
	    add_annotation(spec, "husk.userns.gidmap", gid_map) < 0) {
		return husk_err_set(err, ENOMEM, "user namespace mappings");
	}
	return 0;
}

int husk_userns_auto(const char *root, const char *id, struct husk_spec *spec, long *block,
		     struct husk_err *err)
{
	const char *want = annotation(spec, "husk.userns");

	if (!want)
		return 0;
	if (strcmp(want, "auto") != 0)
		return husk_err_plain(err, EINVAL,
				      "annotation husk.userns: \"%s\" is not \"auto\" (the only "
				      "value husk knows)",
				      want);
	/* Traced on its own (--debug), as `make bench` reports it. */
	return husk_traced("user namespace range", id, take_range(root, id, spec, block, err));
}

void husk_userns_release(const char *root, const char *id)
{
	char path[4096], held[256];
	pid_t pid;
	snprintf(path, sizeof(path), "%s/" DIR_NAME, root);
	_cleanup_close_ int dir = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	DIR *d = dir < 0 ? NULL : fdopendir(dup(dir));
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (read_holder(dir, e->d_name, held, sizeof(held), &pid) && strcmp(held, id) == 0)
			unlinkat(dir, e->d_name, 0);
	}
	if (d)
		closedir(d);
}

void husk_userns_release_block(const char *root, long block)
{
	char path[4096];

	if (block < 0)
		return;
	snprintf(path, sizeof(path), "%s/" DIR_NAME "/%ld", root, block);
	unlink(path);
}
