/* checkpoint: dump a running container's processes with criu. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/backend.h"
#include "runtime/criu.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

const char *husk_criu_image_dir(const struct husk_criu_opts *o)
{
	return o->image_path && *o->image_path ? o->image_path : "checkpoint";
}

const char *husk_criu_work_dir(const struct husk_criu_opts *o)
{
	return o->work_path && *o->work_path ? o->work_path : husk_criu_image_dir(o);
}

/* A JSON array of strings (NULL: null) written into the image directory. */
static int write_strings(const char *dir, const char *name, const char *const *v, size_t n,
			 struct husk_err *err)
{
	_cleanup_close_ int dir_fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	json_t *a = json_array();
	char *text = NULL;
	int r = -1;

	if (dir_fd < 0) {
		json_decref(a);
		return husk_err_sys(err, "image directory %s", dir);
	}
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, v[i] ? json_string(v[i]) : json_null()) < 0)
			break;
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	if (!text)
		husk_err_set(err, ENOMEM, "%s/%s", dir, name);
	else
		r = husk_state_write_file(dir_fd, name, text, strlen(text), 0600, err);
	free(text);
	json_decref(a);
	return r;
}

/* runc's descriptors.json: what the init's fds 0, 1 and 2 are ("pipe:[N]",
 * "/dev/null", ...), so that restore can hand new pipes in their place. */
static int write_descriptors(const char *dir, pid_t pid, struct husk_err *err)
{
	char targets[3][PATH_MAX];
	const char *v[3];

	for (int fd = 0; fd < 3; fd++) {
		char link[64];
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		n = readlink(link, targets[fd], sizeof(targets[fd]) - 1);
		targets[fd][n < 0 ? 0 : n] = '\0';
		if (n < 0)
			snprintf(targets[fd], sizeof(targets[fd]), "/dev/null");
		v[fd] = targets[fd];
	}
	return write_strings(dir, HUSK_CRIU_DESCRIPTORS, v, 3, err);
}

/* The mount ids of pid's mount namespace (mountinfo's first field). */
static bool in_mount_ns(pid_t pid, int mnt_id)
{
	char path[64], line[4096];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (atoi(line) == mnt_id)
			return true;
	return !f; /* unknown: leave it to criu */
}

/* fd's mount id, from /proc/PID/fdinfo/FD; -1 when unknown. */
static int fd_mnt_id(pid_t pid, int fd)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	int id = -1;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	return id;
}

/* The init's stdio opened from outside the container (the host's /dev/null
 * or a log file husk's caller gave): criu cannot reach their mounts, so they
 * are external files, and restore hands in its own fds in their place. */
static void external_stdio(pid_t pid, char keys[3][64], const char *v[3])
{
	for (int fd = 0; fd < 3; fd++) {
		char path[64], target[PATH_MAX];
		struct stat st;
		ssize_t len;
		int mnt;

		v[fd] = NULL;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0 || target[0] != '/' || stat(path, &st) < 0)
			continue; /* pipe:, socket:, anon_inode: or none */
		mnt = fd_mnt_id(pid, fd);
		if (mnt < 0 || in_mount_ns(pid, mnt))
			continue;
		husk_criu_file_key(keys[fd], sizeof(keys[fd]), mnt, (unsigned long long)st.st_ino);
		v[fd] = keys[fd];
	}
}

struct dump_mounts {
	struct husk_criu_mount *v;
	size_t n;
};

/* The bind mounts from outside the rootfs, and every masked path that is a
 * file (a bind of /dev/null): mounts criu cannot dump by itself. */
static int collect_mounts(const struct husk_spec *spec, const char *rootfs, pid_t pid,
			  struct dump_mounts *m, struct husk_err *err)
{
	const struct husk_strv *masked = &spec->linux.masked_paths;
	struct husk_criu_mount *v;

	if (husk_criu_bind_mounts(spec, rootfs, &m->v, &m->n, err) < 0)
		return -1;
	v = realloc(m->v, (m->n + masked->n + 1) * sizeof(*v));
	if (!v)
		return husk_err_set(err, ENOMEM, "external mounts");
	m->v = v;
	for (size_t i = 0; i < masked->n; i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, masked->v[i]);
		if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
			m->v[m->n++] = (struct husk_criu_mount){masked->v[i], "/dev/null"};
	}
	return 0;
}

static int record_mounts(const char *dir, const struct dump_mounts *m, struct husk_err *err)
{
	_cleanup_free_ const char **v = calloc(m->n + 1, sizeof(*v));

	if (!v)
		return husk_err_set(err, ENOMEM, "external mounts");
	for (size_t i = 0; i < m->n; i++)
		v[i] = m->v[i].dest;
	return write_strings(dir, HUSK_CRIU_MOUNTS, v, m->n, err);
}

static int check_container(struct husk_container *c, const struct husk_spec **spec,
			   struct husk_err *err)
{
	const struct husk_backend *b;
	const char *why;

	if (husk_backend_of(c, &b, err) < 0)
		return -1;
	if (b != &husk_backend_linux)
		return husk_err_plain(err, EOPNOTSUPP,
				      "the %s backend cannot be checkpointed: its processes run "
				      "under a guest kernel that criu cannot reach",
				      b->name);
	if (c->status != HUSK_STATUS_RUNNING)
		return husk_err_plain(err, EINVAL, "container is %s, not running",
				      husk_status_name(c->status));
	*spec = husk_container_spec(c, err);
	if (!*spec)
		return -1;
	why = husk_criu_unsupported(*spec);
	if (why)
		return husk_err_plain(err, EOPNOTSUPP, "criu cannot checkpoint it: %s", why);
	return 0;
}

static int dump(const struct husk_ctx *ctx, struct husk_container *c,
		const struct husk_criu_opts *o, struct husk_err *err)
{
	const struct husk_spec *spec = NULL;
	struct dump_mounts mounts = {0};
	char criu[PATH_MAX], file_keys[3][64];
	const char *stdio_files[3], *files[3];
	size_t n_files = 0;
	char **argv = NULL;
	struct stat st;
	int r = -1;
	struct husk_criu_job job = {
	    .action = o->pre_dump ? HUSK_CRIU_PRE_DUMP : HUSK_CRIU_DUMP,
	    .criu = criu,
	    .o = o,
	    .image_dir = husk_criu_image_dir(o),
	    .work_dir = husk_criu_work_dir(o),
	    .root = c->rootfs,
	    .pid = c->pid,
	    .network_lock_nft = husk_criu_lacks_iptables(),
	};

	/* The directories it makes are 0700: the images hold the processes'
	 * memory. */
	if (check_container(c, &spec, err) < 0 ||
	    husk_criu_find(ctx->criu, criu, sizeof(criu), err) < 0 ||
	    husk_mkdir_parents(job.image_dir, 0700, 0700, err) < 0 ||
	    husk_mkdir_parents(job.work_dir, 0700, 0700, err) < 0 ||
	    write_descriptors(job.image_dir, c->pid, err) < 0 ||
	    collect_mounts(spec, c->rootfs, c->pid, &mounts, err) < 0 ||
	    record_mounts(job.image_dir, &mounts, err) < 0)
		goto out;
	external_stdio(c->pid, file_keys, stdio_files);
	if (write_strings(job.image_dir, HUSK_CRIU_FILES, stdio_files, 3, err) < 0)
		goto out;
	/* the same file on two fds is one external */
	for (int fd = 0; fd < 3; fd++) {
		bool dup = false;
		for (size_t j = 0; j < n_files && stdio_files[fd]; j++)
			dup |= strcmp(files[j], stdio_files[fd]) == 0;
		if (stdio_files[fd] && !dup)
			files[n_files++] = stdio_files[fd];
	}
	job.files = files;
	job.n_files = n_files;
	const struct husk_namespace *net = &spec->linux.ns[HUSK_NS_NETWORK];
	if (net->enabled && net->path) {
		if (stat(net->path, &st) < 0) {
			husk_err_sys(err, "network namespace %s", net->path);
			goto out;
		}
		job.netns_inode = (unsigned long)st.st_ino;
	}
	job.mounts = mounts.v;
	job.n_mounts = mounts.n;
	argv = husk_criu_argv(&job, err);
	if (!argv)
		goto out;
	r = husk_traced("criu dump", c->id, husk_criu_run(&job, argv, NULL, err));
out:
	husk_argv_free(argv);
	free(mounts.v);
	return r;
}

int husk_checkpoint(const struct husk_ctx *ctx, const char *id, const struct husk_criu_opts *o,
		    struct husk_err *err)
{
	struct husk_container *c;
	const char *mode;
	int lock_fd, r;

	if (husk_criu_cgroups_mode(o->manage_cgroups_mode, &mode, err) < 0 ||
	    husk_container_load_locked(ctx, id, &c, &lock_fd, err) < 0)
		return husk_err_prefix(err, "checkpoint %s", id);
	r = dump(ctx, c, o, err);
	/* criu killed the tree after the dump: the container is gone, as runc
	 * destroys it. */
	if (r == 0 && !o->leave_running && !o->pre_dump &&
	    (husk_container_kill_wait(c, err) < 0 || husk_container_destroy(ctx, c, err) < 0))
		r = -1;
	if (r < 0)
		husk_err_prefix(err, "checkpoint %s", id);
	close(lock_fd);
	husk_container_free(c);
	return r;
}
