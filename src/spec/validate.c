/* Rules that tie fields of config.json together: what needs which
 * namespace, and which sysctls a container may set. Single fields are
 * checked where they are parsed. */
#include <stdlib.h>
#include <string.h>

#include "spec/parse.h"
#include "util/cleanup.h"

static int fail_at(struct jctx *c, const char *path, const char *msg)
{
	size_t old = jp_key(c, path);
	jfail(c, "%s", msg);
	jp_pop(c, old);
	return -1;
}

/* husk.userns=auto: husk allocates the mappings at create (runtime/userns_auto.c). */
static bool userns_auto(const struct husk_spec *s)
{
	for (size_t i = 0; i < s->annotations.n; i++)
		if (strcmp(s->annotations.v[i].key, "husk.userns") == 0)
			return strcmp(s->annotations.v[i].value, "auto") == 0;
	return false;
}

static int validate_userns(struct jctx *c, const struct husk_spec *s)
{
	const struct husk_linux *l = &s->linux;
	const struct husk_namespace *user = &l->ns[HUSK_NS_USER];
	bool maps = l->n_uid_mappings || l->n_gid_mappings;

	if (userns_auto(s)) {
		if (!user->enabled || user->path)
			return fail_at(c, "annotations.husk.userns",
				       "\"auto\" needs a new user namespace in linux.namespaces");
		if (maps)
			return fail_at(c, "annotations.husk.userns",
				       "\"auto\" allocates the mappings: remove linux.uidMappings "
				       "and linux.gidMappings");
		return 0;
	}

	if (maps && !user->enabled)
		return fail_at(c, l->n_uid_mappings ? "linux.uidMappings" : "linux.gidMappings",
			       "requires a user namespace");
	/* Joining a user namespace takes its mappings as they are. */
	if (maps && user->path)
		return fail_at(c, "linux.namespaces",
			       "a user namespace path cannot be combined with uid/gid mappings");
	if (user->enabled && !user->path && (!l->n_uid_mappings || !l->n_gid_mappings))
		return fail_at(c, l->n_uid_mappings ? "linux.gidMappings" : "linux.uidMappings",
			       "a new user namespace needs uid and gid mappings");
	return 0;
}

static int validate_timens(struct jctx *c, const struct husk_linux *l)
{
	bool offsets = l->time_monotonic.set || l->time_boottime.set;

	if (offsets && !l->ns[HUSK_NS_TIME].enabled)
		return fail_at(c, "linux.timeOffsets", "requires a time namespace");
	if (offsets && l->ns[HUSK_NS_TIME].path)
		return fail_at(c, "linux.timeOffsets",
			       "cannot be set when joining an existing time namespace");
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Which namespace isolates a sysctl; HUSK_NS_COUNT when none does. */
static enum husk_ns_type sysctl_namespace(const char *key)
{
	static const char *const ipc_keys[] = {
	    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(ipc_keys); i++)
		if (strcmp(key, ipc_keys[i]) == 0)
			return HUSK_NS_IPC;
	if (has_prefix(key, "fs.mqueue."))
		return HUSK_NS_IPC;
	if (has_prefix(key, "net."))
		return HUSK_NS_NETWORK;
	if (strcmp(key, "kernel.domainname") == 0 || strcmp(key, "kernel.hostname") == 0)
		return HUSK_NS_UTS;
	return HUSK_NS_COUNT;
}

static int validate_sysctl_key(struct jctx *c, const struct husk_spec *s, const char *raw)
{
	_cleanup_free_ char *key = strdup(raw);
	enum husk_ns_type ns;

	if (!key)
		return jnomem(c);
	/* "net/ipv4/ip_forward" names the same file as "net.ipv4.ip_forward". */
	for (char *p = key; *p; p++)
		if (*p == '/')
			*p = '.';
	if (strcmp(key, "kernel.hostname") == 0)
		return jfail(c, "\"%s\" conflicts with the hostname field; set hostname instead",
			     raw);
	ns = sysctl_namespace(key);
	if (ns == HUSK_NS_COUNT)
		return jfail(
		    c,
		    "\"%s\" is not isolated by any namespace; refusing to change it for the host",
		    raw);
	if (!s->linux.ns[ns].enabled)
		return jfail(c, "\"%s\" requires %s %s namespace", raw,
			     ns == HUSK_NS_IPC ? "an" : "a", husk_ns_name(ns));
	return 0;
}

static int validate_sysctl(struct jctx *c, const struct husk_spec *s)
{
	size_t old = jp_key(c, "linux.sysctl");
	for (size_t i = 0; i < s->linux.sysctl.n; i++)
		if (validate_sysctl_key(c, s, s->linux.sysctl.v[i].key) < 0)
			return -1;
	jp_pop(c, old);
	return 0;
}

int husk_validate_spec(struct jctx *c, const struct husk_spec *s)
{
	const struct husk_linux *l = &s->linux;

	if (validate_userns(c, s) < 0 || validate_timens(c, l) < 0 || validate_sysctl(c, s) < 0)
		return -1;
	/* Interfaces are moved into the container's own network namespace. */
	if (l->n_net_devices && !l->ns[HUSK_NS_NETWORK].enabled)
		return fail_at(c, "linux.netDevices", "requires a network namespace");
	/* Without a UTS namespace the name would be the host's. */
	if (s->hostname && s->hostname[0] && !l->ns[HUSK_NS_UTS].enabled)
		return fail_at(c, "hostname", "requires a uts namespace");
	if (s->domainname && s->domainname[0] && !l->ns[HUSK_NS_UTS].enabled)
		return fail_at(c, "domainname", "requires a uts namespace");
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct husk_mount *m = &s->mounts[i];
		if ((m->n_uid_mappings || m->n_gid_mappings) &&
		    (!m->n_uid_mappings || !m->n_gid_mappings)) {
			size_t old = jp_key(c, "mounts");
			jp_idx(c, i);
			jfail(c, "an idmapped mount needs both uidMappings and gidMappings");
			jp_pop(c, old);
			return -1;
		}
	}
	return 0;
}
