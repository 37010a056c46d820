/* Loading containers from the state store and deriving their status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

void husk_container_free(struct husk_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroup_path);
	husk_kvv_free(&c->annotations);
	if (c->spec)
		husk_spec_free(c->spec);
	if (c->cgroup)
		husk_cgroup_free(c->cgroup);
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	free(c);
}

struct husk_cgroup *husk_container_cgroup(struct husk_container *c, struct husk_err *err)
{
	if (c->cgroup)
		return c->cgroup;
	if (!c->cgroup_path) {
		husk_err_set(err, ENOENT, "container %s has no cgroup", c->id);
		return NULL;
	}
	if (husk_cgroup_open(c->cgroup_path, &c->cgroup, err) < 0) {
		husk_err_prefix(err, "open cgroup of %s", c->id);
		return NULL;
	}
	return c->cgroup;
}

const struct husk_spec *husk_container_spec(struct husk_container *c, struct husk_err *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	if (c->spec)
		return c->spec;
	json = husk_read_file(c->dir_fd, HUSK_CONFIG_FILE, 0, &len, err);
	if (!json) {
		husk_err_prefix(err, "load config of %s", c->id);
		return NULL;
	}
	c->spec = husk_spec_parse(json, len, err);
	if (!c->spec)
		husk_err_prefix(err, "load config of %s", c->id);
	return c->spec;
}

/* Status from the process and the store: a dead, zombie or reused pid means
 * stopped; the fifo means start has not run; a frozen cgroup means paused. */
static int derive_status(struct husk_container *c, bool check_frozen, struct husk_err *err)
{
	uint64_t start;
	bool alive, frozen = false;

	if (c->pid <= 0) {
		c->status = HUSK_STATUS_STOPPED;
		return 0;
	}
	if (husk_proc_stat(c->pid, &start, &alive, err) < 0)
		return -1;
	if (!alive || start != c->pid_start) {
		c->status = HUSK_STATUS_STOPPED;
		return 0;
	}
	if (faccessat(c->dir_fd, HUSK_FIFO_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		c->status = HUSK_STATUS_CREATED;
		return 0;
	}
	c->status = HUSK_STATUS_RUNNING;
	if (check_frozen && c->cgroup_path) {
		/* A cgroup that cannot be read must not make the container
		 * unloadable (delete --force still has to work): it is not paused. */
		struct husk_cgroup *cg = husk_container_cgroup(c, err);
		if (!cg || husk_cgroup_is_frozen(cg, &frozen, err) < 0) {
			husk_debug("%s: freezer state unknown: %s", c->id, err->msg);
			husk_err_clear(err);
		} else if (frozen) {
			c->status = HUSK_STATUS_PAUSED;
		}
	}
	return 0;
}

static struct husk_container *container_new(const char *id, int dir_fd)
{
	struct husk_container *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->dir_fd = dir_fd;
	c->id = strdup(id);
	if (!c->id) {
		husk_container_free(c);
		return NULL;
	}
	return c;
}

/* How a container is loaded. */
enum {
	LOAD_FROZEN = 1,  /* tell paused from running (reads the freezer) */
	LOAD_LOCKED = 2,  /* the caller holds the lock: no create is under way */
	LOAD_SALVAGE = 4, /* delete --force: an unreadable state.json is no error */
};

/* The record of a container whose state.json is missing or unreadable:
 * no process is known, every string is empty. */
static int blank_record(struct husk_container *c)
{
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroup_path);
	husk_kvv_free(&c->annotations);
	c->cgroup_path = NULL;
	c->pid = 0;
	c->pid_start = 0;
	c->bundle = strdup("");
	c->rootfs = strdup("");
	c->created = strdup("");
	c->owner = strdup("");
	return c->bundle && c->rootfs && c->created && c->owner ? 0 : -1;
}

/* A create holds the lock from before it writes config.json until state.json
 * says created; a delete removes config.json before state.json. So: a live
 * lock holder with the config still there is a create under way. Whatever
 * a killed command left is not: its facts decide. */
static bool create_under_way(int dir_fd, unsigned flags)
{
	return !(flags & LOAD_LOCKED) &&
	       faccessat(dir_fd, HUSK_CONFIG_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	       husk_state_lock_held(dir_fd);
}

/* The cgroup create recorded before making any, when state.json has none
 * (create died before saving it, or it cannot be read). */
static void planned_cgroup(struct husk_container *c)
{
	struct husk_err ignored = {0};
	char *text = husk_read_file(c->dir_fd, HUSK_CGROUP_FILE, PATH_MAX, NULL, &ignored);

	if (text && text[0] == '/')
		c->cgroup_path = text;
	else
		free(text);
}

static int load_record(struct husk_container *c, unsigned flags, struct husk_err *err)
{
	if (husk_state_load(c->dir_fd, c, err) == 0)
		return 0;
	if (err->code != ENOENT && !(flags & LOAD_SALVAGE))
		return -1;
	/* Missing: create has not saved it yet, or died first; or a delete
	 * died after removing it. Unreadable (delete --force): clean up what
	 * the id still finds. */
	if (err->code != ENOENT)
		husk_warn("%s: %s: removing what is left", c->id, err->msg);
	husk_err_clear(err);
	c->status = HUSK_STATUS_CREATING; /* unfinished: see below */
	return blank_record(c) < 0 ? husk_err_set(err, ENOMEM, "load %s", c->id) : 0;
}

static int load_from_dir(const char *id, int dir_fd, unsigned flags, struct husk_container **out,
			 struct husk_err *err)
{
	struct husk_container *c = container_new(id, dir_fd);

	if (!c) {
		close(dir_fd);
		return husk_err_sys(err, "allocate");
	}
	if (load_record(c, flags, err) < 0)
		goto fail;
	if (!c->cgroup_path)
		planned_cgroup(c);
	if (c->status == HUSK_STATUS_CREATING) {
		if (create_under_way(dir_fd, flags)) {
			*out = c;
			return 0;
		}
		/* The create that saved this died: the container never existed,
		 * so it has no poststop hooks to run. */
		c->hook_kinds = 0;
	}
	if (derive_status(c, flags & LOAD_FROZEN, err) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	husk_container_free(c);
	return -1;
}

static int load(const struct husk_ctx *ctx, const char *id, unsigned flags,
		struct husk_container **out, struct husk_err *err)
{
	int dir_fd;

	*out = NULL;
	if (husk_id_validate(id, err) < 0)
		return -1;
	dir_fd = husk_state_dir_open(ctx->root, id, err);
	if (dir_fd < 0)
		return -1;
	return load_from_dir(id, dir_fd, flags, out, err);
}

int husk_container_load(const struct husk_ctx *ctx, const char *id, struct husk_container **out,
			struct husk_err *err)
{
	return load(ctx, id, LOAD_FROZEN, out, err);
}

int husk_container_load_unfrozen(const struct husk_ctx *ctx, const char *id,
				 struct husk_container **out, struct husk_err *err)
{
	return load(ctx, id, 0, out, err);
}

int husk_container_load_locked(const struct husk_ctx *ctx, const char *id,
			       struct husk_container **out, int *lock_fd, struct husk_err *err)
{
	return husk_container_load_locked_as(ctx, id, false, out, lock_fd, err);
}

int husk_container_load_locked_as(const struct husk_ctx *ctx, const char *id, bool salvage,
				  struct husk_container **out, int *lock_fd, struct husk_err *err)
{
	int dir_fd, lock;

	*out = NULL;
	*lock_fd = -1;
	if (husk_id_validate(id, err) < 0)
		return -1;
	dir_fd = husk_state_dir_open(ctx->root, id, err);
	if (dir_fd < 0)
		return -1;
	lock = husk_state_lock(dir_fd, err);
	if (lock < 0) {
		close(dir_fd);
		return -1;
	}
	/* Whoever held the lock before may have deleted the container. */
	if (faccessat(dir_fd, HUSK_STATE_FILE, F_OK, 0) < 0 && errno == ENOENT) {
		struct stat st;
		if (fstat(dir_fd, &st) == 0 && st.st_nlink == 0) {
			close(lock);
			close(dir_fd);
			return husk_err_plain(err, ENOENT, "container does not exist");
		}
	}
	if (load_from_dir(id, dir_fd, LOAD_FROZEN | LOAD_LOCKED | (salvage ? LOAD_SALVAGE : 0), out,
			  err) < 0) {
		close(lock);
		return -1;
	}
	*lock_fd = lock;
	return 0;
}

char *husk_container_state_json(const struct husk_container *c, bool pretty)
{
	return husk_state_encode(c, HUSK_STATE_OCI, pretty);
}

char *husk_state_json(const struct husk_ctx *ctx, const char *id, struct husk_err *err)
{
	struct husk_container *c;
	char *text;

	if (husk_container_load(ctx, id, &c, err) < 0) {
		husk_err_prefix(err, "state %s", id);
		return NULL;
	}
	text = husk_container_state_json(c, true);
	if (!text)
		husk_err_set(err, errno, "state %s: encode", id);
	husk_container_free(c);
	return text;
}

int husk_list_ids(const struct husk_ctx *ctx, char ***ids, size_t *n, struct husk_err *err)
{
	return husk_state_list(ctx->root, ids, n, err);
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int husk_container_pidfd(const struct husk_container *c, struct husk_err *err)
{
	uint64_t start;
	bool alive;
	int fd;

	if (c->pid <= 0) {
		errno = ESRCH;
		return husk_err_set(err, ESRCH, "container %s has no process", c->id);
	}
	fd = pidfd_open(c->pid);
	if (fd < 0)
		return husk_err_sys(err, "pidfd_open %d", (int)c->pid);
	/* The pidfd pins whatever process has the pid now; make sure it is
	 * still the init we recorded before anyone signals through it. */
	if (husk_proc_stat(c->pid, &start, &alive, err) < 0) {
		close(fd);
		return -1;
	}
	if (!alive || start != c->pid_start) {
		close(fd);
		errno = ESRCH;
		return husk_err_set(err, ESRCH, "container %s: init %d is gone", c->id,
				    (int)c->pid);
	}
	return fd;
}

int husk_pidfd_wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r; /* 1: exited, 0: timeout */
}
