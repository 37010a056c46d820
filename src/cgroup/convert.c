/* Conversions from OCI (cgroup v1 flavoured) values to cgroup v2 files. */
#include <inttypes.h>
#include <stdio.h>

#include "cgroup/internal.h"

/* cpu.shares [2, 262144] onto cpu.weight [1, 10000], linearly, the
 * conversion runc and crun use so the same spec gives the same weight. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight [10, 1000] onto io.weight [1, 10000]. */
uint16_t cg_blkio_to_io_weight(uint16_t weight)
{
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return (uint16_t)(1 + ((uint32_t)(weight - 10) * 9999) / 990);
}

/* OCI's memory.swap is memory+swap; memory.swap.max is swap alone. */
int cg_swap_to_v2(const struct husk_opt_i64 *swap, const struct husk_opt_i64 *limit, int64_t *out,
		  bool *skip, struct husk_err *err)
{
	bool limit_unlimited = limit->set && limit->v < 0;

	*skip = false;
	/* No swap given with an unlimited memory: unlimited swap too, as on v1. */
	if (!swap->set || swap->v == 0) {
		*skip = !limit_unlimited;
		*out = -1;
		return 0;
	}
	if (swap->v < -1)
		return husk_err_set(err, 0,
				    "linux.resources.memory.swap: %" PRId64
				    " is not valid (-1 means unlimited)",
				    swap->v);
	if (swap->v < 0) {
		*out = -1;
		return 0;
	}
	if (!limit->set || limit->v == 0 || limit_unlimited)
		return husk_err_set(
		    err, 0, "linux.resources.memory.swap: a swap limit needs a memory limit");
	if (swap->v < limit->v)
		return husk_err_set(err, 0,
				    "linux.resources.memory.swap: %" PRId64
				    " is below memory.limit %" PRId64 " (swap is memory+swap)",
				    swap->v, limit->v);
	*out = swap->v - limit->v;
	return 0;
}

void cg_fmt_limit(char *buf, size_t size, int64_t v, bool v2)
{
	if (v < 0)
		snprintf(buf, size, "%s", v2 ? "max" : "-1");
	else
		snprintf(buf, size, "%" PRId64, v);
}

void cg_fmt_cpu_max(char *buf, size_t size, const struct husk_opt_i64 *quota, uint64_t period)
{
	if (quota->set && quota->v > 0)
		snprintf(buf, size, "%" PRId64 " %" PRIu64, quota->v, period);
	else
		snprintf(buf, size, "max %" PRIu64, period);
}
