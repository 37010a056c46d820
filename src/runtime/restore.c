/* restore: create a container from its bundle as run does, its processes
 * coming back from a checkpoint's images through criu. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "linux/fs/fs.h"
#include "linux/linux.h"
#include "runtime/criu.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

#define CRIU_ROOT_DIR "criu-root"
#define CRIU_PID_FILE "criu-restore.pid"
#define MAX_INHERIT   7 /* stdin, stdout, stderr (a pipe, a file), the netns */

/* A JSON array of strings from the image directory (NULL when absent). */
static json_t *read_strings(const char *dir, const char *name, struct husk_err *err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *a;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return json_array();
	a = json_load_file(path, 0, &jerr);
	if (!a || !json_is_array(a)) {
		json_decref(a);
		husk_err_plain(err, EINVAL, "%s: not a JSON array of strings", path);
		return NULL;
	}
	return a;
}

/* The host path to bind at a mount point the dump recorded as external:
 * the config's bind source, or /dev/null for a masked path. */
static const char *external_source(const struct husk_spec *spec,
				   const struct husk_criu_mount *binds, size_t n, const char *dest)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(binds[i].dest, dest) == 0)
			return binds[i].source;
	for (size_t i = 0; i < spec->linux.masked_paths.n; i++)
		if (strcmp(spec->linux.masked_paths.v[i], dest) == 0)
			return "/dev/null";
	return NULL;
}

struct restore_job {
	struct husk_criu_job criu;
	char criu_path[PATH_MAX];
	char root_mnt[PATH_MAX], pidfile[PATH_MAX];
	bool mounted;
	struct husk_criu_mount *binds, *mounts;
	size_t n_binds;
	json_t *descriptors, *recorded, *files;
	struct husk_criu_inherit inherit[MAX_INHERIT];
	int fds[MAX_INHERIT];
};

static int plan_mounts(struct restore_job *r, const struct husk_spec *spec, const char *rootfs,
		       struct husk_err *err)
{
	size_t i;
	json_t *v;

	if (husk_criu_bind_mounts(spec, rootfs, &r->binds, &r->n_binds, err) < 0)
		return -1;
	r->recorded = read_strings(r->criu.image_dir, HUSK_CRIU_MOUNTS, err);
	if (!r->recorded)
		return -1;
	r->mounts = calloc(json_array_size(r->recorded) + 1, sizeof(*r->mounts));
	if (!r->mounts)
		return husk_err_set(err, ENOMEM, "external mounts");
	json_array_foreach(r->recorded, i, v)
	{
		const char *dest = json_string_value(v);
		const char *src = dest ? external_source(spec, r->binds, r->n_binds, dest) : NULL;
		if (!src)
			return husk_err_plain(err, EINVAL,
					      "the checkpoint has an external mount at %s that "
					      "config.json does not bind",
					      dest ? dest : "(not a string)");
		r->mounts[r->criu.n_mounts++] = (struct husk_criu_mount){dest, src};
	}
	r->criu.mounts = r->mounts;
	return 0;
}

static int add_inherit(struct restore_job *r, int fd, const char *key, struct husk_err *err)
{
	size_t n = r->criu.n_inherit;
	int copy = fcntl(fd, F_DUPFD, 10); /* not CLOEXEC: criu takes it */

	if (copy < 0)
		return husk_err_sys(err, "pass fd %d to criu", fd);
	r->fds[n] = copy;
	r->inherit[n] = (struct husk_criu_inherit){copy, key};
	r->criu.n_inherit++;
	return 0;
}

/* A file the container had open from outside (its stdio from the host's
 * /dev/null, or a log file): the same path opened again, as criu reopens
 * the files it can reach; husk's own fd of that number when the path is
 * gone (criu then seeks it to the saved offset: a pipe would not do). */
static int inherit_file(struct restore_job *r, int fd, const char *path, const char *key,
			struct husk_err *err)
{
	_cleanup_close_ int file = -1;

	if (path && path[0] == '/' && !strstr(path, " (deleted)")) {
		file = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (file < 0)
			file = open(path, (fd == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NOCTTY);
	}
	return add_inherit(r, file >= 0 ? file : fd, key, err);
}

/* The caller's stdio replaces the pipes the container had at dump (how
 * conmon hands a restored container new pipes), and a network namespace
 * joined by path is the one at that path now. */
static int plan_fds(struct restore_job *r, const struct husk_spec *spec, struct husk_err *err)
{
	const struct husk_namespace *net = &spec->linux.ns[HUSK_NS_NETWORK];

	r->descriptors = read_strings(r->criu.image_dir, HUSK_CRIU_DESCRIPTORS, err);
	if (!r->descriptors)
		return -1;
	r->files = read_strings(r->criu.image_dir, HUSK_CRIU_FILES, err);
	if (!r->files)
		return -1;
	for (int fd = 0; fd < 3; fd++) {
		const char *d = json_string_value(json_array_get(r->descriptors, (size_t)fd));
		const char *f = json_string_value(json_array_get(r->files, (size_t)fd));
		if (d && strncmp(d, "pipe:", 5) == 0 && add_inherit(r, fd, d, err) < 0)
			return -1;
		if (f && inherit_file(r, fd, d, f, err) < 0)
			return -1;
	}
	if (net->enabled && net->path) {
		_cleanup_close_ int ns = open(net->path, O_RDONLY | O_CLOEXEC);
		if (ns < 0)
			return husk_err_sys(err, "network namespace %s", net->path);
		if (add_inherit(r, ns, HUSK_CRIU_NETNS_KEY, err) < 0)
			return -1;
	}
	r->criu.inherit = r->inherit;
	return 0;
}

/* criu binds the external mounts onto mount points it expects in the
 * rootfs; a new container's rootfs (podman's --import) may lack them, e.g.
 * a bind of /etc/hosts: made as create makes them, inside the rootfs
 * whatever its symlinks say (RESOLVE_IN_ROOT). */
static int make_mount_points(const struct restore_job *r, const char *rootfs, struct husk_err *err)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (root < 0)
		return husk_err_sys(err, "open rootfs %s", rootfs);
	for (size_t i = 0; i < r->criu.n_mounts; i++) {
		const struct husk_criu_mount *m = &r->criu.mounts[i];
		if (stat(m->source, &st) < 0)
			return husk_err_sys(err, "bind source %s", m->source);
		_cleanup_close_ int fd =
		    S_ISDIR(st.st_mode)
			? husk_mkdir_at(root, m->dest, 0755, HUSK_RESOLVE_IN_ROOT, err)
			: husk_mkfile_at(root, m->dest, 0644, HUSK_RESOLVE_IN_ROOT, err);
		if (fd < 0)
			return husk_err_prefix(err, "mount point %s", m->dest);
	}
	return 0;
}

/* criu restores into a root that is a mount point: a bind of the rootfs in
 * the container's state directory (0700), as runc makes one. */
static int mount_root(struct restore_job *r, const char *state_dir, const char *rootfs,
		      struct husk_err *err)
{
	snprintf(r->root_mnt, sizeof(r->root_mnt), "%s/%s", state_dir, CRIU_ROOT_DIR);
	if (mkdir(r->root_mnt, 0700) < 0 && errno != EEXIST)
		return husk_err_sys(err, "create %s", r->root_mnt);
	if (mount(rootfs, r->root_mnt, NULL, MS_BIND | MS_REC, NULL) < 0)
		return husk_err_sys(err, "bind rootfs %s on %s", rootfs, r->root_mnt);
	r->mounted = true;
	/* A slave: nothing mounted below it reaches the host, and it keeps the
	 * master criu copies to the restored root (mount-v2 sets the root's
	 * sharing from it; from a private bind that fails). */
	if (mount(NULL, r->root_mnt, NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return husk_err_sys(err, "make %s a slave mount", r->root_mnt);
	r->criu.root = r->root_mnt;
	return 0;
}

static void job_release(struct restore_job *r)
{
	if (r->mounted)
		umount2(r->root_mnt, MNT_DETACH);
	if (r->root_mnt[0])
		rmdir(r->root_mnt);
	if (r->pidfile[0])
		unlink(r->pidfile);
	for (size_t i = 0; i < r->criu.n_inherit; i++)
		close(r->fds[i]);
	free(r->binds);
	free(r->mounts);
	json_decref(r->descriptors);
	json_decref(r->recorded);
	json_decref(r->files);
}

static int read_pid(const char *path, pid_t *pid, struct husk_err *err)
{
	_cleanup_free_ char *text = husk_read_file(AT_FDCWD, path, 64, NULL, err);
	char *end;
	long v;

	if (!text)
		return husk_err_prefix(err, "criu's pid file");
	v = strtol(text, &end, 10);
	if (v <= 0 || (*end && *end != '\n'))
		return husk_err_plain(err, EINVAL, "criu's pid file %s: not a pid", path);
	*pid = (pid_t)v;
	return 0;
}

int husk_criu_restore_spawn(const struct husk_criu_restore_params *p, struct husk_spawn_result *out,
			    struct husk_err *err)
{
	struct restore_job r = {
	    .criu = {.action = HUSK_CRIU_RESTORE,
		     .o = p->o,
		     .image_dir = husk_criu_image_dir(p->o),
		     .work_dir = husk_criu_work_dir(p->o)},
	};
	char **argv = NULL;
	int rc = -1;

	r.criu.criu = r.criu_path;
	r.criu.network_lock_nft = husk_criu_lacks_iptables();
	r.criu.cgroup_root = p->cg ? husk_cgroup_dir_path(p->cg) : NULL;
	snprintf(r.pidfile, sizeof(r.pidfile), "%s/%s", p->state_dir, CRIU_PID_FILE);
	r.criu.pidfile = r.pidfile;
	if (husk_criu_find(p->criu, r.criu_path, sizeof(r.criu_path), err) < 0 ||
	    plan_mounts(&r, p->spec, p->rootfs, err) < 0 ||
	    make_mount_points(&r, p->rootfs, err) < 0 || plan_fds(&r, p->spec, err) < 0 ||
	    mount_root(&r, p->state_dir, p->rootfs, err) < 0)
		goto out;
	argv = husk_criu_argv(&r.criu, err);
	if (!argv ||
	    husk_traced("criu restore", p->id, husk_criu_run(&r.criu, argv, p->cg, err)) < 0)
		goto out;
	if (read_pid(r.pidfile, &out->pid, err) < 0)
		goto out;
	out->pidfd = (int)syscall(SYS_pidfd_open, out->pid, 0);
	out->pty_master = -1;
	rc = 0;
out:
	husk_argv_free(argv);
	job_release(&r);
	return rc;
}

/* Bad input is refused before anything is made. */
static int check_input(const struct husk_ctx *ctx, const struct husk_restore_opts *o,
		       struct husk_err *err)
{
	const char *mode, *dir = husk_criu_image_dir(&o->criu);
	char criu[PATH_MAX];
	struct stat st;

	if (husk_criu_cgroups_mode(o->criu.manage_cgroups_mode, &mode, err) < 0)
		return -1;
	if (stat(dir, &st) < 0)
		return husk_err_sys(err, "image directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return husk_err_set(err, ENOTDIR, "image directory %s", dir);
	return husk_criu_find(ctx->criu, criu, sizeof(criu), err);
}

static void close_proc(struct husk_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

int husk_restore(const struct husk_ctx *ctx, const char *id, const struct husk_restore_opts *o,
		 int *exit_status, struct husk_err *err)
{
	struct husk_proc p = {.pidfd = -1, .pty_master = -1};
	struct husk_err ignored;
	sigset_t old;
	int r;

	*exit_status = 0;
	if (check_input(ctx, o, err) < 0)
		return husk_err_prefix(err, "restore %s", id);
	if (!o->run.detach && !o->run.no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (husk_create_restored(ctx, id, o, &p, err) < 0)
		return -1;
	if (o->run.detach) {
		close_proc(&p);
		return 0;
	}
	husk_foreground_block(&old);
	r = husk_foreground_wait(&p, &old, exit_status, err);
	close_proc(&p);
	if (r < 0) {
		husk_delete(ctx, id, true, &ignored);
		return -1;
	}
	return husk_delete(ctx, id, true, err);
}
