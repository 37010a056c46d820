/* config.json "linux": namespaces, id mappings, devices, propagation,
 * sysctl, masked paths, personality and the sections in their own files
 * (resources, seccomp). */
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include "spec/parse.h"
#include "spec/tables.h"
#include "util/cleanup.h"

static int parse_namespace(struct jctx *c, json_t *item, struct husk_linux *l)
{
	const char *type;
	int t;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "type") < 0)
		return -1;
	if (!jis_str(c, json_object_get(item, "type"))) {
		size_t old = jp_key(c, "type");
		jfail(c, "must be a string");
		jp_pop(c, old);
		return -1;
	}
	type = json_string_value(json_object_get(item, "type"));
	for (t = 0; t < HUSK_NS_COUNT; t++)
		if (strcmp(husk_ns_name(t), type) == 0)
			break;
	if (t == HUSK_NS_COUNT) {
		size_t old = jp_key(c, "type");
		jfail(c, "unknown namespace type \"%s\"", type);
		jp_pop(c, old);
		return -1;
	}
	if (l->ns[t].enabled)
		return jfail(c, "duplicate namespace \"%s\"", type);
	l->ns[t].enabled = true;
	if (jm_str(c, item, "path", &l->ns[t].path) < 0)
		return -1;
	if (l->ns[t].path && l->ns[t].path[0] == '\0') {
		free(l->ns[t].path);
		l->ns[t].path = NULL;
	}
	if (l->ns[t].path && l->ns[t].path[0] != '/') {
		size_t old = jp_key(c, "path");
		jfail(c, "must be absolute");
		jp_pop(c, old);
		return -1;
	}
	return 0;
}

static int parse_namespaces(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, lx, "namespaces", &arr)) <= 0)
		return rc;
	old = jp_key(c, "namespaces");
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		if (parse_namespace(c, item, l) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_time_offset(struct jctx *c, json_t *item, struct husk_time_offset *t)
{
	int64_t ns = 0;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_i64(c, item, "secs", &t->secs) < 0 ||
	    jm_range(c, item, "nanosecs", 0, 999999999, &ns) < 0)
		return -1;
	t->nanosecs = (uint32_t)ns;
	t->set = true;
	return 0;
}

static int parse_time_offsets(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	json_t *obj, *item;
	const char *clock;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, lx, "timeOffsets", &obj)) <= 0)
		return rc;
	old = jp_key(c, "timeOffsets");
	json_object_foreach(obj, clock, item)
	{
		size_t o2 = jp_key(c, clock);
		struct husk_time_offset *t = NULL;
		if (strcmp(clock, "monotonic") == 0)
			t = &l->time_monotonic;
		else if (strcmp(clock, "boottime") == 0)
			t = &l->time_boottime;
		else
			return jfail(c, "unknown clock (want monotonic or boottime)");
		if (parse_time_offset(c, item, t) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

/* Does the path as written start with the component "dev"? */
static bool names_dev(const char *path)
{
	while (*path == '/')
		path++;
	return strncmp(path, "dev", 3) == 0 && (path[3] == '/' || path[3] == '\0');
}

/* A node meant for /dev must stay there once ".." is applied; Docker's
 * --device host:/xvdc puts one elsewhere, which is fine inside the root. */
static int check_device_path(struct jctx *c, char *path)
{
	size_t old = jp_key(c, "path");

	if (path[0] == '/' && names_dev(path)) {
		if (!husk_path_clean(path) || strncmp(path, "/dev/", 5) != 0)
			return jfail(c, "must be under /dev");
	} else if (husk_check_abs_path(c, path) < 0) {
		return -1;
	}
	jp_pop(c, old);
	return 0;
}

static int parse_device(struct jctx *c, json_t *item, struct husk_device *d)
{
	_cleanup_free_ char *type = NULL;
	uint32_t v;
	int rc;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "type") < 0 || jm_str(c, item, "type", &type) < 0)
		return -1;
	if (strlen(type) != 1 || !strchr("cbup", type[0])) {
		size_t old = jp_key(c, "type");
		jfail(c, "unknown device type \"%s\" (want c, b, u or p)", type);
		jp_pop(c, old);
		return -1;
	}
	d->type = type[0];
	if (jm_need(c, item, "path") < 0 || jm_str(c, item, "path", &d->path) < 0 ||
	    check_device_path(c, d->path) < 0)
		return -1;
	/* A fifo has no device number; the others need both. */
	if (d->type != 'p' && (jm_need(c, item, "major") < 0 || jm_need(c, item, "minor") < 0))
		return -1;
	if (jm_range(c, item, "major", 0, UINT32_MAX, &d->major) < 0 ||
	    jm_range(c, item, "minor", 0, UINT32_MAX, &d->minor) < 0)
		return -1;
	/* Engines may include the file type bits (Podman writes S_IFCHR|0666);
	 * the type comes from "type", so only the permission bits count. */
	if ((rc = jm_u32(c, item, "fileMode", &v)) < 0)
		return -1;
	if (rc > 0) {
		d->has_file_mode = true;
		d->file_mode = (mode_t)(v & 07777);
	}
	if ((rc = jm_id(c, item, "uid", &v)) < 0)
		return -1;
	if (rc > 0) {
		d->has_uid = true;
		d->uid = v;
	}
	if ((rc = jm_id(c, item, "gid", &v)) < 0)
		return -1;
	if (rc > 0) {
		d->has_gid = true;
		d->gid = v;
	}
	return 0;
}

static int parse_devices(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, lx, "devices", &arr)) <= 0)
		return rc;
	old = jp_key(c, "devices");
	l->devices = jcalloc(c, json_array_size(arr), sizeof(*l->devices), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		l->n_devices = i + 1;
		if (parse_device(c, item, &l->devices[i]) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_propagation(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	_cleanup_free_ char *s = NULL;
	long v;
	int rc;

	if ((rc = jm_str(c, lx, "rootfsPropagation", &s)) <= 0 || s[0] == '\0')
		return rc;
	v = husk_lookup(husk_propagation_names, husk_n_propagation_names, s);
	if (v < 0) {
		size_t old = jp_key(c, "rootfsPropagation");
		jfail(c, "unknown propagation \"%s\"", s);
		jp_pop(c, old);
		return -1;
	}
	l->has_rootfs_propagation = true;
	l->rootfs_propagation = (unsigned long)v;
	return 0;
}

static int parse_personality(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	_cleanup_free_ char *domain = NULL;
	json_t *obj;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, lx, "personality", &obj)) <= 0)
		return rc;
	old = jp_key(c, "personality");
	l->personality = calloc(1, sizeof(*l->personality));
	if (!l->personality)
		return jnomem(c);
	if (jm_need(c, obj, "domain") < 0 || jm_str(c, obj, "domain", &domain) < 0)
		return -1;
	if (strcmp(domain, "LINUX") == 0) {
		l->personality->domain = PER_LINUX;
	} else if (strcmp(domain, "LINUX32") == 0) {
		l->personality->domain = PER_LINUX32;
	} else {
		jp_key(c, "domain");
		return jfail(c, "unknown personality domain \"%s\" (want LINUX or LINUX32)",
			     domain);
	}
	if (jm_strv(c, obj, "flags", &l->personality->flags) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

/* intelRdt is not supported, but a malformed one is still an error. */
static int parse_intel_rdt(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;
	struct husk_strv schemata = {0};
	json_t *obj;
	bool b;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, lx, "intelRdt", &obj)) <= 0)
		return rc;
	old = jp_key(c, "intelRdt");
	rc = jm_str(c, obj, "closID", &s1) < 0 || jm_str(c, obj, "l3CacheSchema", &s2) < 0 ||
	     jm_str(c, obj, "memBwSchema", &s3) < 0 || jm_strv(c, obj, "schemata", &schemata) < 0 ||
	     jm_bool(c, obj, "enableCMT", &b) < 0 || jm_bool(c, obj, "enableMBM", &b) < 0 ||
	     jm_bool(c, obj, "enableMonitoring", &b) < 0;
	husk_strv_free(&schemata);
	if (rc)
		return -1;
	l->has_intel_rdt = true;
	jp_pop(c, old);
	return 0;
}

/* maskedPaths / readonlyPaths: container paths, so absolute. */
static int jm_abs_paths(struct jctx *c, json_t *lx, const char *key, struct husk_strv *out)
{
	size_t old;
	int rc = jm_strv(c, lx, key, out);

	if (rc <= 0)
		return rc;
	old = jp_key(c, key);
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i][0] != '/') {
			jp_idx(c, i);
			return jfail(c, "must be an absolute path");
		}
	jp_pop(c, old);
	return 0;
}

static int parse_paths(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	if (jm_str(c, lx, "cgroupsPath", &l->cgroups_path) < 0 ||
	    jm_kvv(c, lx, "sysctl", &l->sysctl) < 0 ||
	    jm_abs_paths(c, lx, "maskedPaths", &l->masked_paths) < 0 ||
	    jm_abs_paths(c, lx, "readonlyPaths", &l->readonly_paths) < 0 ||
	    jm_str(c, lx, "mountLabel", &l->mount_label) < 0)
		return -1;
	return 0;
}

static int parse_sub(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	json_t *obj;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, lx, "resources", &obj)) < 0)
		return -1;
	if (rc > 0) {
		old = jp_key(c, "resources");
		l->resources = calloc(1, sizeof(*l->resources));
		if (!l->resources)
			return jnomem(c);
		if (husk_parse_resources(c, obj, l->resources) < 0)
			return -1;
		jp_pop(c, old);
	}
	if ((rc = jm_obj(c, lx, "seccomp", &obj)) < 0)
		return -1;
	if (rc > 0) {
		old = jp_key(c, "seccomp");
		l->seccomp = calloc(1, sizeof(*l->seccomp));
		if (!l->seccomp)
			return jnomem(c);
		if (husk_parse_seccomp(c, obj, l->seccomp) < 0)
			return -1;
		jp_pop(c, old);
	}
	return 0;
}

int husk_parse_linux(struct jctx *c, json_t *lx, struct husk_linux *l)
{
	if (parse_namespaces(c, lx, l) < 0 ||
	    husk_parse_id_maps(c, lx, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
	    husk_parse_id_maps(c, lx, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
	    parse_time_offsets(c, lx, l) < 0 || parse_devices(c, lx, l) < 0)
		return -1;
	if (parse_propagation(c, lx, l) < 0 || parse_paths(c, lx, l) < 0 ||
	    parse_personality(c, lx, l) < 0 || parse_intel_rdt(c, lx, l) < 0 ||
	    parse_sub(c, lx, l) < 0 || husk_parse_linux13(c, lx, l) < 0)
		return -1;
	return 0;
}

static void seccomp_free(struct husk_seccomp *s)
{
	if (!s)
		return;
	husk_strv_free(&s->architectures);
	husk_strv_free(&s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_rules; i++) {
		husk_strv_free(&s->rules[i].names);
		free(s->rules[i].args);
	}
	free(s->rules);
	free(s);
}

void husk_linux_clear(struct husk_linux *l)
{
	for (int t = 0; t < HUSK_NS_COUNT; t++)
		free(l->ns[t].path);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	husk_resources_free(l->resources);
	seccomp_free(l->seccomp);
	husk_kvv_free(&l->sysctl);
	husk_strv_free(&l->masked_paths);
	husk_strv_free(&l->readonly_paths);
	free(l->mount_label);
	if (l->personality) {
		husk_strv_free(&l->personality->flags);
		free(l->personality);
	}
	husk_linux13_clear(l);
	memset(l, 0, sizeof(*l));
}
