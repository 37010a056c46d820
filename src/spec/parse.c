/* config.json: the top-level sections (version, root, mounts, hooks,
 * annotations) and the public entry points. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/parse.h"
#include "spec/tables.h"
#include "util/log.h"
#include "util/cleanup.h"
#include "util/ids.h"
#include "util/io.h"

static int parse_version(struct jctx *c, json_t *root, struct husk_spec *s)
{
	size_t old;

	if (jm_need(c, root, "ociVersion") < 0 ||
	    jm_str(c, root, "ociVersion", &s->oci_version) < 0)
		return -1;
	/* Only major version 1 exists; minor versions add optional fields. */
	if (strncmp(s->oci_version, "1.", 2) != 0) {
		old = jp_key(c, "ociVersion");
		jfail(c, "unsupported version \"%s\"", s->oci_version);
		jp_pop(c, old);
		return -1;
	}
	return 0;
}

static int parse_root(struct jctx *c, json_t *root, struct husk_spec *s)
{
	json_t *obj;
	size_t old;
	int rc;

	if (jm_need(c, root, "root") < 0 || jm_obj(c, root, "root", &obj) < 0)
		return -1;
	old = jp_key(c, "root");
	rc = jm_need(c, obj, "path");
	if (rc == 0)
		rc = jm_str(c, obj, "path", &s->root_path);
	if (rc >= 0 && s->root_path[0] == '\0')
		rc = jfail(c, "path: must not be empty");
	if (rc >= 0)
		rc = jm_bool(c, obj, "readonly", &s->root_readonly);
	if (rc < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

/* The first ids of an extent are ids like any other (0..HUSK_ID_MAX, see
 * util/ids.h). Its end follows the kernel's rule, which keeps (uid_t)-1
 * out of every map: id + size must not pass 2^32 - 1, so the identity map
 * of `husk spec` (0 0 4294967295) stays valid. An empty extent is refused
 * too. Say which entry before the kernel is asked. */
static int check_id_map(struct jctx *c, const struct husk_id_map *m)
{
	uint64_t end_c = (uint64_t)m->container_id + m->size;
	uint64_t end_h = (uint64_t)m->host_id + m->size;

	if (m->size == 0) {
		jp_key(c, "size");
		return jfail(c, "must not be 0");
	}
	if (end_c > UINT32_MAX || end_h > UINT32_MAX)
		return jfail(c, "range overflows: %s + size = %" PRIu64 " is over %" PRIu32,
			     end_c > UINT32_MAX ? "containerID" : "hostID",
			     end_c > UINT32_MAX ? end_c : end_h, UINT32_MAX);
	return 0;
}

int husk_parse_id_maps(struct jctx *c, json_t *obj, const char *key, struct husk_id_map **out,
		       size_t *n)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, obj, key, &arr)) <= 0)
		return rc;
	old = jp_key(c, key);
	*out = jcalloc(c, json_array_size(arr), sizeof(**out), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		struct husk_id_map *m = &(*out)[i];
		if (!json_is_object(item))
			return jfail(c, "must be an object");
		if (jm_need(c, item, "containerID") < 0 || jm_need(c, item, "hostID") < 0 ||
		    jm_need(c, item, "size") < 0)
			return -1;
		if (jm_id(c, item, "containerID", &m->container_id) < 0 ||
		    jm_id(c, item, "hostID", &m->host_id) < 0 ||
		    jm_u32(c, item, "size", &m->size) < 0)
			return -1;
		if (check_id_map(c, m) < 0)
			return -1;
		*n = i + 1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 1;
}

/* runc resolves a relative mount destination from the container's root
 * (with a warning) for the sake of old bundles; do the same, so a bundle
 * that runs under runc runs unchanged under husk. */
static int absolutize(struct jctx *c, char **dest)
{
	char *abs;
	if (asprintf(&abs, "/%s", *dest) < 0)
		return husk_err_set(c->err, ENOMEM, "%s.destination", c->path);
	husk_warn("%s.destination: %s is not absolute, using %s", c->path, *dest, abs);
	free(*dest);
	*dest = abs;
	return 0;
}

static int parse_mount(struct jctx *c, json_t *item, struct husk_mount *m)
{
	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "destination") < 0 ||
	    jm_str(c, item, "destination", &m->destination) < 0)
		return -1;
	if (m->destination[0] != '/' && absolutize(c, &m->destination) < 0)
		return -1;
	{
		size_t old = jp_key(c, "destination");
		if (husk_check_abs_path(c, m->destination) < 0)
			return -1;
		jp_pop(c, old);
	}
	if (jm_str(c, item, "type", &m->type) < 0 || jm_str(c, item, "source", &m->source) < 0 ||
	    jm_strv(c, item, "options", &m->options) < 0)
		return -1;
	if (husk_parse_id_maps(c, item, "uidMappings", &m->uid_mappings, &m->n_uid_mappings) < 0 ||
	    husk_parse_id_maps(c, item, "gidMappings", &m->gid_mappings, &m->n_gid_mappings) < 0)
		return -1;
	if (husk_mount_options_parse(&m->options, &m->opts, c->err) < 0)
		return husk_err_prefix(c->err, "%s", c->path);
	/* type "bind" means a bind mount even without a bind option. */
	if (m->type && strcmp(m->type, "bind") == 0 && !m->opts.bind) {
		m->opts.bind = true;
		m->opts.flags |= MS_BIND;
	}
	if ((m->n_uid_mappings || m->n_gid_mappings) && !m->opts.idmap)
		m->opts.idmap = true;
	return 0;
}

static int parse_mounts(struct jctx *c, json_t *root, struct husk_spec *s)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, root, "mounts", &arr)) <= 0)
		return rc;
	old = jp_key(c, "mounts");
	s->mounts = jcalloc(c, json_array_size(arr), sizeof(*s->mounts), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		s->n_mounts = i + 1;
		if (parse_mount(c, item, &s->mounts[i]) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_hook(struct jctx *c, json_t *item, struct husk_hook *h)
{
	int64_t timeout;
	int rc;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "path") < 0 || jm_str(c, item, "path", &h->path) < 0)
		return -1;
	if (h->path[0] != '/') {
		size_t old = jp_key(c, "path");
		jfail(c, "must be absolute");
		jp_pop(c, old);
		return -1;
	}
	if (jm_strv(c, item, "args", &h->args) < 0 || jm_strv(c, item, "env", &h->env) < 0)
		return -1;
	rc = jm_i64(c, item, "timeout", &timeout);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		if (timeout <= 0 || timeout > INT32_MAX) {
			size_t old = jp_key(c, "timeout");
			jfail(c, "must be a positive number of seconds");
			jp_pop(c, old);
			return -1;
		}
		h->has_timeout = true;
		h->timeout = (int)timeout;
	}
	return 0;
}

static int parse_hook_list(struct jctx *c, json_t *hooks, const char *name,
			   struct husk_hook_list *list)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, hooks, name, &arr)) <= 0)
		return rc;
	old = jp_key(c, name);
	list->v = jcalloc(c, json_array_size(arr), sizeof(*list->v), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		list->n = i + 1;
		if (parse_hook(c, item, &list->v[i]) < 0)
			return -1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_hooks(struct jctx *c, json_t *root, struct husk_spec *s)
{
	json_t *hooks;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, root, "hooks", &hooks)) <= 0)
		return rc;
	old = jp_key(c, "hooks");
	for (int k = 0; k < HUSK_HOOK_KIND_COUNT; k++)
		if (parse_hook_list(c, hooks, husk_hook_names[k], &s->hooks[k]) < 0)
			return -1;
	jp_pop(c, old);
	return 0;
}

static int parse_spec_root(struct jctx *c, json_t *root, struct husk_spec *s)
{
	json_t *obj;
	int rc;

	if (parse_version(c, root, s) < 0 || parse_root(c, root, s) < 0 ||
	    parse_mounts(c, root, s) < 0 || parse_hooks(c, root, s) < 0)
		return -1;
	if (jm_str(c, root, "hostname", &s->hostname) < 0 ||
	    jm_str(c, root, "domainname", &s->domainname) < 0 ||
	    jm_kvv(c, root, "annotations", &s->annotations) < 0)
		return -1;
	if ((rc = jm_obj(c, root, "process", &obj)) < 0)
		return -1;
	if (rc > 0) {
		size_t old = jp_key(c, "process");
		s->process = calloc(1, sizeof(*s->process));
		if (!s->process)
			return jnomem(c);
		if (husk_parse_process(c, obj, s->process) < 0)
			return -1;
		jp_pop(c, old);
	}
	if ((rc = jm_obj(c, root, "linux", &obj)) < 0)
		return -1;
	if (rc > 0) {
		size_t old = jp_key(c, "linux");
		if (husk_parse_linux(c, obj, &s->linux) < 0)
			return -1;
		jp_pop(c, old);
	}
	return husk_validate_spec(c, s);
}

struct husk_spec *husk_spec_parse(const char *json, size_t len, struct husk_err *err)
{
	struct jctx c = {.err = err};
	struct husk_spec *s;
	json_t *root = jload(&c, json, len, "config.json");

	if (!root)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		jdone(&c, root);
		husk_err_set(err, ENOMEM, "parse config.json");
		return NULL;
	}
	if (parse_spec_root(&c, root, s) < 0) {
		husk_spec_free(s);
		s = NULL;
	}
	jdone(&c, root);
	return s;
}

struct husk_spec *husk_spec_load(const char *bundle, struct husk_err *err)
{
	char path[4096];
	size_t len = 0;
	_cleanup_free_ char *buf = NULL;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
		husk_err_set(err, ENAMETOOLONG, "open %s/config.json", bundle);
		return NULL;
	}
	buf = husk_read_file(AT_FDCWD, path, 0, &len, err);
	if (!buf)
		return NULL;
	return husk_spec_parse(buf, len, err);
}

struct husk_process *husk_process_load(const char *path, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	struct husk_process *p;
	size_t len = 0;

	buf = husk_read_file(AT_FDCWD, path, 0, &len, err);
	if (!buf) {
		husk_err_prefix(err, "process file");
		return NULL;
	}
	p = husk_process_parse(buf, len, err);
	if (!p)
		husk_err_prefix(err, "process file %s", path);
	return p;
}

struct husk_process *husk_process_parse(const char *json, size_t len, struct husk_err *err)
{
	struct jctx c = {.err = err};
	struct husk_process *p;
	json_t *root = jload(&c, json, len, "process.json");

	if (!root)
		return NULL;
	jp_key(&c, "process");
	p = calloc(1, sizeof(*p));
	if (!p) {
		husk_err_set(err, ENOMEM, "parse process.json");
	} else if (husk_parse_process(&c, root, p) < 0) {
		husk_process_free(p);
		p = NULL;
	}
	jdone(&c, root);
	return p;
}

struct husk_resources *husk_resources_parse(const char *json, size_t len, struct husk_err *err)
{
	struct jctx c = {.err = err};
	struct husk_resources *r;
	json_t *root = jload(&c, json, len, "resources");

	if (!root)
		return NULL;
	jp_key(&c, "linux.resources");
	r = calloc(1, sizeof(*r));
	if (!r) {
		husk_err_set(err, ENOMEM, "parse resources");
	} else if (husk_parse_resources(&c, root, r) < 0) {
		husk_resources_free(r);
		r = NULL;
	}
	jdone(&c, root);
	return r;
}

struct husk_resources *husk_resources_load(const char *path, struct husk_err *err)
{
	bool from_stdin = strcmp(path, "-") == 0;
	const char *name = from_stdin ? "stdin" : path;
	_cleanup_free_ char *buf = NULL;
	struct husk_resources *r;
	size_t len = 0;

	buf = from_stdin ? husk_read_fd(STDIN_FILENO, name, 0, &len, err)
			 : husk_read_file(AT_FDCWD, path, 0, &len, err);
	if (!buf)
		return NULL;
	r = husk_resources_parse(buf, len, err);
	if (!r)
		husk_err_prefix(err, "%s", name);
	return r;
}
