/* create: bundle -> state directory + cgroup + container process blocked on
 * the exec fifo. Whatever fails, nothing is left behind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "cgroup/cgroup.h"
#include "linux/linux.h"
#include "runtime/backend.h"
#include "runtime/criu.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"

struct create_job {
	const struct husk_ctx *ctx;
	const char *id;
	struct husk_spec *spec;
	const struct husk_backend *backend; /* chosen from the config and argv0 */
	struct husk_container rec;	    /* what state.json will say; borrows every string */
	struct husk_cgroup *cg;
	bool joined_v2; /* CLONE_INTO_CGROUP placed the child in the unified cgroup */
	struct husk_cgroup_tasks tasks; /* v1: the child moves itself (cgroup.h) */
	char *bundle, *rootfs, *fifo, *config;
	size_t config_len;
	int dir_fd, lock_fd;
	bool dir_created;
	long userns_block;			 /* husk.userns=auto: the range taken, else -1 */
	const struct husk_restore_opts *restore; /* restore: criu makes the processes */
	char *state_dir;			 /* absolute <root>/<id> */
	pid_t pid;
	int pidfd, pty_master;
};

static int cb_child_created(void *opaque, pid_t pid, struct husk_err *err)
{
	struct create_job *job = opaque;
	if (!job->cg)
		return 0;
	if (husk_cgroup_enter(job->cg, pid, job->joined_v2, job->tasks.n > 0, err) < 0)
		return husk_err_prefix(err, "join cgroup");
	/* The systemd driver's scope no longer needs husk to keep it alive. */
	husk_cgroup_runtime_leave(job->cg);
	return 0;
}

static int cb_run_hooks(void *opaque, enum husk_hook_kind kind, pid_t pid, struct husk_err *err)
{
	struct create_job *job = opaque;

	if (job->spec->hooks[kind].n == 0)
		return 0;
	job->rec.pid = pid;
	return husk_hooks_run_state(
	    &job->rec, job->spec, kind,
	    kind == HUSK_HOOK_START_CONTAINER ? HUSK_STATUS_CREATED : HUSK_STATUS_CREATING, err);
}

/* An absolute form of path, as runc keeps it: joined to the working
 * directory, symlinks left alone (and no syscall per component). */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (strcmp(path, ".") == 0)
		return strdup(cwd);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return NULL;
	return out;
}

/* root.path, relative to the bundle unless absolute, without its "." and
 * empty components: root "." is the bundle itself, and state shows the
 * path as runc does ("/b", not "/b/."). ".." is kept: it is only resolved
 * against the real tree, never lexically. */
static char *join_root_path(const char *bundle, const char *root)
{
	const char *prefix = root[0] == '/' || strcmp(bundle, "/") == 0 ? "" : bundle;
	char *out = malloc(strlen(prefix) + strlen(root) + 2), *end;

	if (!out)
		return NULL;
	end = stpcpy(out, prefix);
	for (const char *p = root + strspn(root, "/"); *p; p += strspn(p, "/")) {
		size_t len = strcspn(p, "/");
		if (!(len == 1 && p[0] == '.')) {
			*end++ = '/';
			end = mempcpy(end, p, len);
		}
		p += len;
	}
	if (end == out)
		*end++ = '/';
	*end = '\0';
	return out;
}

static int read_bundle(struct create_job *job, const char *bundle, struct husk_err *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	job->bundle = absolute(bundle ? bundle : ".");
	if (!job->bundle)
		return husk_err_sys(err, "bundle %s", bundle ? bundle : ".");
	for (size_t n = strlen(job->bundle); n > 1 && job->bundle[n - 1] == '/'; n--)
		job->bundle[n - 1] = '\0';
	fd = open(job->bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "bundle %s", job->bundle);
	job->config = husk_read_file(fd, HUSK_CONFIG_FILE, 0, &job->config_len, err);
	if (!job->config)
		return husk_err_prefix(err, "bundle %s", job->bundle);
	job->spec = husk_spec_parse(job->config, job->config_len, err);
	/* Syntax errors already name the file; field errors do not. */
	if (!job->spec && strncmp(err->msg, "config.json:", 12) != 0)
		return husk_err_prefix(err, "config.json");
	if (!job->spec)
		return -1;
	if (!job->spec->root_path)
		return husk_err_plain(err, EINVAL, "config.json: root.path is required");
	job->rootfs = join_root_path(job->bundle, job->spec->root_path);
	if (!job->rootfs)
		return husk_err_sys(err, "allocate");
	if (stat(job->rootfs, &st) < 0)
		return husk_err_sys(err, "rootfs %s", job->rootfs);
	if (!S_ISDIR(st.st_mode))
		return husk_err_set(err, ENOTDIR, "rootfs %s", job->rootfs);
	return 0;
}

/* runc's rules: a terminal needs someone to hold the pty master. */
static int check_terminal(const struct husk_spec *spec, const struct husk_create_opts *o,
			  bool detached, struct husk_err *err)
{
	bool terminal = spec->process && spec->process->terminal;

	if (detached && terminal && !o->console_socket)
		return husk_err_plain(err, EINVAL,
				      "process.terminal needs --console-socket when detached");
	if ((!detached || !terminal) && o->console_socket)
		return husk_err_plain(
		    err, EINVAL,
		    "--console-socket needs process.terminal and a detached container");
	return 0;
}

static int make_state_dir(struct create_job *job, struct husk_err *err)
{
	_cleanup_free_ char *root = NULL;

	job->dir_fd = husk_state_dir_create(job->ctx->root, job->id, err);
	if (job->dir_fd < 0)
		return -1;
	job->dir_created = true;
	job->lock_fd = husk_state_lock(job->dir_fd, err);
	if (job->lock_fd < 0)
		return -1;
	if (husk_state_write_file(job->dir_fd, HUSK_CONFIG_FILE, job->config, job->config_len, 0600,
				  err) < 0)
		return -1;
	root = absolute(job->ctx->root);
	if (!root)
		return husk_err_sys(err, "state root %s", job->ctx->root);
	if (asprintf(&job->state_dir, "%s/%s", root, job->id) < 0)
		return husk_err_sys(err, "allocate");
	/* A restored container runs at once: no fifo for start to open. */
	if (job->restore)
		return 0;
	/* The container process opens the fifo as whatever user it runs as:
	 * others need write access, so set the mode past the umask. */
	if (mkfifoat(job->dir_fd, HUSK_FIFO_FILE, 0622) < 0 ||
	    fchmodat(job->dir_fd, HUSK_FIFO_FILE, 0622, 0) < 0)
		return husk_err_sys(err, "create exec fifo");
	if (asprintf(&job->fifo, "%s/%s", job->state_dir, HUSK_FIFO_FILE) < 0)
		return husk_err_sys(err, "allocate");
	return 0;
}

/* The plan is recorded before any directory is made: a create killed from
 * here on leaves delete --force the list of every cgroup it may have made. */
static int make_cgroup(struct create_job *job, struct husk_err *err)
{
	const char *planned;

	const char *path = job->spec->linux.cgroups_path;

	if (job->ctx->systemd_cgroup
		? husk_cgroup_plan_systemd(job->id, path, job->ctx->rootless, &job->cg, err) < 0
		: husk_cgroup_plan(job->id, path, &job->cg, err) < 0)
		return -1;
	planned = husk_cgroup_path(job->cg);
	if (husk_state_write_file(job->dir_fd, HUSK_CGROUP_FILE, planned, strlen(planned), 0600,
				  err) < 0 ||
	    husk_cgroup_make(job->cg, job->spec, job->ctx->rootless, err) < 0)
		return -1;
	job->rec.cgroup_path = (char *)husk_cgroup_path(job->cg);
	return 0;
}

/* A process killed during setup leaves no message of its own. The usual
 * killer is the memory cgroup: a linux.resources.memory.limit the kernel
 * accepted on the empty cgroup but that the process cannot live within. */
static int explain_setup_death(struct create_job *job, struct husk_err *err)
{
	const struct husk_resources *res = job->spec->linux.resources;
	struct husk_err ignored;
	uint64_t ooms = 0;
	char msg[HUSK_ERR_MSG_MAX];

	if (err->code != ECHILD || !job->cg ||
	    husk_cgroup_oom_count(job->cg, &ooms, &ignored) < 0 || ooms == 0)
		return -1;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (res && res->has_memory && res->memory.limit.set)
		return husk_err_plain(err, ENOMEM,
				      "%s: out of memory: linux.resources.memory.limit is %lld "
				      "bytes",
				      msg, (long long)res->memory.limit.v);
	return husk_err_plain(err, ENOMEM, "%s: out of memory in the container's cgroup", msg);
}

/* restore: criu brings the checkpointed processes back into the cgroup
 * made above; no hooks run (as the processes' own setup is long done). */
static int restore_spawn(struct create_job *job, struct husk_spawn_result *r, struct husk_err *err)
{
	const struct husk_criu_restore_params rp = {
	    .id = job->id,
	    .spec = job->spec,
	    .rootfs = job->rootfs,
	    .state_dir = job->state_dir,
	    .cg = job->cg,
	    .criu = job->ctx->criu,
	    .o = &job->restore->criu,
	};
	const char *why = husk_criu_unsupported(job->spec);

	if (job->backend != &husk_backend_linux)
		return husk_err_plain(err, EOPNOTSUPP,
				      "the %s backend cannot be restored: criu restores "
				      "processes on this host's kernel",
				      job->backend->name);
	if (why)
		return husk_err_plain(err, EOPNOTSUPP, "criu cannot restore it: %s", why);
	if (husk_criu_restore_spawn(&rp, r, err) < 0)
		return -1;
	/* As after a spawn: the systemd driver's scope no longer needs husk. */
	if (job->cg)
		husk_cgroup_runtime_leave(job->cg);
	return 0;
}

static int spawn(struct create_job *job, const struct husk_create_opts *o, bool want_pty,
		 struct husk_err *err)
{
	struct husk_spawn_params p = {
	    .id = job->id,
	    .spec = job->spec,
	    .bundle = job->bundle,
	    .rootfs = job->rootfs,
	    .exec_fifo = job->fifo,
	    .console_socket = o->console_socket,
	    .preserve_fds = o->listen_fds + o->preserve_fds,
	    .no_pivot = o->no_pivot,
	    .no_new_keyring = o->no_new_keyring,
	    .want_pty_master = want_pty,
	    .cgroup_fd = job->cg ? husk_cgroup_v2_fd(job->cg) : -1,
	    .cb = {.ctx = job, .child_created = cb_child_created, .run_hooks = cb_run_hooks},
	};
	struct husk_spawn_result r = {.pid = 0, .pidfd = -1, .pty_master = -1};
	bool alive;
	int rc;

	job->joined_v2 = p.cgroup_fd >= 0;
	job->tasks.n = 0;
	if (job->restore) {
		rc = restore_spawn(job, &r, err);
	} else {
		if (job->cg && !job->ctx->cgroup_join_procs)
			husk_cgroup_open_tasks(job->cg, &job->tasks);
		p.join_fds = job->tasks.fd;
		p.n_join_fds = job->tasks.n;
		rc = job->backend->create(&p, &r, err);
		husk_cgroup_close_tasks(&job->tasks);
	}
	if (rc < 0)
		return explain_setup_death(job, err);
	job->pid = r.pid;
	job->pidfd = r.pidfd;
	job->pty_master = r.pty_master;
	job->rec.pid = r.pid;
	if (husk_proc_stat(r.pid, &job->rec.pid_start, &alive, err) < 0)
		return -1;
	if (!alive)
		return husk_err_set(err, ESRCH, "container process %d died during create",
				    (int)r.pid);
	return 0;
}

int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *err)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int dir_fd = -1;
	char *slash, digits[32];
	const char *name = path;
	int n = snprintf(digits, sizeof(digits), "%d", (int)pid);

	if (!dir)
		return husk_err_sys(err, "allocate");
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		name = path + (slash - dir) + 1;
	}
	dir_fd = open(slash ? (dir[0] ? dir : "/") : ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir_fd < 0)
		return husk_err_sys(err, "pid file %s", path);
	if (husk_state_write_file(dir_fd, name, digits, (size_t)n, 0644, err) < 0)
		return husk_err_prefix(err, "pid file %s", path);
	return 0;
}

static void undo(struct create_job *job)
{
	struct husk_err ignored;

	if (job->pid > 0) {
		if (job->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, job->pidfd, SIGKILL, NULL, 0);
		else
			kill(job->pid, SIGKILL);
		while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (job->cg)
		husk_cgroup_destroy(job->cg, &ignored);
	if (job->dir_created)
		husk_state_remove(job->ctx->root, job->id, &ignored);
}

static void job_release(struct create_job *job)
{
	if (job->cg)
		husk_cgroup_free(job->cg);
	if (job->spec)
		husk_spec_free(job->spec);
	free(job->bundle);
	free(job->rootfs);
	free(job->fifo);
	free(job->state_dir);
	free(job->config);
	if (job->lock_fd >= 0)
		close(job->lock_fd);
	if (job->dir_fd >= 0)
		close(job->dir_fd);
	if (job->pidfd >= 0)
		close(job->pidfd);
	if (job->pty_master >= 0)
		close(job->pty_master);
}

/* Processes of another container (or the host) can see our setup process
 * when the pid namespace is not a new one: then it must not run from the
 * on-disk binary (CVE-2019-5736). Re-exec happens before any side effect. */
/* Socket activation passes through (as runc does): the container's process
 * sees the same fds from 3 on, announced to it as its own (LISTEN_PID=1 is
 * its pid in a new pid namespace). */
static int add_listen_env(struct husk_spec *spec, int n, struct husk_err *err)
{
	struct husk_strv *env = spec->process ? &spec->process->env : NULL;
	char **v;

	if (!env)
		return 0;
	v = realloc(env->v, (env->n + 3) * sizeof(*v));
	if (!v)
		return husk_err_set(err, ENOMEM, "LISTEN_FDS environment");
	env->v = v;
	if (asprintf(&v[env->n], "LISTEN_FDS=%d", n) < 0)
		return husk_err_set(err, ENOMEM, "LISTEN_FDS environment");
	env->n++;
	v[env->n] = strdup("LISTEN_PID=1");
	if (!v[env->n])
		return husk_err_set(err, ENOMEM, "LISTEN_PID environment");
	env->n++;
	v[env->n] = NULL;
	return 0;
}

static int create_steps(struct create_job *job, const struct husk_create_opts *o, bool foreground,
			struct husk_err *err)
{
	char created[64];
	bool want_pty, asked;

	if (husk_traced("read config", o->bundle ? o->bundle : ".",
			read_bundle(job, o->bundle, err)) < 0)
		return -1;
	if (husk_backend_select(&job->spec->annotations, job->ctx->argv0, &job->backend, &asked,
				err) < 0)
		return -1;
	if (job->backend->host_processes && husk_guard_entry(HUSK_ENTRY_CREATE, job->spec, err) < 0)
		return -1;
	if (husk_backend_record(job->backend, asked, job->spec, &job->spec->annotations, err) < 0)
		return -1;
	if (o->listen_fds > 0 && add_listen_env(job->spec, o->listen_fds, err) < 0)
		return -1;
	if (check_terminal(job->spec, o, !foreground, err) < 0)
		return -1;
	if (husk_userns_auto(job->ctx->root, job->id, job->spec, &job->userns_block, err) < 0)
		return -1;
	want_pty =
	    foreground && job->spec->process && job->spec->process->terminal && !o->console_socket;
	husk_rfc3339_now(created, sizeof(created));
	job->rec.id = (char *)job->id;
	job->rec.bundle = job->bundle;
	job->rec.rootfs = job->rootfs;
	job->rec.created = created;
	job->rec.owner = "";
	job->rec.annotations = job->spec->annotations;
	for (int k = 0; k < HUSK_HOOK_KIND_COUNT; k++)
		if (job->spec->hooks[k].n > 0)
			job->rec.hook_kinds |= 1u << k;
	/* The first save (status creating, no pid) records the cgroup as made;
	 * before it, the cgroup file holds the plan (make_cgroup). */
	job->rec.status = HUSK_STATUS_CREATING;
	if (husk_traced("state directory", job->ctx->root, make_state_dir(job, err)) < 0 ||
	    husk_traced("cgroup create", job->id, make_cgroup(job, err)) < 0 ||
	    husk_state_save(job->dir_fd, &job->rec, err) < 0 ||
	    husk_traced("spawn", job->rootfs, spawn(job, o, want_pty, err)) < 0)
		return -1;
	job->rec.status = HUSK_STATUS_CREATED;
	if (husk_state_save(job->dir_fd, &job->rec, err) < 0)
		return -1;
	if (o->pid_file && husk_write_pid_file(o->pid_file, job->pid, err) < 0)
		return -1;
	return 0;
}

/* The container process opens its exec fifo by the path <root>/<id>/exec.fifo
 * (it cannot be handed an fd to a fifo not yet opened), so that path must
 * fit PATH_MAX. Checked before anything is created; the id itself is already
 * within NAME_MAX (husk_id_validate). */
static int check_state_path(const struct husk_ctx *ctx, const char *id, struct husk_err *err)
{
	_cleanup_free_ char *root = absolute(ctx->root);
	size_t len;

	if (!root)
		return husk_err_sys(err, "state root %s", ctx->root);
	len = strlen(root) + 1 + strlen(id) + 1 + strlen(HUSK_FIFO_FILE);
	if (len >= PATH_MAX)
		return husk_err_set(err, ENAMETOOLONG,
				    "state directory path too long: <root>/<id>/%s would be %zu "
				    "bytes, over the limit of %d (root %s)",
				    HUSK_FIFO_FILE, len, PATH_MAX - 1, root);
	return 0;
}

static int create_or_restore(const struct husk_ctx *ctx, const char *id,
			     const struct husk_create_opts *o, bool foreground,
			     const struct husk_restore_opts *restore, struct husk_proc *out,
			     struct husk_err *err)
{
	struct create_job job = {.ctx = ctx,
				 .restore = restore,
				 .id = id,
				 .dir_fd = -1,
				 .lock_fd = -1,
				 .pidfd = -1,
				 .pty_master = -1,
				 .userns_block = -1};
	int r = husk_id_validate(id, err);

	if (r == 0)
		r = check_state_path(ctx, id, err);
	if (r == 0)
		r = husk_traced("create", id, create_steps(&job, o, foreground, err));
	if (r < 0) {
		/* Never clean up a directory that belongs to another container. */
		if (err->code != EEXIST || job.dir_created)
			undo(&job);
		/* Only the range this create took (the id may be another's). */
		husk_userns_release_block(ctx->root, job.userns_block);
		husk_err_prefix(err, "%s %s", restore ? "restore" : "create", id);
	} else if (out) {
		out->pid = job.pid;
		out->pidfd = HUSK_STEAL_FD(job.pidfd);
		out->pty_master = HUSK_STEAL_FD(job.pty_master);
	}
	job_release(&job);
	return r;
}

int husk_create_internal(const struct husk_ctx *ctx, const char *id,
			 const struct husk_create_opts *o, bool foreground, struct husk_proc *out,
			 struct husk_err *err)
{
	return create_or_restore(ctx, id, o, foreground, NULL, out, err);
}

int husk_create_restored(const struct husk_ctx *ctx, const char *id,
			 const struct husk_restore_opts *o, struct husk_proc *out,
			 struct husk_err *err)
{
	return create_or_restore(ctx, id, &o->run.create, !o->run.detach, o, out, err);
}

int husk_create(const struct husk_ctx *ctx, const char *id, const struct husk_create_opts *o,
		struct husk_err *err)
{
	return husk_create_internal(ctx, id, o, false, NULL, err);
}
