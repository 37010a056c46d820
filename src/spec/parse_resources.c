/* config.json "linux.resources" (and `update --resources`): cgroup limits.
 * Only the shape and ranges are checked here; the cgroup code decides
 * what the host's controllers can do. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spec/parse.h"
#include "util/cleanup.h"

static int parse_device_rule(struct jctx *c, json_t *item, struct husk_device_rule *d)
{
	_cleanup_free_ char *type = NULL, *access = NULL;
	int rc;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "allow") < 0 || jm_bool(c, item, "allow", &d->allow) < 0)
		return -1;
	d->type = 'a';
	if ((rc = jm_str(c, item, "type", &type)) < 0)
		return -1;
	if (rc > 0 && type[0]) {
		if (strlen(type) != 1 || !strchr("acb", type[0])) {
			jp_key(c, "type");
			return jfail(c, "unknown device type \"%s\" (want a, c or b)", type);
		}
		d->type = type[0];
	}
	d->major = d->minor = -1;
	if (jm_range(c, item, "major", -1, UINT32_MAX, &d->major) < 0 ||
	    jm_range(c, item, "minor", -1, UINT32_MAX, &d->minor) < 0)
		return -1;
	strcpy(d->access, "rwm");
	if ((rc = jm_str(c, item, "access", &access)) < 0)
		return -1;
	if (rc > 0 && access[0]) {
		size_t n = strlen(access);
		if (n > 3 || strspn(access, "rwm") != n) {
			jp_key(c, "access");
			return jfail(c, "invalid access \"%s\" (want a subset of rwm)", access);
		}
		strcpy(d->access, access);
	}
	return 0;
}

static int parse_device_rules(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, obj, "devices", &arr)) <= 0)
		return rc;
	old = jp_key(c, "devices");
	r->devices = jcalloc(c, json_array_size(arr), sizeof(*r->devices), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		if (parse_device_rule(c, item, &r->devices[i]) < 0)
			return -1;
		r->n_devices = i + 1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

/* The spec: memory values are "the limit in bytes, or -1 for unlimited". */
static int jm_mem_bytes(struct jctx *c, json_t *mem, const char *key, struct husk_opt_i64 *out)
{
	int rc = jm_opt_i64(c, mem, key, out);

	if (rc > 0 && out->v < -1) {
		jp_key(c, key);
		return jfail(c, "%" PRId64 " out of range (want -1 for unlimited, or >= 0)",
			     out->v);
	}
	return rc;
}

static int parse_memory(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	struct husk_memory *m = &r->memory;
	json_t *mem;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, obj, "memory", &mem)) <= 0)
		return rc;
	r->has_memory = true;
	old = jp_key(c, "memory");
	if (jm_mem_bytes(c, mem, "limit", &m->limit) < 0 ||
	    jm_mem_bytes(c, mem, "reservation", &m->reservation) < 0 ||
	    jm_mem_bytes(c, mem, "swap", &m->swap) < 0 ||
	    jm_mem_bytes(c, mem, "kernel", &m->kernel) < 0 ||
	    jm_mem_bytes(c, mem, "kernelTCP", &m->kernel_tcp) < 0 ||
	    jm_opt_u64(c, mem, "swappiness", &m->swappiness) < 0)
		return -1;
	/* -1 written as uint64 (by int64-minded engines) means "leave it". */
	if (m->swappiness.set && m->swappiness.v == UINT64_MAX)
		m->swappiness.set = false;
	if (m->swappiness.set && m->swappiness.v > 100) {
		jp_key(c, "swappiness");
		return jfail(c, "must be between 0 and 100");
	}
	if ((rc = jm_bool(c, mem, "disableOOMKiller", &m->disable_oom_killer)) < 0)
		return -1;
	m->has_disable_oom_killer = rc > 0;
	if ((rc = jm_bool(c, mem, "useHierarchy", &m->use_hierarchy)) < 0)
		return -1;
	m->has_use_hierarchy = rc > 0;
	if (jm_bool(c, mem, "checkBeforeUpdate", &m->check_before_update) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

static int parse_cpu(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	struct husk_cpu *p = &r->cpu;
	json_t *cpu;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, obj, "cpu", &cpu)) <= 0)
		return rc;
	r->has_cpu = true;
	old = jp_key(c, "cpu");
	if (jm_opt_u64(c, cpu, "shares", &p->shares) < 0 ||
	    jm_opt_i64(c, cpu, "quota", &p->quota) < 0 ||
	    jm_opt_u64(c, cpu, "burst", &p->burst) < 0 ||
	    jm_opt_u64(c, cpu, "period", &p->period) < 0 ||
	    jm_opt_i64(c, cpu, "realtimeRuntime", &p->realtime_runtime) < 0 ||
	    jm_opt_u64(c, cpu, "realtimePeriod", &p->realtime_period) < 0 ||
	    jm_opt_i64(c, cpu, "idle", &p->idle) < 0 || jm_str(c, cpu, "cpus", &p->cpus) < 0 ||
	    jm_str(c, cpu, "mems", &p->mems) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

static int jm_u16(struct jctx *c, json_t *obj, const char *key, bool *has, uint16_t *out)
{
	int64_t v;
	int rc = jm_range(c, obj, key, 0, UINT16_MAX, &v);
	if (rc > 0) {
		*has = true;
		*out = (uint16_t)v;
	}
	return rc;
}

static int parse_major_minor(struct jctx *c, json_t *item, int64_t *major, int64_t *minor)
{
	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "major") < 0 || jm_need(c, item, "minor") < 0 ||
	    jm_range(c, item, "major", 0, UINT32_MAX, major) < 0 ||
	    jm_range(c, item, "minor", 0, UINT32_MAX, minor) < 0)
		return -1;
	return 0;
}

static int parse_weight_devices(struct jctx *c, json_t *bio, struct husk_blkio *b)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, bio, "weightDevice", &arr)) <= 0)
		return rc;
	old = jp_key(c, "weightDevice");
	b->weight_devices = jcalloc(c, json_array_size(arr), sizeof(*b->weight_devices), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		struct husk_blkio_weight_device *w = &b->weight_devices[i];
		if (parse_major_minor(c, item, &w->major, &w->minor) < 0 ||
		    jm_u16(c, item, "weight", &w->has_weight, &w->weight) < 0 ||
		    jm_u16(c, item, "leafWeight", &w->has_leaf_weight, &w->leaf_weight) < 0)
			return -1;
		b->n_weight_devices = i + 1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_throttle(struct jctx *c, json_t *bio, const char *key,
			  struct husk_throttle_list *list)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, bio, key, &arr)) <= 0)
		return rc;
	old = jp_key(c, key);
	list->v = jcalloc(c, json_array_size(arr), sizeof(*list->v), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		struct husk_blkio_throttle *t = &list->v[i];
		if (parse_major_minor(c, item, &t->major, &t->minor) < 0 ||
		    jm_need(c, item, "rate") < 0 || jm_u64(c, item, "rate", &t->rate) < 0)
			return -1;
		list->n = i + 1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_blkio(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	struct husk_blkio *b = &r->blkio;
	json_t *bio;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, obj, "blockIO", &bio)) <= 0)
		return rc;
	r->has_blkio = true;
	old = jp_key(c, "blockIO");
	if (jm_u16(c, bio, "weight", &b->has_weight, &b->weight) < 0 ||
	    jm_u16(c, bio, "leafWeight", &b->has_leaf_weight, &b->leaf_weight) < 0 ||
	    parse_weight_devices(c, bio, b) < 0 ||
	    parse_throttle(c, bio, "throttleReadBpsDevice", &b->read_bps) < 0 ||
	    parse_throttle(c, bio, "throttleWriteBpsDevice", &b->write_bps) < 0 ||
	    parse_throttle(c, bio, "throttleReadIOPSDevice", &b->read_iops) < 0 ||
	    parse_throttle(c, bio, "throttleWriteIOPSDevice", &b->write_iops) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

static int parse_hugepages(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, obj, "hugepageLimits", &arr)) <= 0)
		return rc;
	old = jp_key(c, "hugepageLimits");
	r->hugepages = jcalloc(c, json_array_size(arr), sizeof(*r->hugepages), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		struct husk_hugepage_limit *h = &r->hugepages[i];
		r->n_hugepages = i + 1;
		if (!json_is_object(item))
			return jfail(c, "must be an object");
		if (jm_need(c, item, "pageSize") < 0 || jm_need(c, item, "limit") < 0 ||
		    jm_str(c, item, "pageSize", &h->page_size) < 0 ||
		    jm_u64(c, item, "limit", &h->limit) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_network(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	json_t *net, *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_obj(c, obj, "network", &net)) <= 0)
		return rc;
	old = jp_key(c, "network");
	if ((rc = jm_u32(c, net, "classID", &r->net_class_id)) < 0)
		return -1;
	r->has_net_class_id = rc > 0;
	if ((rc = jm_arr(c, net, "priorities", &arr)) < 0)
		return -1;
	if (rc > 0) {
		jp_key(c, "priorities");
		r->net_priorities =
		    jcalloc(c, json_array_size(arr), sizeof(*r->net_priorities), &rc);
		if (rc < 0)
			return -1;
		json_array_foreach(arr, i, item)
		{
			size_t o2 = jp_idx(c, i);
			struct husk_net_priority *p = &r->net_priorities[i];
			r->n_net_priorities = i + 1;
			if (!json_is_object(item))
				return jfail(c, "must be an object");
			if (jm_need(c, item, "name") < 0 || jm_need(c, item, "priority") < 0 ||
			    jm_str(c, item, "name", &p->name) < 0 ||
			    jm_u32(c, item, "priority", &p->priority) < 0)
				return -1;
			jp_pop(c, o2);
		}
	}
	jp_pop(c, old);
	return 0;
}

static int parse_rdma(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	json_t *rdma, *item;
	const char *dev;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, obj, "rdma", &rdma)) <= 0)
		return rc;
	old = jp_key(c, "rdma");
	r->rdma = jcalloc(c, json_object_size(rdma), sizeof(*r->rdma), &rc);
	if (rc < 0)
		return -1;
	json_object_foreach(rdma, dev, item)
	{
		size_t o2 = jp_key(c, dev);
		struct husk_rdma_limit *l = &r->rdma[r->n_rdma++];
		if (!json_is_object(item))
			return jfail(c, "must be an object");
		l->device = strdup(dev);
		if (!l->device)
			return jnomem(c);
		if ((rc = jm_u32(c, item, "hcaHandles", &l->hca_handles)) < 0)
			return -1;
		l->has_hca_handles = rc > 0;
		if ((rc = jm_u32(c, item, "hcaObjects", &l->hca_objects)) < 0)
			return -1;
		l->has_hca_objects = rc > 0;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_pids(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	json_t *pids;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, obj, "pids", &pids)) <= 0)
		return rc;
	old = jp_key(c, "pids");
	if (jm_opt_i64(c, pids, "limit", &r->pids_limit) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

int husk_parse_resources(struct jctx *c, json_t *obj, struct husk_resources *r)
{
	if (parse_device_rules(c, obj, r) < 0 || parse_memory(c, obj, r) < 0 ||
	    parse_cpu(c, obj, r) < 0 || parse_pids(c, obj, r) < 0 || parse_blkio(c, obj, r) < 0 ||
	    parse_hugepages(c, obj, r) < 0 || parse_network(c, obj, r) < 0 ||
	    parse_rdma(c, obj, r) < 0 || jm_kvv(c, obj, "unified", &r->unified) < 0)
		return -1;
	return 0;
}

static void throttle_free(struct husk_throttle_list *l)
{
	free(l->v);
}

void husk_resources_clear(struct husk_resources *r)
{
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_devices);
	throttle_free(&r->blkio.read_bps);
	throttle_free(&r->blkio.write_bps);
	throttle_free(&r->blkio.read_iops);
	throttle_free(&r->blkio.write_iops);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	for (size_t i = 0; i < r->n_net_priorities; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	husk_kvv_free(&r->unified);
	memset(r, 0, sizeof(*r));
}

void husk_resources_free(struct husk_resources *r)
{
	if (!r)
		return;
	husk_resources_clear(r);
	free(r);
}
