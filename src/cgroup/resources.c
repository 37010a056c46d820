/* linux.resources onto cgroup files. Every value is written or refused with
 * an error naming the field and the reason; nothing is skipped silently. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"

int cg_set(const struct cg_hier *h, const char *field, const char *file, const char *val,
	   struct husk_err *err)
{
	if (cg_write(h, file, val, err) == 0)
		return 0;
	if (err->code == ENOENT)
		return husk_err_set(err, 0, "%s: %s not available in %s", field, file, h->dir);
	return husk_err_prefix(err, "%s", field);
}

struct cg_hier *cg_need(const struct husk_cgroup *cg, const char *controller, const char *field,
			struct husk_err *err)
{
	struct cg_hier *h = cg_find(cg, controller);
	if (h)
		return h;
	/* The host has it but the container has no cgroup there: a rootless
	 * caller could not create one (a v1 hierarchy not joined, or, on
	 * cgroup2, no cgroup at all where none was delegated). */
	bool on_host =
	    !cg_unified(cg) && cg_list_has(cg_unified_controllers(cg->layout), ' ', controller);
	for (size_t i = 0; i < cg->layout->n && !on_host; i++)
		on_host = !cg->layout->m[i].unified &&
			  cg_list_has(cg->layout->m[i].controllers, ',', controller);
	if (on_host) {
		husk_err_plain(err, EACCES,
			       "%s: no permission to create a %s cgroup (rootless without a "
			       "delegated cgroup)",
			       field, controller);
		return NULL;
	}
	husk_err_set(err, 0, "%s: the %s cgroup controller is not available on this host", field,
		     controller);
	return NULL;
}

static int apply_pids(struct husk_cgroup *cg, const struct husk_opt_i64 *limit,
		      struct husk_err *err)
{
	char val[32];
	struct cg_hier *h;

	/* 0 leaves the limit alone (runc); negative means unlimited. */
	if (!limit->set || limit->v == 0)
		return 0;
	h = cg_need(cg, "pids", "linux.resources.pids.limit", err);
	if (!h)
		return -1;
	cg_fmt_limit(val, sizeof(val), limit->v, true);
	return cg_set(h, "linux.resources.pids.limit", "pids.max", val, err);
}

static int apply_hugetlb(struct husk_cgroup *cg, const struct husk_resources *res,
			 struct husk_err *err)
{
	for (size_t i = 0; i < res->n_hugepages; i++) {
		const struct husk_hugepage_limit *hp = &res->hugepages[i];
		char field[96], file[128], val[32];
		struct cg_hier *h;

		snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
		h = cg_need(cg, "hugetlb", field, err);
		if (!h)
			return -1;
		if (!hp->page_size || strchr(hp->page_size, '/') || strstr(hp->page_size, ".."))
			return husk_err_set(err, 0, "%s: invalid page size", field);
		snprintf(val, sizeof(val), "%" PRIu64, hp->limit);
		snprintf(file, sizeof(file), "hugetlb.%s.%s", hp->page_size,
			 h->mount->unified ? "max" : "limit_in_bytes");
		if (!cg_has_file(h, file))
			return husk_err_set(err, 0,
					    "%s: %s not available (page size %s not supported)",
					    field, file, hp->page_size);
		if (cg_set(h, field, file, val, err) < 0)
			return -1;
		/* Reservation accounting exists on newer kernels: keep it in step. */
		snprintf(file, sizeof(file), "hugetlb.%s.rsvd.%s", hp->page_size,
			 h->mount->unified ? "max" : "limit_in_bytes");
		if (cg_has_file(h, file) && cg_set(h, field, file, val, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_net(struct husk_cgroup *cg, const struct husk_resources *res, struct husk_err *err)
{
	struct cg_hier *h;
	char val[160];

	if (res->has_net_class_id) {
		h = cg_need(cg, "net_cls", "linux.resources.network.classID", err);
		if (!h)
			return -1;
		snprintf(val, sizeof(val), "%" PRIu32, res->net_class_id);
		if (cg_set(h, "linux.resources.network.classID", "net_cls.classid", val, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < res->n_net_priorities; i++) {
		h = cg_need(cg, "net_prio", "linux.resources.network.priorities", err);
		if (!h)
			return -1;
		snprintf(val, sizeof(val), "%s %" PRIu32, res->net_priorities[i].name,
			 res->net_priorities[i].priority);
		if (cg_set(h, "linux.resources.network.priorities", "net_prio.ifpriomap", val,
			   err) < 0)
			return -1;
	}
	return 0;
}

static int apply_rdma(struct husk_cgroup *cg, const struct husk_resources *res,
		      struct husk_err *err)
{
	for (size_t i = 0; i < res->n_rdma; i++) {
		const struct husk_rdma_limit *r = &res->rdma[i];
		char val[256];
		int len;
		struct cg_hier *h = cg_need(cg, "rdma", "linux.resources.rdma", err);
		if (!h)
			return -1;
		if (!r->has_hca_handles && !r->has_hca_objects)
			continue;
		len = snprintf(val, sizeof(val), "%s", r->device);
		if (r->has_hca_handles)
			len += snprintf(val + len, sizeof(val) - len, " hca_handle=%" PRIu32,
					r->hca_handles);
		if (r->has_hca_objects)
			snprintf(val + len, sizeof(val) - len, " hca_object=%" PRIu32,
				 r->hca_objects);
		if (cg_set(h, "linux.resources.rdma", "rdma.max", val, err) < 0)
			return -1;
	}
	return 0;
}

/* Files whose writes the runtime's own state depends on: freezing at create
 * would hang the start, cgroup.procs/threads would pull host processes in,
 * cgroup.kill would kill the container before it runs. */
static bool runtime_owned(const char *key)
{
	static const char *const owned[] = {"cgroup.procs", "cgroup.threads", "cgroup.freeze",
					    "cgroup.kill"};
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strcmp(key, owned[i]) == 0)
			return true;
	return false;
}

/* linux.resources.unified: raw cgroup2 files, written last so they win. */
static int apply_unified(struct husk_cgroup *cg, const struct husk_kvv *kv, struct husk_err *err)
{
	struct cg_hier *u = cg_unified(cg);

	if (kv->n == 0)
		return 0;
	if (!u)
		return husk_err_set(err, 0,
				    "linux.resources.unified: needs a cgroup2 hierarchy (this host "
				    "has cgroup v1 only)");
	for (size_t i = 0; i < kv->n; i++) {
		const char *key = kv->v[i].key;
		char field[320];
		snprintf(field, sizeof(field), "linux.resources.unified.%s", key);
		if (!key[0] || key[0] == '.' || strchr(key, '/') || strstr(key, ".."))
			return husk_err_set(err, 0, "%s: not a cgroup file name", field);
		if (runtime_owned(key))
			return husk_err_set(
			    err, 0, "%s: managed by the runtime (use pause, resume, kill)", field);
		if (!cg_has_file(u, key)) {
			size_t clen = strcspn(key, ".");
			_cleanup_free_ char *ctrl = strndup(key, clen);
			bool known =
			    ctrl && (strcmp(ctrl, "cgroup") == 0 ||
				     cg_list_has(cg_unified_controllers(cg->layout), ' ', ctrl));
			return husk_err_set(err, 0, "%s: no such file in %s%s", field, u->dir,
					    known ? "" : " (controller not enabled on cgroup2)");
		}
		if (cg_set(u, field, key, kv->v[i].value, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_devices(struct husk_cgroup *cg, const struct husk_resources *res,
			 struct husk_err *err)
{
	size_t n = res->n_devices + cg_n_default_device_rules;
	_cleanup_free_ struct husk_device_rule *rules = malloc(n * sizeof(*rules));
	struct cg_hier *h = NULL;

	if (!rules)
		return husk_err_set(err, ENOMEM, "device rules");
	if (res->n_devices)
		memcpy(rules, res->devices, res->n_devices * sizeof(*rules));
	memcpy(rules + res->n_devices, cg_default_device_rules,
	       cg_n_default_device_rules * sizeof(*rules));
	for (size_t i = 0; i < cg->n && !h; i++)
		if (!cg->h[i].mount->unified &&
		    cg_list_has(cg->h[i].mount->controllers, ',', "devices"))
			h = &cg->h[i];
	if (h)
		return cg_devices_v1(h, rules, n, err);
	h = cg_unified(cg);
	if (!h)
		return husk_err_set(err, 0,
				    "linux.resources.devices: no devices cgroup on this host");
	return cg_devices_v2(h, rules, n, err);
}

int cg_apply(struct husk_cgroup *cg, const struct husk_resources *res, bool with_devices,
	     struct husk_err *err)
{
	if (with_devices && apply_devices(cg, res, err) < 0)
		return -1;
	if (res->has_memory && cg_apply_memory(cg, &res->memory, err) < 0)
		return -1;
	if (res->has_cpu && cg_apply_cpu(cg, &res->cpu, err) < 0)
		return -1;
	if (res->has_blkio && cg_apply_blkio(cg, &res->blkio, err) < 0)
		return -1;
	if (apply_pids(cg, &res->pids_limit, err) < 0 || apply_hugetlb(cg, res, err) < 0 ||
	    apply_net(cg, res, err) < 0 || apply_rdma(cg, res, err) < 0)
		return -1;
	return apply_unified(cg, &res->unified, err);
}

/* Calls fn for the mount root and every directory down to h->dir (or to its
 * parent when !with_leaf), top down. */
static int for_each_level(const struct cg_hier *h, bool with_leaf,
			  int (*fn)(const struct cg_hier *level, void *arg), void *arg)
{
	size_t base = cg_base_len(h);
	_cleanup_free_ char *p = strdup(h->dir);
	char *s;

	if (!p)
		return -1;
	for (s = p + base;; s = strchr(s + 1, '/')) {
		char saved = s ? *s : '\0';
		if (!s && !with_leaf)
			break;
		if (s)
			*s = '\0';
		struct cg_hier level = {.mount = h->mount, .dir = p};
		int r = fn(&level, arg);
		if (s)
			*s = saved;
		if (r < 0)
			return r;
		if (!s)
			break;
	}
	return 0;
}

struct cpuset_walk {
	const char *file;
	char parent[4096];
	struct husk_err *err;
};

static int cpuset_level(const struct cg_hier *level, void *arg)
{
	struct cpuset_walk *w = arg;
	char val[4096];

	if (cg_read(level, w->file, val, sizeof(val), w->err) < 0)
		return -1;
	if (!val[0] && w->parent[0]) {
		if (cg_write(level, w->file, w->parent, w->err) < 0)
			return husk_err_prefix(w->err, "inherit %s", w->file);
		return 0;
	}
	memcpy(w->parent, val, sizeof(val));
	return 0;
}

/* The usual case, only the leaf is new: copy the value of its parent (one
 * read, one write). Returns 1 when the parent has none either. */
static int cpuset_from_parent(const struct cg_hier *h, const char *file, struct husk_err *err)
{
	char parent_dir[PATH_MAX], val[4096];
	const char *slash = strrchr(h->dir, '/');
	size_t len = slash ? (size_t)(slash - h->dir) : 0;

	if (h->parents || len < cg_base_len(h) || len >= sizeof(parent_dir))
		return 1;
	memcpy(parent_dir, h->dir, len);
	parent_dir[len] = '\0';
	struct cg_hier parent = {.mount = h->mount, .dir = parent_dir};
	if (cg_read(&parent, file, val, sizeof(val), err) < 0)
		return -1;
	if (!val[0])
		return 1;
	if (cg_write(h, file, val, err) < 0)
		return husk_err_prefix(err, "inherit %s", file);
	return 0;
}

/* A new v1 cpuset starts empty and takes no task until cpus and mems are
 * set: fill them from the nearest ancestor, top down. */
int cg_cpuset_inherit(const struct cg_hier *h, struct husk_err *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t f = 0; f < 2; f++) {
		struct cpuset_walk w = {.file = files[f], .err = err};
		int r = cpuset_from_parent(h, files[f], err);
		if (r <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (for_each_level(h, true, cpuset_level, &w) < 0)
			return err->msg[0] ? -1 : husk_err_set(err, ENOMEM, "cpuset");
	}
	return 0;
}

struct enable_walk {
	const char *want; /* "+a +b" */
};

static int enable_level(const struct cg_hier *level, void *arg)
{
	struct enable_walk *w = arg;
	char one[64];
	if (cg_write(level, "cgroup.subtree_control", w->want, &(struct husk_err){0}) == 0)
		return 0;
	/* All at once failed (one controller busy): enable what we can. */
	for (const char *c = w->want; *c;) {
		size_t n = strcspn(c, " ");
		snprintf(one, sizeof(one), "%.*s", (int)n, c);
		cg_write(level, "cgroup.subtree_control", one, &(struct husk_err){0});
		c += n;
		c += *c == ' ';
	}
	return 0;
}

/* A cgroup2 child sees a controller only once every ancestor enabled it in
 * cgroup.subtree_control. Cheap check first: the leaf already has them all. */
int cg_v2_enable_controllers(const struct cg_hier *h, const char *available, struct husk_err *err)
{
	char have[512], want[512] = "";
	size_t len = 0;
	bool missing = false;

	if (!available || !available[0])
		return 0;
	if (cg_read(h, "cgroup.controllers", have, sizeof(have), err) < 0)
		return -1;
	for (const char *c = available; *c;) {
		size_t n = strcspn(c, " ");
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)n, c);
		missing = missing || !cg_list_has(have, ' ', name);
		len += snprintf(want + len, sizeof(want) - len, "%s+%s", len ? " " : "", name);
		c += n;
		c += *c == ' ';
	}
	if (!missing)
		return 0;
	struct enable_walk w = {.want = want};
	if (for_each_level(h, false, enable_level, &w) < 0)
		return husk_err_set(err, ENOMEM, "cgroup controllers");
	return 0;
}
