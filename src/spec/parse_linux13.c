/* Runtime spec 1.3 additions under "linux": memoryPolicy and netDevices. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/parse.h"
#include "spec/tables.h"
#include "util/cleanup.h"

/* uapi linux/mempolicy.h values; that header is not needed for anything else. */
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_STATIC_NODES   (1 << 15)
#define MPOL_DEFAULT_MODE     0
#define MPOL_PREFERRED_MODE   1
#define MPOL_LOCAL_MODE	      4
#define IFNAME_MAX	      15 /* IFNAMSIZ - 1 */

static const struct husk_name_value mpol_modes[] = {
    {"MPOL_DEFAULT", 0},
    {"MPOL_PREFERRED", 1},
    {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3},
    {"MPOL_LOCAL", 4},
    {"MPOL_PREFERRED_MANY", 5},
    {"MPOL_WEIGHTED_INTERLEAVE", 6},
};

static const struct husk_name_value mpol_flags[] = {
    {"MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING},
    {"MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES},
    {"MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES},
};

/* "0-3,7": node numbers below HUSK_MPOL_MAX_NODES separated by commas,
 * with ascending ranges. */
static bool valid_list(const char *s)
{
	while (*s) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return false;
			hi = strtoul(end + 1, &end, 10);
		}
		if (errno || hi < lo || hi >= HUSK_MPOL_MAX_NODES)
			return false;
		if (*end == ',' && end[1] != '\0')
			s = end + 1;
		else if (*end == '\0')
			s = end;
		else
			return false;
	}
	return true;
}

static int parse_mpol_flags(struct jctx *c, json_t *obj, struct husk_memory_policy *mp)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, obj, "flags", &arr)) <= 0)
		return rc;
	old = jp_key(c, "flags");
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		long v;
		if (!jis_str(c, item))
			return jfail(c, "must be a string");
		v = husk_lookup(mpol_flags, HUSK_ARRAY_SIZE(mpol_flags), json_string_value(item));
		if (v < 0)
			return jfail(c, "unknown memory policy flag \"%s\"",
				     json_string_value(item));
		mp->flags |= (unsigned int)v;
		jp_pop(c, o2);
	}
	if ((mp->flags & MPOL_F_STATIC_NODES) && (mp->flags & MPOL_F_RELATIVE_NODES))
		return jfail(c, "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
	jp_pop(c, old);
	return 0;
}

static int check_mpol_nodes(struct jctx *c, const char *mode, struct husk_memory_policy *mp)
{
	bool none = mp->mode == MPOL_DEFAULT_MODE || mp->mode == MPOL_LOCAL_MODE;
	/* MPOL_PREFERRED with no node is the kernel's local allocation. */
	bool optional = none || mp->mode == MPOL_PREFERRED_MODE;
	size_t old = jp_key(c, "nodes");

	if (mp->nodes && mp->nodes[0] == '\0') {
		free(mp->nodes);
		mp->nodes = NULL;
	}
	if (none && mp->nodes)
		return jfail(c, "must be empty with %s", mode);
	if (!optional && !mp->nodes)
		return jfail(c, "required by %s", mode);
	if (mp->nodes && !valid_list(mp->nodes))
		return jfail(c, "invalid node list \"%s\"", mp->nodes);
	jp_pop(c, old);
	return 0;
}

static int parse_memory_policy(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	_cleanup_free_ char *mode = NULL;
	json_t *obj;
	size_t old;
	long v;
	int rc;

	if ((rc = jm_obj(c, lx, "memoryPolicy", &obj)) <= 0)
		return rc;
	old = jp_key(c, "memoryPolicy");
	l->memory_policy = calloc(1, sizeof(*l->memory_policy));
	if (!l->memory_policy)
		return jnomem(c);
	if (jm_need(c, obj, "mode") < 0 || jm_str(c, obj, "mode", &mode) < 0)
		return -1;
	v = husk_lookup(mpol_modes, HUSK_ARRAY_SIZE(mpol_modes), mode);
	if (v < 0) {
		jp_key(c, "mode");
		return jfail(c, "unknown memory policy mode \"%s\"", mode);
	}
	l->memory_policy->mode = (int)v;
	if (jm_str(c, obj, "nodes", &l->memory_policy->nodes) < 0 ||
	    parse_mpol_flags(c, obj, l->memory_policy) < 0 ||
	    check_mpol_nodes(c, mode, l->memory_policy) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

/* What the kernel accepts as an interface name (dev_valid_name). */
static bool valid_ifname(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > IFNAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			return false;
	return true;
}

static int parse_net_devices(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	json_t *obj, *item;
	const char *host;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, lx, "netDevices", &obj)) <= 0)
		return rc;
	old = jp_key(c, "netDevices");
	l->net_devices = jcalloc(c, json_object_size(obj), sizeof(*l->net_devices), &rc);
	if (rc < 0)
		return -1;
	json_object_foreach(obj, host, item)
	{
		struct husk_net_device *d = &l->net_devices[l->n_net_devices++];
		size_t o2;
		if (!valid_ifname(host))
			return jfail(c, "invalid interface name \"%s\"", host);
		o2 = jp_key(c, host);
		if (!json_is_object(item))
			return jfail(c, "must be an object");
		d->host_name = strdup(host);
		if (!d->host_name)
			return jnomem(c);
		if (jm_str(c, item, "name", &d->name) < 0)
			return -1;
		if (d->name && !valid_ifname(d->name)) {
			jp_key(c, "name");
			return jfail(c, "invalid interface name \"%s\"", d->name);
		}
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

int husk_parse_linux13(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	if (parse_memory_policy(c, lx, l) < 0 || parse_net_devices(c, lx, l) < 0)
		return -1;
	return 0;
}

void husk_linux13_clear(struct husk_linux *l)
{
	if (l->memory_policy) {
		free(l->memory_policy->nodes);
		free(l->memory_policy);
	}
	for (size_t i = 0; i < l->n_net_devices; i++) {
		free(l->net_devices[i].host_name);
		free(l->net_devices[i].name);
	}
	free(l->net_devices);
}
