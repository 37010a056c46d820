/* `update`'s flags turned into the resource limits husk_update applies. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

static struct husk_opt_i64 signed_value(struct husk_update_value v)
{
	return (struct husk_opt_i64){v.set, v.v};
}

/* A value that cannot be negative (shares, periods). */
static int unsigned_value(struct husk_update_value v, const char *name, struct husk_opt_u64 *out,
			  struct husk_err *err)
{
	if (v.set && v.v < 0)
		return husk_err_plain(err, EINVAL, "update: %s: %" PRId64 " is negative", name,
				      v.v);
	*out = (struct husk_opt_u64){v.set, (uint64_t)v.v};
	return 0;
}

static bool any_set(const struct husk_update_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].set)
			return true;
	return false;
}

static void memory_from_opts(const struct husk_update_opts *o, struct husk_resources *r)
{
	const struct husk_update_value all[] = {o->memory, o->memory_reservation, o->memory_swap,
						o->kernel_memory, o->kernel_memory_tcp};

	r->has_memory = any_set(all, sizeof(all) / sizeof(all[0]));
	r->memory.limit = signed_value(o->memory);
	r->memory.reservation = signed_value(o->memory_reservation);
	r->memory.swap = signed_value(o->memory_swap);
	r->memory.kernel = signed_value(o->kernel_memory);
	r->memory.kernel_tcp = signed_value(o->kernel_memory_tcp);
}

static int cpu_from_opts(const struct husk_update_opts *o, struct husk_resources *r,
			 struct husk_err *err)
{
	const struct husk_update_value all[] = {o->cpu_shares, o->cpu_quota, o->cpu_period,
						o->cpu_rt_period, o->cpu_rt_runtime};

	r->has_cpu = any_set(all, sizeof(all) / sizeof(all[0])) || o->cpuset_cpus || o->cpuset_mems;
	r->cpu.quota = signed_value(o->cpu_quota);
	r->cpu.realtime_runtime = signed_value(o->cpu_rt_runtime);
	if (unsigned_value(o->cpu_shares, "cpu_shares", &r->cpu.shares, err) < 0 ||
	    unsigned_value(o->cpu_period, "cpu_period", &r->cpu.period, err) < 0 ||
	    unsigned_value(o->cpu_rt_period, "cpu_rt_period", &r->cpu.realtime_period, err) < 0)
		return -1;
	if ((o->cpuset_cpus && !(r->cpu.cpus = strdup(o->cpuset_cpus))) ||
	    (o->cpuset_mems && !(r->cpu.mems = strdup(o->cpuset_mems))))
		return husk_err_set(err, ENOMEM, "update");
	return 0;
}

static int resources_from_opts(const struct husk_update_opts *o, struct husk_resources *r,
			       struct husk_err *err)
{
	memory_from_opts(o, r);
	r->pids_limit = signed_value(o->pids_limit);
	if (o->blkio_weight && (o->blkio_weight < 10 || o->blkio_weight > 1000))
		return husk_err_plain(err, EINVAL, "update: blkio_weight: %u is not in 10..1000",
				      (unsigned)o->blkio_weight);
	r->has_blkio = r->blkio.has_weight = o->blkio_weight != 0;
	r->blkio.weight = o->blkio_weight;
	return cpu_from_opts(o, r, err);
}

struct husk_resources *husk_resources_from_update_opts(const struct husk_update_opts *o,
						       struct husk_err *err)
{
	struct husk_resources *r = calloc(1, sizeof(*r));

	if (!r) {
		husk_err_set(err, ENOMEM, "update");
		return NULL;
	}
	if (resources_from_opts(o, r, err) < 0) {
		husk_resources_free(r);
		return NULL;
	}
	return r;
}
