/* config.json "linux": namespaces, mappings, devices, sysctl, paths,
 * personality, propagation. */
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "spec_test.h"

#define LINUX(body) CONFIG(",\"linux\":{" body "}")

static void namespaces(void **state)
{
	struct husk_spec *s = parse_ok(LINUX(
	    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/var/run/netns/"
	    "x\"},"
	    "{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"cgroup\"},"
	    "{\"type\":\"time\"}]"));
	const struct husk_linux *l = &s->linux;
	assert_true(l->ns[HUSK_NS_PID].enabled);
	assert_null(l->ns[HUSK_NS_PID].path);
	assert_true(l->ns[HUSK_NS_NETWORK].enabled);
	assert_string_equal(l->ns[HUSK_NS_NETWORK].path, "/var/run/netns/x");
	assert_true(l->ns[HUSK_NS_MOUNT].enabled);
	assert_true(l->ns[HUSK_NS_IPC].enabled);
	assert_true(l->ns[HUSK_NS_UTS].enabled);
	assert_true(l->ns[HUSK_NS_CGROUP].enabled);
	assert_true(l->ns[HUSK_NS_TIME].enabled);
	assert_false(l->ns[HUSK_NS_USER].enabled);
	husk_spec_free(s);
}

static void ns_tables(void **state)
{
	assert_string_equal(husk_ns_name(HUSK_NS_PID), "pid");
	assert_string_equal(husk_ns_name(HUSK_NS_NETWORK), "network");
	assert_string_equal(husk_ns_name(HUSK_NS_MOUNT), "mount");
	assert_string_equal(husk_ns_name(HUSK_NS_TIME), "time");
	assert_null(husk_ns_name(HUSK_NS_COUNT));
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_PID), CLONE_NEWPID);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_NETWORK), CLONE_NEWNET);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_MOUNT), CLONE_NEWNS);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_IPC), CLONE_NEWIPC);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_UTS), CLONE_NEWUTS);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_USER), CLONE_NEWUSER);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_CGROUP), CLONE_NEWCGROUP);
	assert_int_equal(husk_ns_clone_flag(HUSK_NS_TIME), 0x80);
}

static void user_namespace_mappings(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"namespaces\":[{\"type\":\"user\"}],"
			   "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
			   "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":1},"
			   "{\"containerID\":1,\"hostID\":300000,\"size\":10}]"));
	assert_int_equal(s->linux.n_uid_mappings, 1);
	assert_int_equal(s->linux.uid_mappings[0].host_id, 100000);
	assert_int_equal(s->linux.uid_mappings[0].size, 65536);
	assert_int_equal(s->linux.n_gid_mappings, 2);
	assert_int_equal(s->linux.gid_mappings[1].container_id, 1);
	assert_int_equal(s->linux.gid_mappings[1].host_id, 300000);
	husk_spec_free(s);
}

static void join_user_namespace(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]"));
	assert_string_equal(s->linux.ns[HUSK_NS_USER].path, "/proc/1/ns/user");
	husk_spec_free(s);
}

static void time_offsets(void **state)
{
	struct husk_spec *s = parse_ok(LINUX(
	    "\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"monotonic\":{\"secs\":-10,"
	    "\"nanosecs\":5},\"boottime\":{\"secs\":3600}}"));
	assert_true(s->linux.time_monotonic.set);
	assert_int_equal(s->linux.time_monotonic.secs, -10);
	assert_int_equal(s->linux.time_monotonic.nanosecs, 5);
	assert_true(s->linux.time_boottime.set);
	assert_int_equal(s->linux.time_boottime.secs, 3600);
	husk_spec_free(s);
}

static void devices(void **state)
{
	struct husk_spec *s = parse_ok(LINUX(
	    "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229,"
	    "\"fileMode\":438,\"uid\":0,\"gid\":5},{\"type\":\"p\",\"path\":\"/dev/fifo\"},"
	    "{\"type\":\"b\",\"path\":\"/dev/sda\",\"major\":8,\"minor\":0},"
	    /* Podman writes the file type bits too (S_IFCHR | 0620). */
	    "{\"type\":\"c\",\"path\":\"/dev/tty9\",\"major\":4,\"minor\":9,\"fileMode\":8592}]"));
	const struct husk_device *d = s->linux.devices;
	assert_int_equal(s->linux.n_devices, 4);
	assert_int_equal(d[0].type, 'c');
	assert_string_equal(d[0].path, "/dev/fuse");
	assert_int_equal(d[0].major, 10);
	assert_int_equal(d[0].minor, 229);
	assert_true(d[0].has_file_mode);
	assert_int_equal(d[0].file_mode, 0666);
	assert_true(d[0].has_uid);
	assert_true(d[0].has_gid);
	assert_int_equal(d[0].gid, 5);
	assert_int_equal(d[1].type, 'p');
	assert_int_equal(d[3].file_mode, 0620);
	assert_false(d[1].has_file_mode);
	assert_false(d[1].has_uid);
	assert_int_equal(d[2].type, 'b');
	husk_spec_free(s);
}

static void propagation(void **state)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} cases[] = {
	    {"shared", MS_SHARED},
	    {"slave", MS_SLAVE},
	    {"private", MS_PRIVATE},
	    {"unbindable", MS_UNBINDABLE},
	    {"rshared", MS_SHARED | MS_REC},
	    {"rslave", MS_SLAVE | MS_REC},
	    {"rprivate", MS_PRIVATE | MS_REC},
	    {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[256];
		struct husk_spec *s;
		snprintf(json, sizeof(json), LINUX("\"rootfsPropagation\":\"%s\""), cases[i].name);
		s = parse_ok(json);
		assert_true(s->linux.has_rootfs_propagation);
		assert_int_equal(s->linux.rootfs_propagation, cases[i].flags);
		husk_spec_free(s);
	}
}

static void sysctl_allowed(void **state)
{
	struct husk_spec *s = parse_ok(
	    LINUX("\"namespaces\":[{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}],"
		  "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"100\","
		  "\"fs.mqueue.msg_max\":\"10\",\"kernel.domainname\":\"x\",\"net/core/"
		  "somaxconn\":\"9\"}"));
	assert_int_equal(s->linux.sysctl.n, 5);
	assert_string_equal(s->linux.sysctl.v[0].key, "net.ipv4.ip_forward");
	assert_string_equal(s->linux.sysctl.v[0].value, "1");
	husk_spec_free(s);
}

static void paths_and_labels(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],\"readonlyPaths\":"
			   "[\"/proc/sys\"],\"mountLabel\":\"system_u:object_r:x\",\"cgroupsPath\":"
			   "\"/husk/c1\""));
	assert_int_equal(s->linux.masked_paths.n, 2);
	assert_string_equal(s->linux.masked_paths.v[1], "/sys/firmware");
	assert_string_equal(s->linux.readonly_paths.v[0], "/proc/sys");
	assert_string_equal(s->linux.mount_label, "system_u:object_r:x");
	assert_string_equal(s->linux.cgroups_path, "/husk/c1");
	husk_spec_free(s);
}

static void personality_domain(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"personality\":{\"domain\":\"LINUX32\",\"flags\":[\"x\"]}"));
	assert_non_null(s->linux.personality);
	assert_int_equal(s->linux.personality->domain, PER_LINUX32);
	assert_int_equal(s->linux.personality->flags.n, 1);
	husk_spec_free(s);
	s = parse_ok(LINUX("\"personality\":{\"domain\":\"LINUX\"}"));
	assert_int_equal(s->linux.personality->domain, PER_LINUX);
	husk_spec_free(s);
}

static void intel_rdt(void **state)
{
	struct husk_spec *s = parse_ok(LINUX(
	    "\"intelRdt\":{\"closID\":\"c\",\"l3CacheSchema\":\"L3:0=f\",\"enableCMT\":true}"));
	assert_true(s->linux.has_intel_rdt);
	husk_spec_free(s);
}

static void memory_policy(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_INTERLEAVE\","
			   "\"nodes\":\"0-3,7\",\"flags\":[\"MPOL_F_STATIC_NODES\"]}"));
	assert_non_null(s->linux.memory_policy);
	assert_int_equal(s->linux.memory_policy->mode, 3);
	assert_string_equal(s->linux.memory_policy->nodes, "0-3,7");
	assert_int_equal(s->linux.memory_policy->flags, 1 << 15);
	husk_spec_free(s);
	s = parse_ok(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_LOCAL\"}"));
	assert_int_equal(s->linux.memory_policy->mode, 4);
	assert_null(s->linux.memory_policy->nodes);
	husk_spec_free(s);
}

static void net_devices(void **state)
{
	struct husk_spec *s =
	    parse_ok(LINUX("\"namespaces\":[{\"type\":\"network\"}],"
			   "\"netDevices\":{\"eth1\":{\"name\":\"ceth0\"},\"dummy0\":{}}"));
	assert_int_equal(s->linux.n_net_devices, 2);
	assert_string_equal(s->linux.net_devices[0].host_name, "eth1");
	assert_string_equal(s->linux.net_devices[0].name, "ceth0");
	assert_string_equal(s->linux.net_devices[1].host_name, "dummy0");
	assert_null(s->linux.net_devices[1].name);
	husk_spec_free(s);
}

RUN(cmocka_unit_test(memory_policy), cmocka_unit_test(net_devices), cmocka_unit_test(namespaces),
    cmocka_unit_test(ns_tables), cmocka_unit_test(user_namespace_mappings),
    cmocka_unit_test(join_user_namespace), cmocka_unit_test(time_offsets),
    cmocka_unit_test(devices), cmocka_unit_test(propagation), cmocka_unit_test(sysctl_allowed),
    cmocka_unit_test(paths_and_labels), cmocka_unit_test(personality_domain),
    cmocka_unit_test(intel_rdt))
