/* `husk spec` defaults and `husk features`: both must be valid documents
 * that husk itself accepts, and carry the hardening they promise. */
#include <jansson.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "spec_test.h"

static struct husk_spec *default_spec(bool rootless)
{
	struct husk_err err = {0};
	char *text = husk_spec_default_json(rootless, &err);
	struct husk_spec *s;
	assert_non_null(text);
	s = parse_ok(text);
	free(text);
	return s;
}

static const struct husk_mount *find_mount(const struct husk_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (strcmp(s->mounts[i].destination, dest) == 0)
			return &s->mounts[i];
	return NULL;
}

static const struct husk_seccomp_rule *find_rule(const struct husk_seccomp *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		for (size_t j = 0; j < sc->rules[i].names.n; j++)
			if (strcmp(sc->rules[i].names.v[j], name) == 0)
				return &sc->rules[i];
	return NULL;
}

static void default_round_trip(void **state)
{
	struct husk_spec *s = default_spec(false);
	const uint64_t caps =
	    (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE);
	assert_string_equal(s->root_path, "rootfs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "husk");
	assert_non_null(s->process);
	assert_true(s->process->terminal);
	assert_string_equal(s->process->args.v[0], "sh");
	assert_string_equal(s->process->cwd, "/");
	assert_true(s->process->no_new_privileges);
	assert_int_equal(s->process->caps.bounding, caps);
	assert_int_equal(s->process->caps.effective, caps);
	assert_int_equal(s->process->caps.permitted, caps);
	assert_int_equal(s->process->caps.inheritable, 0);
	assert_int_equal(s->process->caps.ambient, 0);
	assert_int_equal(s->process->n_rlimits, 1);
	assert_int_equal(s->process->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s->process->rlimits[0].hard, 1024);
	assert_string_equal(s->process->env.v[1], "TERM=xterm");
	husk_spec_free(s);
}

static void default_namespaces_and_mounts(void **state)
{
	struct husk_spec *s = default_spec(false);
	const struct husk_mount *m;
	assert_true(s->linux.ns[HUSK_NS_PID].enabled);
	assert_true(s->linux.ns[HUSK_NS_NETWORK].enabled);
	assert_true(s->linux.ns[HUSK_NS_IPC].enabled);
	assert_true(s->linux.ns[HUSK_NS_UTS].enabled);
	assert_true(s->linux.ns[HUSK_NS_MOUNT].enabled);
	assert_true(s->linux.ns[HUSK_NS_CGROUP].enabled);
	/* Hardened: a user namespace whose mappings husk allocates at create
	 * (husk.userns=auto) from an unprivileged host range, the rootfs
	 * idmapped to it; no identity map. */
	assert_true(s->linux.ns[HUSK_NS_USER].enabled);
	assert_int_equal(s->linux.n_uid_mappings, 0);
	assert_int_equal(s->linux.n_gid_mappings, 0);
	assert_int_equal(s->annotations.n, 2);
	for (size_t i = 0; i < s->annotations.n; i++) {
		const struct husk_kv *a = &s->annotations.v[i];
		if (strcmp(a->key, "husk.userns") == 0)
			assert_string_equal(a->value, "auto");
		else {
			assert_string_equal(a->key, "husk.rootfs.idmap");
			assert_string_equal(a->value, "true");
		}
	}
	assert_int_equal(s->n_mounts, 7);
	m = find_mount(s, "/dev");
	assert_non_null(m);
	assert_string_equal(m->opts.data, "mode=755,size=65536k");
	assert_int_equal(m->opts.flags, MS_NOSUID | MS_STRICTATIME);
	m = find_mount(s, "/dev/pts");
	assert_string_equal(m->opts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	m = find_mount(s, "/sys");
	assert_string_equal(m->type, "sysfs");
	assert_true(m->opts.flags & MS_RDONLY);
	m = find_mount(s, "/sys/fs/cgroup");
	assert_non_null(m);
	assert_true(m->opts.flags & MS_RDONLY);
	assert_non_null(find_mount(s, "/proc"));
	assert_non_null(find_mount(s, "/dev/shm"));
	assert_non_null(find_mount(s, "/dev/mqueue"));
	assert_true(s->linux.masked_paths.n >= 10);
	assert_string_equal(s->linux.masked_paths.v[0], "/proc/acpi");
	assert_int_equal(s->linux.readonly_paths.n, 5);
	assert_string_equal(s->linux.readonly_paths.v[3], "/proc/sys");
	assert_non_null(s->linux.resources);
	assert_int_equal(s->linux.resources->n_devices, 1);
	assert_false(s->linux.resources->devices[0].allow);
	husk_spec_free(s);
}

static void default_seccomp(void **state)
{
	struct husk_spec *s = default_spec(false);
	const struct husk_seccomp *sc = s->linux.seccomp;
	static const char *const denied[] = {
	    "keyctl",
	    "add_key",
	    "request_key",
	    "bpf",
	    "perf_event_open",
	    "kexec_load",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "open_by_handle_at",
	    "mount",
	    "umount2",
	    "fsopen",
	    "fsmount",
	    "move_mount",
	    "open_tree",
	    "pivot_root",
	    "swapon",
	    "swapoff",
	    "reboot",
	    "acct",
	    "settimeofday",
	    "clock_settime",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "userfaultfd",
	    "lookup_dcookie",
	    "quotactl",
	    "nfsservctl",
	    "syslog",
	    "uselib",
	    "kexec_file_load",
	};
	static const char *const allowed[] = {"read",	"execve", "clone", "fork", "setuid",
					      "chroot", "socket", "mmap",  "wait4"};
	const struct husk_seccomp_rule *r;

	assert_non_null(sc);
	assert_int_equal(sc->default_action, HUSK_SCMP_ALLOW);
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		r = find_rule(sc, denied[i]);
		if (!r)
			fail_msg("%s is not denied", denied[i]);
		assert_int_equal(r->action, HUSK_SCMP_ERRNO);
		assert_int_equal(r->errno_ret, 1);
		assert_int_equal(r->n_args, 0);
	}
	/* clone is only denied with CLONE_NEWUSER; everything else stays allowed. */
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		r = find_rule(sc, allowed[i]);
		assert_true(!r || r->n_args > 0);
	}
	r = find_rule(sc, "unshare");
	assert_non_null(r);
	assert_int_equal(r->n_args, 1);
	assert_int_equal(r->args[0].op, HUSK_SCMP_CMP_MASKED_EQ);
	assert_int_equal(r->args[0].value, 0x10000000);
	r = find_rule(sc, "clone");
	assert_non_null(r);
	assert_int_equal(r->n_args, 1);
#if defined(__x86_64__) || defined(__aarch64__)
	assert_int_equal(r->args[0].index, 0);
#endif
	assert_int_equal(r->args[0].value_two, 0x10000000);
	r = find_rule(sc, "clone3");
	assert_non_null(r);
	assert_int_equal(r->errno_ret, 38);
	husk_spec_free(s);
}

static void rootless_variant(void **state)
{
	struct husk_spec *s = default_spec(true);
	const struct husk_mount *m;
	assert_true(s->linux.ns[HUSK_NS_USER].enabled);
	assert_false(s->linux.ns[HUSK_NS_NETWORK].enabled);
	assert_int_equal(s->linux.n_uid_mappings, 1);
	assert_int_equal(s->linux.uid_mappings[0].container_id, 0);
	assert_int_equal(s->linux.uid_mappings[0].host_id, geteuid());
	assert_int_equal(s->linux.uid_mappings[0].size, 1);
	assert_int_equal(s->linux.gid_mappings[0].host_id, getegid());
	assert_null(find_mount(s, "/sys/fs/cgroup"));
	m = find_mount(s, "/sys");
	assert_true(m->opts.bind);
	assert_true(m->opts.recursive);
	m = find_mount(s, "/dev/pts");
	assert_null(strstr(m->opts.data, "gid="));
	assert_null(s->linux.resources);
	assert_true(s->process->no_new_privileges);
	assert_non_null(s->linux.seccomp);
	husk_spec_free(s);
}

static void capability_table(void **state)
{
	assert_int_equal(husk_cap_last(), CAP_LAST_CAP);
	assert_string_equal(husk_cap_name(0), "CAP_CHOWN");
	assert_string_equal(husk_cap_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
	assert_string_equal(husk_cap_name(40), "CAP_CHECKPOINT_RESTORE");
	assert_null(husk_cap_name(-1));
	assert_null(husk_cap_name(husk_cap_last() + 1));
	for (int c = 0; c <= husk_cap_last(); c++)
		assert_int_equal(husk_cap_from_name(husk_cap_name(c)), c);
	assert_int_equal(husk_cap_from_name("CHOWN"), -1);
}

static json_t *features(void)
{
	struct husk_err err = {0};
	char *text = husk_features_json(NULL, &err);
	json_error_t jerr;
	json_t *f;
	assert_non_null(text);
	f = json_loads(text, 0, &jerr);
	free(text);
	assert_non_null(f);
	return f;
}

static bool array_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (json_is_string(v) &&
					  strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

static void features_document(void **state)
{
	json_t *f = features();
	json_t *lx = json_object_get(f, "linux");
	assert_string_equal(json_string_value(json_object_get(f, "ociVersionMin")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(f, "ociVersionMax")), "1.3.0");
	assert_true(array_has(json_object_get(f, "hooks"), "createContainer"));
	assert_int_equal(json_array_size(json_object_get(f, "hooks")), 6);
	assert_true(array_has(json_object_get(f, "mountOptions"), "rro"));
	assert_true(array_has(json_object_get(f, "mountOptions"), "idmap"));
	assert_false(array_has(json_object_get(f, "mountOptions"), "size"));
	assert_true(json_is_object(lx));
	assert_int_equal(json_array_size(json_object_get(lx, "namespaces")), 8);
	assert_int_equal(json_array_size(json_object_get(lx, "capabilities")), CAP_LAST_CAP + 1);
	assert_true(json_is_true(json_object_get(json_object_get(lx, "cgroup"), "v2")));
	assert_true(json_is_true(json_object_get(json_object_get(lx, "cgroup"), "systemd")));
	assert_true(json_is_true(json_object_get(json_object_get(lx, "cgroup"), "systemdUser")));
	assert_true(json_is_true(json_object_get(json_object_get(lx, "seccomp"), "enabled")));
	assert_true(array_has(json_object_get(json_object_get(lx, "seccomp"), "actions"),
			      "SCMP_ACT_NOTIFY"));
	assert_true(array_has(json_object_get(json_object_get(lx, "seccomp"), "operators"),
			      "SCMP_CMP_MASKED_EQ"));
	assert_true(array_has(json_object_get(json_object_get(lx, "seccomp"), "archs"),
			      "SCMP_ARCH_X86_64"));
	assert_true(array_has(json_object_get(json_object_get(lx, "seccomp"), "knownFlags"),
			      "SECCOMP_FILTER_FLAG_LOG"));
	assert_true(json_is_false(json_object_get(json_object_get(lx, "apparmor"), "enabled")));
	assert_true(json_is_false(json_object_get(json_object_get(lx, "selinux"), "enabled")));
	assert_true(json_is_false(json_object_get(json_object_get(lx, "intelRdt"), "enabled")));
	assert_true(json_is_true(json_object_get(
	    json_object_get(json_object_get(lx, "mountExtensions"), "idmap"), "enabled")));
	assert_true(json_is_object(json_object_get(f, "annotations")));
	json_decref(f);
}

/* Every mount option that features advertises is one the parser knows: it
 * must not end up in the data string. */
static void features_mount_options_are_known(void **state)
{
	json_t *f = features();
	json_t *opts = json_object_get(f, "mountOptions"), *v;
	size_t i;
	json_array_foreach(opts, i, v)
	{
		const char *o[] = {json_string_value(v)};
		struct husk_strv sv = {(char **)o, 1};
		struct husk_mount_opts m;
		struct husk_err err = {0};
		assert_int_equal(husk_mount_options_parse(&sv, &m, &err), 0);
		if (m.data)
			fail_msg("%s went to data", o[0]);
	}
	json_decref(f);
}

RUN(cmocka_unit_test(default_round_trip), cmocka_unit_test(default_namespaces_and_mounts),
    cmocka_unit_test(default_seccomp), cmocka_unit_test(rootless_variant),
    cmocka_unit_test(capability_table), cmocka_unit_test(features_document),
    cmocka_unit_test(features_mount_options_are_known))
