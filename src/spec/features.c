/* `husk features`: the OCI features document (runtime-spec features.md).
 * It describes what this build recognises, not what the host offers. */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>

#include "spec/spec.h"
#include "spec/tables.h"
#include "util/cleanup.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "unknown"
#endif

static json_t *names_array(const char *const *names, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *table_array(const struct husk_name_value *t, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(t[i].name));
	return a;
}

static json_t *mount_options(void)
{
	json_t *a = json_array();
	const char *name;
	for (size_t i = 0; a && (name = husk_mount_option_at(i)); i++)
		json_array_append_new(a, json_string(name));
	return a;
}

static json_t *namespaces_array(void)
{
	json_t *a = json_array();
	for (int t = 0; a && t < HUSK_NS_COUNT; t++)
		json_array_append_new(a, json_string(husk_ns_name(t)));
	return a;
}

static json_t *caps_array(void)
{
	json_t *a = json_array();
	for (int cap = 0; a && cap <= husk_cap_last(); cap++)
		json_array_append_new(a, json_string(husk_cap_name(cap)));
	return a;
}

/* Flags the running kernel and libseccomp can apply, by libseccomp's API
 * level (2: TSYNC, 3: LOG, 4: SPEC_ALLOW, 6: WAIT_KILLABLE_RECV). */
static json_t *supported_flags(void)
{
	static const unsigned int level[] = {2, 3, 4, 6};
	unsigned int api = seccomp_api_get();
	json_t *a = json_array();

	for (size_t i = 0; a && i < husk_n_seccomp_flag_names; i++)
		if (api >= level[i])
			json_array_append_new(a, json_string(husk_seccomp_flag_names[i]));
	return a;
}

static json_t *seccomp_features(void)
{
	return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
			 table_array(husk_seccomp_action_names, husk_n_seccomp_action_names),
			 "operators", table_array(husk_seccomp_op_names, husk_n_seccomp_op_names),
			 "archs", names_array(husk_seccomp_arch_names, husk_n_seccomp_arch_names),
			 "knownFlags",
			 names_array(husk_seccomp_flag_names, husk_n_seccomp_flag_names),
			 "supportedFlags", supported_flags());
}

static json_t *linux_features(void)
{
	return json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, "
			 "s:{s:b}, s:{s:{s:b}}}",
			 "namespaces", namespaces_array(), "capabilities", caps_array(), "cgroup",
			 "v1", 1, "v2", 1, "systemd", 1, "systemdUser", 1, "rdma", 0, "seccomp",
			 seccomp_features(), "apparmor", "enabled", 0, "selinux", "enabled", 0,
			 "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled", 1);
}

static json_t *annotations(const struct husk_kvv *extra)
{
	const struct scmp_version *v = seccomp_version();
	char libseccomp[64] = "unknown";

	if (v)
		snprintf(libseccomp, sizeof(libseccomp), "%u.%u.%u", v->major, v->minor, v->micro);
	json_t *a = json_pack("{s:s, s:s}", "org.husk.version", HUSK_VERSION,
			      "io.github.seccomp.libseccomp.version", libseccomp);
	for (size_t i = 0; a && extra && i < extra->n; i++)
		json_object_set_new(a, extra->v[i].key, json_string(extra->v[i].value));
	return a;
}

char *husk_features_json(const struct husk_kvv *extra, struct husk_err *err)
{
	json_t *f =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "ociVersionMin", "1.0.0", "ociVersionMax",
		      HUSK_OCI_VERSION, "hooks", names_array(husk_hook_names, HUSK_HOOK_KIND_COUNT),
		      "mountOptions", mount_options(), "linux", linux_features(), "annotations",
		      annotations(extra));
	char *text;

	if (!f) {
		husk_err_set(err, ENOMEM, "build features document");
		return NULL;
	}
	text = json_dumps(f, JSON_INDENT(2));
	json_decref(f);
	if (!text)
		husk_err_set(err, ENOMEM, "build features document");
	return text;
}
