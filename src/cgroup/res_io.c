/* linux.resources.blockIO onto blkio (v1) or io (v2) files. Weights need a
 * weight-capable I/O scheduler (BFQ) or io.weight; a host without either
 * gets an error rather than a silently ignored weight. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "cgroup/internal.h"

#define F_IO "linux.resources.blockIO"

/* Engines written in Go send the zero value for weights they leave unset
 * (Docker always sends "weight": 0); 0 is outside every weight range, so
 * like runc treat it as "not set" rather than fail the container. */
static bool weight_set(bool has, uint16_t w)
{
	return has && w != 0;
}

/* First file of the pair that exists, or NULL. */
static const char *pick(const struct cg_hier *h, const char *a, const char *b)
{
	return cg_has_file(h, a) ? a : cg_has_file(h, b) ? b : NULL;
}

static int weight_v1(const struct cg_hier *h, const struct husk_blkio *b, struct husk_err *err)
{
	char val[64];
	const char *file;

	if (weight_set(b->has_weight, b->weight)) {
		file = pick(h, "blkio.weight", "blkio.bfq.weight");
		if (!file)
			return husk_err_set(err, 0,
					    F_IO
					    ".weight: neither blkio.weight nor blkio.bfq.weight "
					    "is available (no weight-capable I/O scheduler)");
		snprintf(val, sizeof(val), "%u", b->weight);
		if (cg_set(h, F_IO ".weight", file, val, err) < 0)
			return -1;
	}
	if (weight_set(b->has_leaf_weight, b->leaf_weight)) {
		snprintf(val, sizeof(val), "%u", b->leaf_weight);
		if (cg_set(h, F_IO ".leafWeight", "blkio.leaf_weight", val, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct husk_blkio_weight_device *d = &b->weight_devices[i];
		if (weight_set(d->has_weight, d->weight)) {
			file = pick(h, "blkio.weight_device", "blkio.bfq.weight_device");
			if (!file)
				return husk_err_set(err, 0,
						    F_IO
						    ".weightDevice: no blkio weight_device file "
						    "(no weight-capable I/O scheduler)");
			snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
				 d->weight);
			if (cg_set(h, F_IO ".weightDevice", file, val, err) < 0)
				return -1;
		}
		if (weight_set(d->has_leaf_weight, d->leaf_weight)) {
			snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
				 d->leaf_weight);
			if (cg_set(h, F_IO ".weightDevice", "blkio.leaf_weight_device", val, err) <
			    0)
				return -1;
		}
	}
	return 0;
}

static int weight_v2(const struct cg_hier *h, const struct husk_blkio *b, struct husk_err *err)
{
	char val[64];
	/* io.bfq.weight takes blkio's 1-1000 scale as is; io.weight needs
	 * converting to 1-10000. */
	bool bfq = cg_has_file(h, "io.bfq.weight");
	const char *file = bfq ? "io.bfq.weight" : "io.weight";

	if (weight_set(b->has_leaf_weight, b->leaf_weight))
		return husk_err_set(err, 0, F_IO ".leafWeight: not supported on cgroup v2");
	if (weight_set(b->has_weight, b->weight)) {
		snprintf(val, sizeof(val), "default %u",
			 (unsigned)(bfq ? b->weight : cg_blkio_to_io_weight(b->weight)));
		if (cg_set(h, F_IO ".weight", file, val, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct husk_blkio_weight_device *d = &b->weight_devices[i];
		if (weight_set(d->has_leaf_weight, d->leaf_weight))
			return husk_err_set(
			    err, 0, F_IO ".weightDevice.leafWeight: not supported on cgroup v2");
		if (!weight_set(d->has_weight, d->weight))
			continue;
		snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
			 bfq ? d->weight : cg_blkio_to_io_weight(d->weight));
		if (cg_set(h, F_IO ".weightDevice", file, val, err) < 0)
			return -1;
	}
	return 0;
}

struct throttle_kind {
	const char *field, *v1_file, *v2_key;
	size_t offset;
};

static const struct throttle_kind throttles[] = {
    {F_IO ".throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps",
     offsetof(struct husk_blkio, read_bps)},
    {F_IO ".throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps",
     offsetof(struct husk_blkio, write_bps)},
    {F_IO ".throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops",
     offsetof(struct husk_blkio, read_iops)},
    {F_IO ".throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops",
     offsetof(struct husk_blkio, write_iops)},
};

static int throttle(const struct cg_hier *h, const struct husk_blkio *b, struct husk_err *err)
{
	for (size_t k = 0; k < sizeof(throttles) / sizeof(throttles[0]); k++) {
		const struct throttle_kind *t = &throttles[k];
		const struct husk_throttle_list *l =
		    (const struct husk_throttle_list *)((const char *)b + t->offset);
		for (size_t i = 0; i < l->n; i++) {
			const struct husk_blkio_throttle *d = &l->v[i];
			char val[96];
			if (!h->mount->unified)
				snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %" PRIu64,
					 d->major, d->minor, d->rate);
			else if (d->rate == 0) /* 0 removes the limit, as on v1 */
				snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %s=max",
					 d->major, d->minor, t->v2_key);
			else
				snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
					 d->major, d->minor, t->v2_key, d->rate);
			if (cg_set(h, t->field, h->mount->unified ? "io.max" : t->v1_file, val,
				   err) < 0)
				return -1;
		}
	}
	return 0;
}

int cg_apply_blkio(struct husk_cgroup *cg, const struct husk_blkio *b, struct husk_err *err)
{
	/* An empty "blockIO": {} asks for nothing: no cgroup needed (rootless). */
	if (!b->has_weight && !b->has_leaf_weight && !b->n_weight_devices && !b->read_bps.n &&
	    !b->write_bps.n && !b->read_iops.n && !b->write_iops.n)
		return 0;
	struct cg_hier *h = cg_find(cg, "blkio");
	if (!h)
		h = cg_find(cg, "io");
	/* v1 has it as blkio: then the error says it could not be created */
	if (!h && !(h = cg_need(cg, "blkio", F_IO, err)) && err->code != EACCES)
		h = cg_need(cg, "io", F_IO, err);
	if (!h)
		return -1;
	if ((h->mount->unified ? weight_v2(h, b, err) : weight_v1(h, b, err)) < 0)
		return -1;
	return throttle(h, b, err);
}
