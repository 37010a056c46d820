/* linux.resources.memory and .cpu on v1 and v2 files. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "util/log.h"

#define F_MEM "linux.resources.memory"
#define F_CPU "linux.resources.cpu"

static int set_i64(const struct cg_hier *h, const char *field, const char *file, int64_t v,
		   struct husk_err *err)
{
	char val[32];
	/* -1 is "unlimited"; other negatives are mistakes, not a way to say it. */
	if (v < -1)
		return husk_err_set(err, 0, "%s: %" PRId64 " is not valid (-1 means unlimited)",
				    field, v);
	cg_fmt_limit(val, sizeof(val), v, h->mount->unified);
	return cg_set(h, field, file, val, err);
}

static int set_u64(const struct cg_hier *h, const char *field, const char *file, uint64_t v,
		   struct husk_err *err)
{
	char val[32];
	snprintf(val, sizeof(val), "%" PRIu64, v);
	return cg_set(h, field, file, val, err);
}

/* memory.checkBeforeUpdate: refuse a limit below what is in use now. */
static int check_usage(const struct cg_hier *h, const struct husk_memory *m, struct husk_err *err)
{
	uint64_t usage;
	if (!m->check_before_update || !m->limit.set || m->limit.v <= 0)
		return 0;
	if (cg_read_u64(h, h->mount->unified ? "memory.current" : "memory.usage_in_bytes", &usage,
			err) < 0)
		return husk_err_prefix(err, F_MEM ".checkBeforeUpdate");
	if ((uint64_t)m->limit.v < usage)
		return husk_err_set(err, 0,
				    F_MEM ".limit: %" PRId64 " is below the current usage %" PRIu64,
				    m->limit.v, usage);
	return 0;
}

/* The kernel keeps memsw >= limit at every step, so the order of the two
 * writes depends on whether the limits grow or shrink: try limit first and
 * swap first on EINVAL. */
static int v1_limit_and_swap(const struct cg_hier *h, const struct husk_memory *m,
			     struct husk_err *err)
{
	static const char memsw[] = "memory.memsw.limit_in_bytes";
	struct husk_opt_i64 swap = m->swap;

	if (swap.set && !cg_has_file(h, memsw))
		return husk_err_set(err, 0, F_MEM ".swap: %s not available (swap accounting off)",
				    memsw);
	/* An unlimited memory with no swap given: unlimited swap too (runc). */
	if (!swap.set && m->limit.set && m->limit.v < 0 && cg_has_file(h, memsw))
		swap = (struct husk_opt_i64){.set = true, .v = -1};
	if (!m->limit.set)
		return swap.set ? set_i64(h, F_MEM ".swap", memsw, swap.v, err) : 0;
	if (set_i64(h, F_MEM ".limit", "memory.limit_in_bytes", m->limit.v, err) == 0)
		return swap.set ? set_i64(h, F_MEM ".swap", memsw, swap.v, err) : 0;
	if (!swap.set || err->code != EINVAL)
		return -1;
	husk_err_clear(err);
	if (set_i64(h, F_MEM ".swap", memsw, swap.v, err) < 0)
		return -1;
	return set_i64(h, F_MEM ".limit", "memory.limit_in_bytes", m->limit.v, err);
}

/* Deprecated kernel-memory limits: written where the kernel still has the
 * file; elsewhere only 0 (no limit wanted) is accepted. */
static int kmem(const struct cg_hier *h, const char *field, const char *file,
		const struct husk_opt_i64 *v, struct husk_err *err)
{
	if (!v->set)
		return 0;
	if (h->mount->unified || !cg_has_file(h, file)) {
		if (v->v == 0)
			return 0;
		return husk_err_set(err, 0, "%s: kernel memory limits are not supported by this %s",
				    field, h->mount->unified ? "cgroup v2 host" : "kernel");
	}
	return set_i64(h, field, file, v->v, err);
}

static int memory_v1(const struct cg_hier *h, const struct husk_memory *m, struct husk_err *err)
{
	if (v1_limit_and_swap(h, m, err) < 0)
		return -1;
	if (m->reservation.set && set_i64(h, F_MEM ".reservation", "memory.soft_limit_in_bytes",
					  m->reservation.v, err) < 0)
		return -1;
	if (kmem(h, F_MEM ".kernel", "memory.kmem.limit_in_bytes", &m->kernel, err) < 0 ||
	    kmem(h, F_MEM ".kernelTCP", "memory.kmem.tcp.limit_in_bytes", &m->kernel_tcp, err) < 0)
		return -1;
	if (m->swappiness.set) {
		if (m->swappiness.v > 100)
			return husk_err_set(err, 0,
					    F_MEM ".swappiness: %" PRIu64 " is not in 0-100",
					    m->swappiness.v);
		if (set_u64(h, F_MEM ".swappiness", "memory.swappiness", m->swappiness.v, err) < 0)
			return -1;
	}
	if (m->has_disable_oom_killer && m->disable_oom_killer &&
	    cg_set(h, F_MEM ".disableOOMKiller", "memory.oom_control", "1", err) < 0)
		return -1;
	if (m->has_use_hierarchy && cg_set(h, F_MEM ".useHierarchy", "memory.use_hierarchy",
					   m->use_hierarchy ? "1" : "0", err) < 0)
		return -1;
	return 0;
}

/* `update --memory-swap` alone: memory.swap.max is swap minus the limit in
 * force, which is the one in memory.max (runc takes it from its saved
 * config). At create memory.max is still "max": the swap is refused. */
static struct husk_opt_i64 limit_in_force(const struct cg_hier *h, const struct husk_memory *m)
{
	char cur[32];
	struct husk_err ignored = {0};

	if (m->limit.set || !m->swap.set || m->swap.v <= 0 ||
	    cg_read(h, "memory.max", cur, sizeof(cur), &ignored) < 0 || strcmp(cur, "max") == 0)
		return m->limit;
	return (struct husk_opt_i64){.set = true, .v = strtoll(cur, NULL, 10)};
}

static int memory_v2(const struct cg_hier *h, const struct husk_memory *m, struct husk_err *err)
{
	struct husk_opt_i64 limit = limit_in_force(h, m);
	int64_t swap;
	bool skip;

	if (m->swappiness.set)
		return husk_err_set(err, 0, F_MEM ".swappiness: not supported on cgroup v2");
	if (m->has_disable_oom_killer && m->disable_oom_killer)
		return husk_err_set(err, 0, F_MEM ".disableOOMKiller: not supported on cgroup v2");
	if (m->has_use_hierarchy && !m->use_hierarchy)
		return husk_err_set(err, 0,
				    F_MEM ".useHierarchy: cgroup v2 is always hierarchical");
	if (kmem(h, F_MEM ".kernel", "", &m->kernel, err) < 0 ||
	    kmem(h, F_MEM ".kernelTCP", "", &m->kernel_tcp, err) < 0)
		return -1;
	if (cg_swap_to_v2(&m->swap, &limit, &swap, &skip, err) < 0)
		return -1;
	/* Without swap accounting there is no memory.swap.max. "max" is what
	 * the container gets anyway, and "0" (swap equal to limit) is what
	 * runc also lets pass there; only a real swap limit is refused. */
	if (!skip && !cg_has_file(h, "memory.swap.max")) {
		if (swap > 0)
			return husk_err_set(err, 0,
					    F_MEM ".swap: memory.swap.max not available (swap "
						  "accounting off)");
		husk_debug("memory.swap.max absent (swap accounting off): not writing %" PRId64,
			   swap);
		skip = true;
	}
	if (!skip && set_i64(h, F_MEM ".swap", "memory.swap.max", swap, err) < 0)
		return -1;
	if (m->limit.set && set_i64(h, F_MEM ".limit", "memory.max", m->limit.v, err) < 0)
		return -1;
	if (m->reservation.set &&
	    set_i64(h, F_MEM ".reservation", "memory.low", m->reservation.v, err) < 0)
		return -1;
	return 0;
}

int cg_apply_memory(struct husk_cgroup *cg, const struct husk_memory *m, struct husk_err *err)
{
	/* An empty "memory": {} asks for nothing: no cgroup needed (rootless). */
	bool any = m->limit.set || m->reservation.set || m->swap.set || m->kernel.set ||
		   m->kernel_tcp.set || m->swappiness.set || m->has_disable_oom_killer ||
		   m->has_use_hierarchy || m->check_before_update;
	if (!any)
		return 0;
	struct cg_hier *h = cg_need(cg, "memory", F_MEM, err);
	if (!h || check_usage(h, m, err) < 0)
		return -1;
	return h->mount->unified ? memory_v2(h, m, err) : memory_v1(h, m, err);
}

/* A new v1 cpu cgroup gets no realtime budget (cpu.rt_runtime_us 0), and a
 * child may not get more than its parent: with parents husk just created
 * above the leaf, the leaf's runtime is refused (EINVAL) however small. Give
 * those parents, top down, the same period and runtime, then retry. Parents
 * that existed before are not touched: their budget is someone else's. */
static int rt_runtime_v1(const struct cg_hier *h, const struct husk_cpu *c, struct husk_err *err)
{
	static const char rt[] = F_CPU ".realtimeRuntime", file[] = "cpu.rt_runtime_us";
	char val[32];

	if (set_i64(h, rt, file, c->realtime_runtime.v, err) == 0)
		return 0;
	if (err->code != EINVAL || !h->parents || c->realtime_runtime.v < 0)
		return -1;
	snprintf(val, sizeof(val), "%" PRId64, c->realtime_runtime.v);
	for (unsigned up = h->parents; up > 0; up--) {
		char dir[PATH_MAX];
		size_t len = strlen(h->dir);
		for (unsigned i = 0; i < up; i++)
			while (len > 0 && h->dir[--len] != '/')
				;
		snprintf(dir, sizeof(dir), "%.*s", (int)len, h->dir);
		struct cg_hier parent = {.mount = h->mount, .dir = dir};
		husk_err_clear(err);
		if (c->realtime_period.set && c->realtime_period.v &&
		    set_u64(&parent, F_CPU ".realtimePeriod", "cpu.rt_period_us",
			    c->realtime_period.v, err) < 0)
			return -1;
		if (cg_set(&parent, rt, file, val, err) < 0)
			return -1;
	}
	husk_err_clear(err);
	return set_i64(h, rt, file, c->realtime_runtime.v, err);
}

static int cpu_v1(const struct cg_hier *h, const struct husk_cpu *c, struct husk_err *err)
{
	if (c->shares.set && c->shares.v &&
	    set_u64(h, F_CPU ".shares", "cpu.shares", c->shares.v, err) < 0)
		return -1;
	if (c->period.set && c->period.v &&
	    set_u64(h, F_CPU ".period", "cpu.cfs_period_us", c->period.v, err) < 0)
		return -1;
	/* Any negative quota means no limit (runc, crun, and the kernel's own
	 * reading of cfs_quota_us); the file itself only spells it -1. */
	if (c->quota.set && c->quota.v &&
	    set_i64(h, F_CPU ".quota", "cpu.cfs_quota_us", c->quota.v < 0 ? -1 : c->quota.v, err) <
		0)
		return -1;
	if (c->burst.set && set_u64(h, F_CPU ".burst", "cpu.cfs_burst_us", c->burst.v, err) < 0)
		return -1;
	if (c->realtime_period.set && c->realtime_period.v &&
	    set_u64(h, F_CPU ".realtimePeriod", "cpu.rt_period_us", c->realtime_period.v, err) < 0)
		return -1;
	if (c->realtime_runtime.set && c->realtime_runtime.v && rt_runtime_v1(h, c, err) < 0)
		return -1;
	if (c->idle.set && set_i64(h, F_CPU ".idle", "cpu.idle", c->idle.v, err) < 0)
		return -1;
	return 0;
}

/* cpu.max holds quota and period together; keep the half not being set. A
 * negative quota is "max" (runc, crun, youki's contest), not an error. */
static int cpu_max_v2(const struct cg_hier *h, const struct husk_cpu *c, struct husk_err *err)
{
	char cur[64], val[64];
	uint64_t period = 100000;
	struct husk_opt_i64 quota = c->quota;

	if (!(c->quota.set && c->quota.v) && !(c->period.set && c->period.v))
		return 0;
	if (cg_read(h, "cpu.max", cur, sizeof(cur), err) < 0)
		return husk_err_prefix(err, F_CPU ".quota");
	char *sp = strchr(cur, ' ');
	if (sp)
		period = strtoull(sp + 1, NULL, 10);
	if (c->period.set && c->period.v)
		period = c->period.v;
	if (!quota.set || !quota.v)
		quota = (struct husk_opt_i64){.set = strncmp(cur, "max", 3) != 0,
					      .v = strtoll(cur, NULL, 10)};
	cg_fmt_cpu_max(val, sizeof(val), &quota, period);
	return cg_set(h, F_CPU ".quota", "cpu.max", val, err);
}

static int cpu_v2(const struct cg_hier *h, const struct husk_cpu *c, struct husk_err *err)
{
	/* The kernel refuses a weight for an idle group (EINVAL), gives a group
	 * made idle the idle weight and one made non-idle the default weight:
	 * idle 0 goes before the weight so that the weight asked for stays,
	 * idle 1 after it. */
	bool idle_first = c->idle.set && c->idle.v == 0;

	if (c->realtime_period.set && c->realtime_period.v)
		return husk_err_set(err, 0, F_CPU ".realtimePeriod: not supported on cgroup v2");
	if (c->realtime_runtime.set && c->realtime_runtime.v)
		return husk_err_set(err, 0, F_CPU ".realtimeRuntime: not supported on cgroup v2");
	if (idle_first && set_i64(h, F_CPU ".idle", "cpu.idle", 0, err) < 0)
		return -1;
	if (c->shares.set && c->shares.v &&
	    set_u64(h, F_CPU ".shares", "cpu.weight", cg_shares_to_weight(c->shares.v), err) < 0)
		return -1;
	if (cpu_max_v2(h, c, err) < 0)
		return -1;
	if (c->burst.set && set_u64(h, F_CPU ".burst", "cpu.max.burst", c->burst.v, err) < 0)
		return -1;
	if (c->idle.set && !idle_first && set_i64(h, F_CPU ".idle", "cpu.idle", c->idle.v, err) < 0)
		return -1;
	return 0;
}

static int cpuset(struct husk_cgroup *cg, const struct husk_cpu *c, struct husk_err *err)
{
	struct cg_hier *h;
	if (!c->cpus && !c->mems)
		return 0;
	h = cg_need(cg, "cpuset", F_CPU ".cpus", err);
	if (!h)
		return -1;
	if (c->cpus && cg_set(h, F_CPU ".cpus", "cpuset.cpus", c->cpus, err) < 0)
		return -1;
	if (c->mems && cg_set(h, F_CPU ".mems", "cpuset.mems", c->mems, err) < 0)
		return -1;
	return 0;
}

int cg_apply_cpu(struct husk_cgroup *cg, const struct husk_cpu *c, struct husk_err *err)
{
	bool any = (c->shares.set && c->shares.v) || c->quota.set || c->period.set ||
		   c->burst.set || c->idle.set || c->realtime_period.set || c->realtime_runtime.set;
	if (any) {
		struct cg_hier *h = cg_need(cg, "cpu", F_CPU, err);
		if (!h || (h->mount->unified ? cpu_v2(h, c, err) : cpu_v1(h, c, err)) < 0)
			return -1;
	}
	return cpuset(cg, c, err);
}
