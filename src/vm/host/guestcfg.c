/* The config.json the guest's agent creates the container from: the
 * bundle's, with everything that names the host taken out or pointed into
 * the share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/host/vm.h"

bool husk_vm_mount_is_bind(const json_t *mount)
{
	json_t *opts = json_object_get(mount, "options"), *o;
	const char *type = json_string_value(json_object_get(mount, "type"));
	size_t i;

	if (type && strcmp(type, "bind") == 0)
		return json_is_string(json_object_get(mount, "source"));
	json_array_foreach(opts, i, o)
	{
		const char *s = json_string_value(o);
		if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
			return json_is_string(json_object_get(mount, "source"));
	}
	return false;
}

static int set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, json_string(value));
}

static int share_mounts(json_t *cfg)
{
	json_t *mounts = json_object_get(cfg, "mounts"), *m;
	char path[64];
	size_t i;

	json_array_foreach(mounts, i, m)
	{
		if (!husk_vm_mount_is_bind(m))
			continue;
		snprintf(path, sizeof(path), HUSK_VM_GUEST_SHARE "/mounts/%zu", i);
		if (set_str(m, "source", path) < 0)
			return -1;
	}
	return 0;
}

/* The guest cannot join the host's namespaces, and its own network stack
 * is the container's network: a network namespace the bundle asked for
 * becomes the guest's initial one (the agent's, PID 1's), joined by path.
 * Dropping it instead would make libhusk in the guest refuse the net.*
 * sysctls every engine sets (docker: ip_unprivileged_port_start) as
 * changes to the host's network; in the VM they are the container's. */
static int guest_namespaces(json_t *linux_)
{
	json_t *nss = json_object_get(linux_, "namespaces"), *kept, *ns;
	size_t i;

	if (!json_is_array(nss))
		return 0;
	kept = json_array();
	if (!kept)
		return -1;
	json_array_foreach(nss, i, ns)
	{
		const char *type = json_string_value(json_object_get(ns, "type"));
		json_object_del(ns, "path");
		if (type && strcmp(type, "network") == 0 &&
		    set_str(ns, "path", HUSK_VM_GUEST_NETNS) < 0) {
			json_decref(kept);
			return -1;
		}
		if (json_array_append(kept, ns) < 0) {
			json_decref(kept);
			return -1;
		}
	}
	return json_object_set_new(linux_, "namespaces", kept);
}

/* linux.resources.blockIO stays with the host: the guest's disk I/O is
 * virtiofsd's and QEMU's, in the container's host cgroup where husk applies
 * it; in the guest the major:minor numbers would be the host's and the
 * kernel has no io controller (docker always sends {"weight": 0}). */
static void drop_host_blockio(json_t *linux_)
{
	json_t *res = json_object_get(linux_, "resources");
	if (json_is_object(res))
		json_object_del(res, "blockIO");
}

/* husk.userns=auto maps the container's root to an unprivileged host
 * range, with the rootfs idmapped to match. In a VM the guest kernel is
 * the boundary (its root is no user of the host's), and the shared rootfs
 * is on virtio-fs, which cannot be idmapped: the guest runs without them. */
static void drop_host_identity(json_t *cfg)
{
	json_t *ann = json_object_get(cfg, "annotations"), *linux_ = json_object_get(cfg, "linux");
	json_t *nss = json_object_get(linux_, "namespaces"), *ns;
	size_t i;

	if (!json_object_get(ann, "husk.userns"))
		return;
	json_object_del(ann, "husk.userns");
	json_object_del(ann, "husk.rootfs.idmap");
	/* the user namespace was there for the automatic mapping */
	if (json_object_get(linux_, "uidMappings"))
		return;
	json_array_foreach(nss, i, ns)
	{
		const char *type = json_string_value(json_object_get(ns, "type"));
		if (type && strcmp(type, "user") == 0) {
			json_array_remove(nss, i);
			break;
		}
	}
}

/* The agent's network settings come from the monitor alone: one the
 * bundle set is replaced (or removed). */
static int network_annotation(json_t *cfg, const json_t *net)
{
	json_t *ann = json_object_get(cfg, "annotations");
	char *text;
	int r;

	if (json_is_object(ann))
		json_object_del(ann, HUSK_VM_ANN_NETWORK);
	if (!net)
		return 0;
	if (!json_is_object(ann)) {
		ann = json_object();
		if (!ann || json_object_set_new(cfg, "annotations", ann) < 0)
			return -1;
	}
	text = json_dumps(net, JSON_COMPACT);
	if (!text)
		return -1;
	r = set_str(ann, HUSK_VM_ANN_NETWORK, text);
	free(text);
	return r;
}

json_t *husk_vm_guest_config(const json_t *config, const char *id, const json_t *net,
			     struct husk_err *err)
{
	json_t *cfg = json_deep_copy(config), *root, *linux_;
	char cg[300];

	if (!cfg) {
		husk_err_set(err, ENOMEM, "guest config");
		return NULL;
	}
	json_object_del(cfg, "hooks");
	json_object_del(cfg, "vm");
	drop_host_identity(cfg);
	root = json_object_get(cfg, "root");
	linux_ = json_object_get(cfg, "linux");
	drop_host_blockio(linux_);
	snprintf(cg, sizeof(cg), "/husk/%s", id);
	if (!json_is_object(root) || set_str(root, "path", HUSK_VM_GUEST_SHARE "/rootfs") < 0 ||
	    share_mounts(cfg) < 0 || network_annotation(cfg, net) < 0 ||
	    (json_is_object(linux_) &&
	     (set_str(linux_, "cgroupsPath", cg) < 0 || guest_namespaces(linux_) < 0))) {
		json_decref(cfg);
		husk_err_set(err, ENOMEM, "guest config");
		return NULL;
	}
	return cfg;
}
