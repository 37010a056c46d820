/* The processes of a container's cgroup: listing, signalling, freezing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define FREEZE_TIMEOUT_MS 5000

/* The hierarchy whose directory tree lists the container's processes. */
struct cg_hier *cg_procs_hier(const struct husk_cgroup *cg)
{
	struct cg_hier *h;
	if (cg->layout->mode == HUSK_CGROUP_V2 && (h = cg_unified(cg)))
		return h;
	if ((h = cg_find(cg, "pids")) || (h = cg_find(cg, "freezer")) ||
	    (h = cg_find(cg, "memory")))
		return h;
	return cg->n ? &cg->h[0] : NULL;
}

struct pidv {
	pid_t *v;
	size_t n, cap;
};

static int pidv_add(struct pidv *p, pid_t pid)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		pid_t *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = pid;
	return 0;
}

/* cgroup.procs of dir and of every cgroup below it (nested cgroups made
 * inside the container still belong to it). */
static int collect(const char *dir, struct pidv *out, struct husk_err *err)
{
	char path[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	long pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return husk_err_sys(err, "open %s", path);
	while (fscanf(f, "%ld", &pid) == 1)
		if (pidv_add(out, (pid_t)pid) < 0)
			return husk_err_set(err, ENOMEM, "list pids");
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (collect(path, out, err) < 0 && err->code != ENOENT)
			return -1;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int husk_cgroup_pids(struct husk_cgroup *cg, pid_t **pids, size_t *n, struct husk_err *err)
{
	struct cg_hier *h = cg_procs_hier(cg);
	struct pidv v = {0};

	*pids = NULL;
	*n = 0;
	if (!h)
		return 0;
	if (collect(h->dir, &v, err) < 0) {
		free(v.v);
		if (err->code != ENOENT)
			return -1;
		/* Never made, or gone already: it holds nothing. */
		husk_err_clear(err);
		return 0;
	}
	if (v.n > 1)
		qsort(v.v, v.n, sizeof(*v.v), cmp_pid);
	*pids = v.v;
	*n = v.n;
	return 0;
}

/* ---- freezer ---- */

int cg_freeze_v1(struct cg_hier *h, bool frozen, struct husk_err *err)
{
	char state[32];
	long deadline = husk_monotonic_ms() + FREEZE_TIMEOUT_MS;
	useconds_t wait = 100;

	if (cg_write(h, "freezer.state", frozen ? "FROZEN" : "THAWED", err) < 0)
		return -1;
	if (!frozen)
		return 0;
	/* FREEZING settles to FROZEN once every task stopped; tasks forked
	 * meanwhile need the state written again. */
	for (;;) {
		if (cg_read(h, "freezer.state", state, sizeof(state), err) < 0)
			return -1;
		if (strcmp(state, "FROZEN") == 0)
			return 0;
		if (husk_monotonic_ms() > deadline)
			break;
		usleep(wait);
		wait = wait < 10000 ? wait * 2 : wait;
		if (cg_write(h, "freezer.state", "FROZEN", err) < 0)
			return -1;
	}
	cg_write(h, "freezer.state", "THAWED", &(struct husk_err){0});
	return husk_err_set(err, ETIMEDOUT, "freeze %s: still %s after %d ms", h->dir, state,
			    FREEZE_TIMEOUT_MS);
}

/* cgroup.events raises POLLPRI when "frozen" changes: no sleeping. */
int cg_freeze_v2(struct cg_hier *h, bool frozen, struct husk_err *err)
{
	char path[PATH_MAX], buf[256];
	_cleanup_close_ int fd = -1;
	long deadline = husk_monotonic_ms() + FREEZE_TIMEOUT_MS;
	const char *want = frozen ? "frozen 1" : "frozen 0";

	if (cg_write(h, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.events", h->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "open %s", path);
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return husk_err_sys(err, "read %s", path);
		buf[n] = '\0';
		if (strstr(buf, want))
			return 0;
		long left = deadline - husk_monotonic_ms();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return husk_err_sys(err, "poll %s", path);
	}
	if (frozen)
		cg_write(h, "cgroup.freeze", "0", &(struct husk_err){0});
	return husk_err_set(err, ETIMEDOUT, "%s %s: not settled after %d ms",
			    frozen ? "freeze" : "thaw", h->dir, FREEZE_TIMEOUT_MS);
}

/* v1 freezer hierarchy if mounted, else the cgroup2 core freezer. */
static struct cg_hier *freezer_hier(const struct husk_cgroup *cg, bool *v2)
{
	struct cg_hier *h = NULL;
	for (size_t i = 0; i < cg->n && !h; i++)
		if (!cg->h[i].mount->unified &&
		    cg_list_has(cg->h[i].mount->controllers, ',', "freezer"))
			h = &cg->h[i];
	*v2 = !h;
	return h ? h : cg_unified(cg);
}

int husk_cgroup_freeze(struct husk_cgroup *cg, bool frozen, struct husk_err *err)
{
	bool v2;
	struct cg_hier *h = freezer_hier(cg, &v2);
	if (!h)
		return husk_err_set(err, ENOTSUP, "%s: no freezer cgroup",
				    frozen ? "pause" : "resume");
	return v2 ? cg_freeze_v2(h, frozen, err) : cg_freeze_v1(h, frozen, err);
}

/* Writes val to file in dir and in every cgroup below it, parents first: a
 * v1 cgroup stays frozen while its parent is. */
static void write_tree(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int fd = -1;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, val, strlen(val)) < 0)
		husk_debug("write %s to %s: %s", val, path, strerror(errno));
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		write_tree(path, file, val);
	}
}

void husk_cgroup_thaw_all(struct husk_cgroup *cg)
{
	bool v2;
	struct cg_hier *h = freezer_hier(cg, &v2);

	if (h)
		write_tree(h->dir, v2 ? "cgroup.freeze" : "freezer.state", v2 ? "0" : "THAWED");
	/* Hybrid: a sub-cgroup may also be frozen through cgroup2. */
	if (!v2 && (h = cg_unified(cg)))
		write_tree(h->dir, "cgroup.freeze", "0");
}

int husk_cgroup_is_frozen(struct husk_cgroup *cg, bool *frozen, struct husk_err *err)
{
	bool v2;
	char buf[32];
	struct cg_hier *h = freezer_hier(cg, &v2);

	*frozen = false;
	if (!h)
		return 0;
	if (cg_read(h, v2 ? "cgroup.freeze" : "freezer.state", buf, sizeof(buf), err) < 0)
		return -1;
	*frozen = v2 ? strcmp(buf, "1") == 0 : strcmp(buf, "FROZEN") == 0;
	return 0;
}

/* ---- signals ---- */

static int signal_each(struct husk_cgroup *cg, int sig, size_t *left, struct husk_err *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;

	if (husk_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return husk_err_sys(err, "kill %d with signal %d", (int)pids[i], sig);
	*left = n;
	return 0;
}

/* SIGKILL needs no freezing: a killed task forks no more, and a child
 * forked before the signal shows up in the next round. Frozen tasks die only
 * once thawed, so thaw after signalling. */
static int kill_everything(struct husk_cgroup *cg, struct husk_err *err)
{
	struct cg_hier *u = cg_unified(cg);
	size_t left = 0;

	/* cgroup.kill kills the whole subtree at once, frozen or not. On hybrid
	 * hosts go on anyway for the v1 freezer and any task not in cgroup2. */
	if (u && cg_has_file(u, "cgroup.kill")) {
		if (cg_write(u, "cgroup.kill", "1", err) < 0)
			return -1;
		if (cg->layout->mode == HUSK_CGROUP_V2)
			return 0;
	}
	if (signal_each(cg, SIGKILL, &left, err) < 0)
		return -1;
	for (int round = 0; left > 0 && round < 200; round++) {
		/* Every round: a task forked into a frozen sub-cgroup meanwhile. */
		husk_cgroup_thaw_all(cg);
		usleep(round < 10 ? 1000 : 10000);
		if (signal_each(cg, SIGKILL, &left, err) < 0)
			return -1;
	}
	return 0;
}

int husk_cgroup_kill_all(struct husk_cgroup *cg, int sig, struct husk_err *err)
{
	bool was_frozen = false;
	size_t left = 0;
	int ret;

	if (sig == SIGKILL)
		return kill_everything(cg, err);
	if (sig == 0) /* a probe: nothing to freeze for */
		return signal_each(cg, 0, &left, err);
	if (husk_cgroup_is_frozen(cg, &was_frozen, err) < 0)
		return -1;
	/* Freeze first so no process forks past the list being signalled; a
	 * paused container stays paused (the signal waits for resume). */
	if (!was_frozen && husk_cgroup_freeze(cg, true, err) < 0)
		husk_err_clear(err); /* no freezer: signal anyway */
	ret = signal_each(cg, sig, &left, err);
	if (!was_frozen)
		husk_cgroup_freeze(cg, false, &(struct husk_err){0});
	return ret;
}
