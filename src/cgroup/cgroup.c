/* The container's cgroup across every hierarchy: create, reopen, join and
 * remove it, and the small file helpers the other cgroup files share. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

/* ---- file helpers ---- */

/* dir/file into buf (PATH_MAX), cut to fit; no printf, as this runs for
 * every file written in every hierarchy. */
static void file_path(char *buf, const char *dir, const char *file)
{
	size_t dl = strnlen(dir, PATH_MAX - 2), fl = strnlen(file, PATH_MAX - 2 - dl);
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	memcpy(buf + dl + 1, file, fl);
	buf[dl + 1 + fl] = '\0';
}

int cg_write(const struct cg_hier *h, const char *file, const char *val, struct husk_err *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	file_path(path, h->dir, file);
	/* O_TRUNC is a no-op on cgroupfs and lets tests use plain files. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open %s", path);
	if (write(fd, val, len) != (ssize_t)len)
		return husk_err_sys(err, "write %s to %s", val, path);
	return 0;
}

int cg_read(const struct cg_hier *h, const char *file, char *buf, size_t size, struct husk_err *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	file_path(path, h->dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open %s", path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		return husk_err_sys(err, "read %s", path);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int cg_read_u64(const struct cg_hier *h, const char *file, uint64_t *v, struct husk_err *err)
{
	char buf[64];
	if (cg_read(h, file, buf, sizeof(buf), err) < 0)
		return -1;
	if (strcmp(buf, "max") == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(buf, NULL, 10);
	return 0;
}

bool cg_has_file(const struct cg_hier *h, const char *file)
{
	char path[PATH_MAX];
	file_path(path, h->dir, file);
	return access(path, F_OK) == 0;
}

int cg_read_keyed(const struct cg_hier *h, const char *file, const char *key, uint64_t *v,
		  struct husk_err *err)
{
	char buf[8192];
	size_t klen = strlen(key);

	if (cg_read(h, file, buf, sizeof(buf), err) < 0)
		return -1;
	for (char *line = buf; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*v = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
	}
	return husk_err_set(err, ENOENT, "%s/%s has no %s", h->dir, file, key);
}

/* ---- lookups ---- */

struct cg_hier *cg_unified(const struct husk_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].mount->unified)
			return &cg->h[i];
	return NULL;
}

/* The hierarchy that drives `controller`: its v1 hierarchy when mounted,
 * else the unified one when the controller is enabled there. */
struct cg_hier *cg_find(const struct husk_cgroup *cg, const char *controller)
{
	struct cg_hier *u;
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].mount->unified &&
		    cg_list_has(cg->h[i].mount->controllers, ',', controller))
			return &cg->h[i];
	u = cg_unified(cg);
	if (u && cg_list_has(cg_unified_controllers(cg->layout), ' ', controller))
		return u;
	return NULL;
}

const char *husk_cgroup_path(const struct husk_cgroup *cg)
{
	return cg->saved;
}

const char *husk_cgroup_dir_path(const struct husk_cgroup *cg)
{
	const struct cg_hier *h = cg_unified(cg);

	if (!h && cg->n)
		h = &cg->h[0];
	return h ? h->path : NULL;
}

int husk_cgroup_v2_fd(const struct husk_cgroup *cg)
{
	return cg->v2_fd;
}

/* ---- lifecycle ---- */

void husk_cgroup_free(struct husk_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].path);
		free(cg->h[i].dir);
	}
	if (cg->v2_fd >= 0)
		close(cg->v2_fd);
	free(cg->h);
	free(cg->saved);
	free(cg->unit);
	free(cg->slice);
	free(cg);
}

static struct husk_cgroup *cg_new(const struct cg_layout *l, struct husk_err *err)
{
	struct husk_cgroup *cg = calloc(1, sizeof(*cg));
	if (cg)
		cg->h = calloc(l->n, sizeof(*cg->h));
	if (!cg || !cg->h) {
		free(cg);
		husk_err_set(err, ENOMEM, "cgroup");
		return NULL;
	}
	cg->layout = l;
	cg->v2_fd = -1;
	return cg;
}

static int open_v2_fd(struct husk_cgroup *cg, struct husk_err *err)
{
	struct cg_hier *u = cg_unified(cg);
	if (cg->layout->mode != HUSK_CGROUP_V2 || !u)
		return 0;
	cg->v2_fd = open(u->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->v2_fd < 0)
		return husk_err_sys(err, "open cgroup %s", u->dir);
	return 0;
}

int husk_cgroup_open(const char *path, struct husk_cgroup **out, struct husk_err *err)
{
	const struct cg_layout *l = cg_layout_get(err);
	struct husk_cgroup *cg;

	if (!l)
		return -1;
	cg = cg_new(l, err);
	if (!cg)
		return -1;
	cg->saved = strdup(path);
	if (!cg->saved) {
		husk_err_set(err, ENOMEM, "cgroup");
		goto fail;
	}
	if (cg_saved_decode(cg, path, err) < 0)
		goto fail;
	if (open_v2_fd(cg, err) < 0) {
		/* systemd removes a scope's directory once it is empty: delete
		 * still stops (and resets) the unit. */
		if (!cg->unit || err->code != ENOENT)
			goto fail;
		husk_err_clear(err);
	}
	*out = cg;
	return 0;
fail:
	husk_cgroup_free(cg);
	return -1;
}

/* mkdir -p below the mount, counting the parents we created. Returns 1 when
 * a rootless caller may not create it (the hierarchy is then not used). */
static int make_dir(struct cg_hier *h, bool rootless, struct husk_err *err)
{
	size_t base = cg_base_len(h);

	if (mkdir(h->dir, 0755) == 0) {
		h->created = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	if (errno == ENOENT) {
		_cleanup_free_ char *p = strdup(h->dir);
		if (!p)
			return husk_err_set(err, ENOMEM, "cgroup");
		for (char *s = strchr(p + base + 1, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			if (mkdir(p, 0755) == 0)
				h->parents++;
			else if (errno != EEXIST)
				goto fail;
			*s = '/';
		}
		if (mkdir(h->dir, 0755) == 0) {
			h->created = true;
			return 0;
		}
	}
fail:
	if (rootless && (errno == EACCES || errno == EPERM || errno == EROFS)) {
		husk_debug("rootless: not using cgroup %s: %s", h->dir, strerror(errno));
		return 1;
	}
	return husk_err_sys(err, "create cgroup %s", h->dir);
}

/* rmdir the directory and any cgroups the container made below it,
 * bottom-up. cgroupfs refuses to remove a cgroup that has children with
 * EBUSY (not ENOTEMPTY), the same answer as for one that holds processes:
 * either way, try the children first. */
static int remove_tree(const char *dir)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno == ENOTEMPTY || errno == EBUSY) {
		_cleanup_closedir_ DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char sub[PATH_MAX];
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			remove_tree(sub);
		}
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
	}
	return -1;
}

/* Processes that were just killed leave their cgroup shortly after; retry
 * EBUSY for up to about two seconds, with short sleeps growing to 20ms. */
static int remove_hier(struct cg_hier *h, struct husk_err *err)
{
	useconds_t wait = 500;
	for (int waited = 0;;) {
		if (remove_tree(h->dir) == 0)
			break;
		if (errno != EBUSY || waited > 2000000)
			return husk_err_sys(err, "remove cgroup %s", h->dir);
		usleep(wait);
		waited += wait;
		wait = wait < 20000 ? wait * 2 : wait;
	}
	_cleanup_free_ char *p = strdup(h->dir);
	for (unsigned i = 0; p && i < h->parents; i++) {
		char *slash = strrchr(p, '/');
		if (!slash || (size_t)(slash - p) <= cg_base_len(h))
			break;
		*slash = '\0';
		/* A parent shared with another container stays. */
		if (rmdir(p) < 0)
			break;
	}
	return 0;
}

/* How many of the directories above h->dir (below the mount) do not exist
 * yet: the parents make_dir will create, so a plan records them too. */
static unsigned missing_parents(const struct cg_hier *h)
{
	_cleanup_free_ char *p = strdup(h->dir);
	unsigned n = 0;
	char *slash;

	while (p && (slash = strrchr(p, '/')) && (size_t)(slash - p) > cg_base_len(h)) {
		*slash = '\0';
		if (access(p, F_OK) == 0)
			break;
		n++;
	}
	return n;
}

int husk_cgroup_plan(const char *id, const char *cgroups_path, struct husk_cgroup **out,
		     struct husk_err *err)
{
	const struct cg_layout *l = cg_layout_get(err);
	_cleanup_free_ char *norm = NULL;
	struct husk_cgroup *cg;
	bool absolute;

	if (!l || cg_path_normalize(cgroups_path, id, &norm, &absolute, err) < 0)
		return -1;
	cg = cg_new(l, err);
	if (!cg)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		struct cg_hier *h = &cg->h[cg->n];
		/* Never mkdir into a directory that is not a cgroup mount. */
		if (cg_mount_check((struct cg_mount *)&l->m[i]))
			continue;
		h->mount = &l->m[i];
		h->path = cg_path_resolve(norm, absolute, l->m[i].own, l->m[i].unified);
		h->dir = h->path ? cg_concat(l->m[i].dir, h->path) : NULL;
		cg->n++;
		if (!h->dir) {
			husk_cgroup_free(cg);
			return husk_err_set(err, ENOMEM, "cgroup");
		}
		h->parents = missing_parents(h);
	}
	cg->saved = cg_saved_encode(cg);
	if (!cg->saved) {
		husk_cgroup_free(cg);
		return husk_err_set(err, ENOMEM, "cgroup");
	}
	*out = cg;
	return 0;
}

/* Drop hierarchy i (rootless and not allowed there). */
static void forget_hier(struct husk_cgroup *cg, size_t i)
{
	free(cg->h[i].path);
	free(cg->h[i].dir);
	memmove(&cg->h[i], &cg->h[i + 1], (cg->n - i - 1) * sizeof(cg->h[i]));
	cg->n--;
	memset(&cg->h[cg->n], 0, sizeof(cg->h[cg->n]));
}

static int make_dirs(struct husk_cgroup *cg, bool rootless, struct husk_err *err)
{
	for (size_t i = 0; i < cg->n;) {
		int r;
		cg->h[i].parents = 0; /* the plan's guess; count what we really make */
		r = make_dir(&cg->h[i], rootless, err);
		if (r < 0)
			return -1;
		if (r > 0)
			forget_hier(cg, i);
		else
			i++;
	}
	return 0;
}

static int make_systemd(struct husk_cgroup *cg, const struct husk_spec *spec, bool rootless,
			struct husk_err *err);

int husk_cgroup_make(struct husk_cgroup *cg, const struct husk_spec *spec, bool rootless,
		     struct husk_err *err)
{
	const struct cg_layout *l = cg->layout;

	if (cg->unit)
		return make_systemd(cg, spec, rootless, err);
	if (make_dirs(cg, rootless, err) < 0)
		goto fail;
	/* Rootless without any delegated hierarchy: run without cgroups (as
	 * runc does); asking for a limit then fails in cg_need(). */
	struct cg_hier *cpuset = cg_find(cg, "cpuset");
	struct cg_hier *u = cg_unified(cg);
	if (cpuset && !cpuset->mount->unified && cpuset->created &&
	    cg_cpuset_inherit(cpuset, err) < 0)
		goto fail;
	/* Pure v2: every controller, as runc. Hybrid: cgroup2 controllers only
	 * when the config uses them, so the host's subtree_control stays as it
	 * was for everyone else. */
	const struct husk_resources *r = spec->linux.resources;
	bool v2_needed = l->mode == HUSK_CGROUP_V2 || (r && (r->n_hugepages || r->unified.n));
	if (u && v2_needed && cg_v2_enable_controllers(u, cg_unified_controllers(l), err) < 0)
		goto fail;
	if (open_v2_fd(cg, err) < 0)
		goto fail;
	if (spec->linux.resources || !rootless) {
		static const struct husk_resources none;
		const struct husk_resources *res =
		    spec->linux.resources ? spec->linux.resources : &none;
		if (cg_apply(cg, res, !rootless, err) < 0)
			goto fail;
	}
	free(cg->saved);
	cg->saved = cg_saved_encode(cg);
	if (!cg->saved)
		return husk_err_set(err, ENOMEM, "cgroup");
	return 0;
fail:
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].created)
			remove_hier(&cg->h[i], &(struct husk_err){0});
	return -1;
}

/* ---- the systemd driver ---- */

int husk_cgroup_plan_systemd(const char *id, const char *cgroups_path, bool rootless,
			     struct husk_cgroup **out, struct husk_err *err)
{
	const struct cg_layout *l;
	struct husk_cgroup *cg;
	char *slice, *unit;

	if (cg_systemd_parse(cgroups_path, id, rootless, &slice, &unit, err) < 0)
		return -1;
	if (cg_systemd_check(rootless, err) < 0 || !(l = cg_layout_get(err))) {
		free(slice);
		free(unit);
		return -1;
	}
	if (l->mode != HUSK_CGROUP_V2) {
		free(slice);
		free(unit);
		return husk_err_set(err, ENOTSUP,
				    "the systemd cgroup driver needs a pure cgroup v2 host "
				    "(this one mounts cgroup v1 hierarchies)");
	}
	cg = cg_new(l, err);
	if (!cg) {
		free(slice);
		free(unit);
		return -1;
	}
	cg->unit = unit;
	cg->slice = slice;
	cg->user_manager = rootless;
	cg->saved = cg_saved_encode(cg);
	if (!cg->saved) {
		husk_cgroup_free(cg);
		return husk_err_set(err, ENOMEM, "cgroup");
	}
	*out = cg;
	return 0;
}

/* Where systemd put us: the unified line of /proc/self/cgroup. */
static int own_v2_path(char *buf, size_t size, struct husk_err *err)
{
	char line[PATH_MAX + 8];
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return husk_err_sys(err, "open /proc/self/cgroup");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, size, "%s", line + 3);
		return 0;
	}
	return husk_err_set(err, ENOENT, "/proc/self/cgroup has no cgroup v2 line");
}

/* The scope is started with husk's own pid, so the scope's cgroup is where
 * husk is now; from there on it is used like a directory husk made (but
 * never removed by husk: systemd owns it). */
static int make_systemd(struct husk_cgroup *cg, const struct husk_spec *spec, bool rootless,
			struct husk_err *err)
{
	const struct husk_resources *res = spec->linux.resources;
	struct cg_hier *h = &cg->h[0];
	const struct cg_mount *m = NULL;
	char path[PATH_MAX];
	size_t plen, ulen = strlen(cg->unit);

	for (size_t i = 0; i < cg->layout->n; i++)
		if (cg->layout->m[i].unified)
			m = &cg->layout->m[i];
	if (!m)
		return husk_err_set(err, ENOTSUP, "systemd cgroup driver: no cgroup2 mount");
	if (cg_systemd_start(cg->unit, cg->slice, cg->user_manager, res, err) < 0)
		return -1;
	cg->unit_ours = true;
	cg->runtime_inside = true;
	if (own_v2_path(path, sizeof(path), err) < 0)
		goto fail;
	plen = strlen(path);
	if (plen <= ulen || strcmp(path + plen - ulen, cg->unit) != 0 ||
	    path[plen - ulen - 1] != '/') {
		husk_err_set(err, EIO, "systemd started %s, but husk is in cgroup %s", cg->unit,
			     path);
		goto fail;
	}
	h->mount = m;
	h->path = strdup(path);
	h->dir = h->path ? cg_concat(m->dir, path) : NULL;
	cg->n = 1;
	if (!h->dir) {
		husk_err_set(err, ENOMEM, "cgroup");
		goto fail;
	}
	if (cg_v2_enable_controllers(h, cg_unified_controllers(cg->layout), err) < 0 ||
	    open_v2_fd(cg, err) < 0)
		goto fail;
	/* What systemd has no property for (devices, hugetlb, io limits,
	 * linux.resources.unified...) is written to the files, as runc does. */
	static const struct husk_resources none;
	if (cg_apply(cg, res ? res : &none, !rootless, err) < 0)
		goto fail;
	free(cg->saved);
	cg->saved = cg_saved_encode(cg);
	if (!cg->saved) {
		husk_err_set(err, ENOMEM, "cgroup");
		goto fail;
	}
	return 0;
fail:
	husk_cgroup_destroy(cg, &(struct husk_err){0});
	return -1;
}

int husk_cgroup_runtime_leave(struct husk_cgroup *cg)
{
	char pid[32];
	_cleanup_free_ char *procs = NULL;
	_cleanup_close_ int fd = -1;

	if (!cg->runtime_inside)
		return 0;
	for (size_t i = 0; i < cg->layout->n; i++) {
		const struct cg_mount *m = &cg->layout->m[i];
		if (!m->unified || !m->own)
			continue;
		/* The cgroup husk was started in, read before the scope existed. */
		if (asprintf(&procs, "%s%s/cgroup.procs", m->dir,
			     strcmp(m->own, "/") == 0 ? "" : m->own) < 0) {
			procs = NULL;
			return -1;
		}
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
			husk_debug("systemd: could not leave %s for %s: %s", cg->unit, procs,
				   strerror(errno));
			return -1;
		}
		cg->runtime_inside = false;
		return 0;
	}
	return -1;
}

int husk_cgroup_create(const char *id, const struct husk_spec *spec, bool rootless,
		       struct husk_cgroup **out, struct husk_err *err)
{
	struct husk_cgroup *cg;

	if (husk_cgroup_plan(id, spec->linux.cgroups_path, &cg, err) < 0)
		return -1;
	if (husk_cgroup_make(cg, spec, rootless, err) < 0) {
		husk_cgroup_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int husk_cgroup_enter(struct husk_cgroup *cg, pid_t pid, bool skip_v2, bool skip_v1,
		      struct husk_err *err)
{
	char val[32];
	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->h[i].mount->unified ? skip_v2 : skip_v1)
			continue;
		if (cg_write(&cg->h[i], "cgroup.procs", val, err) < 0)
			return husk_err_prefix(err, "join cgroup");
	}
	return 0;
}

void husk_cgroup_open_tasks(const struct husk_cgroup *cg, struct husk_cgroup_tasks *t)
{
	char path[PATH_MAX];

	t->n = 0;
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->h[i].mount->unified)
			continue;
		file_path(path, cg->h[i].dir, "tasks");
		int fd = t->n < HUSK_CGROUP_MAX_TASKS ? open(path, O_WRONLY | O_CLOEXEC) : -1;
		if (fd < 0) {
			husk_cgroup_close_tasks(t);
			return;
		}
		t->fd[t->n++] = fd;
	}
}

void husk_cgroup_close_tasks(struct husk_cgroup_tasks *t)
{
	for (size_t i = 0; i < t->n; i++)
		close(t->fd[i]);
	t->n = 0;
}

int husk_cgroup_update(struct husk_cgroup *cg, const struct husk_resources *res,
		       struct husk_err *err)
{
	/* systemd first: its own writes to the files must not undo ours. */
	if (cg->unit && cg_systemd_set(cg->unit, cg->user_manager, res, err) < 0)
		return husk_err_prefix(err, "update unit %s", cg->unit);
	/* Device rules are fixed at create, as with runc. */
	return cg_apply(cg, res, false, err);
}

int husk_cgroup_destroy(struct husk_cgroup *cg, struct husk_err *err)
{
	struct cg_hier *listed = cg_procs_hier(cg);
	int ret = 0;

	if (cg->unit) { /* systemd removes the scope's directory itself */
		if (!cg->unit_ours)
			return 0;
		/* A create that failed: kill the container, not husk. If husk
		 * cannot leave, the scope goes once husk exits and leaves it empty. */
		if (husk_cgroup_runtime_leave(cg) < 0)
			return 0;
		if (cg->n) {
			husk_cgroup_kill_all(cg, SIGKILL, &(struct husk_err){0});
			/* An emptied scope is stopped by systemd itself: wait up
			 * to a second for that before asking (on the test host a
			 * StopUnit racing it was seen to get no answer). */
			for (int i = 0; i < 100 && access(cg->h[0].dir, F_OK) == 0; i++)
				usleep(10000);
			if (access(cg->h[0].dir, F_OK) < 0 && errno == ENOENT)
				return 0;
		}
		return cg_systemd_stop(cg->unit, cg->user_manager, cg->n ? cg->h[0].dir : NULL,
				       err);
	}

	/* Usually every process is gone by delete: then the directory that
	 * lists them goes at the first rmdir (one holding a process, itself or
	 * below, refuses) and there is nothing to list or kill. */
	if (!listed || remove_tree(listed->dir) < 0) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (husk_cgroup_pids(cg, &pids, &n, err) == 0 && n > 0)
			husk_cgroup_kill_all(cg, SIGKILL, &(struct husk_err){0});
		free(pids);
	}
	husk_err_clear(err);
	for (size_t i = 0; i < cg->n; i++)
		if (remove_hier(&cg->h[i], err) < 0)
			ret = -1;
	return ret;
}
