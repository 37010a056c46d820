/* Every validation error names the JSON path of the offending value. */
#include "spec_test.h"

#define PROC(extra)   CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]" extra "}")
#define LINUX(body)   CONFIG(",\"linux\":{" body "}")
#define SECCOMP(body) LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"" body "}")

static void version_missing(void **state)
{
	parse_fails("{\"root\":{\"path\":\"r\"}}", "ociVersion: missing");
}

static void version_wrong_type(void **state)
{
	parse_fails("{\"ociVersion\":1,\"root\":{\"path\":\"r\"}}", "ociVersion: must be a string");
}

static void version_unsupported(void **state)
{
	parse_fails("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
		    "ociVersion: unsupported version \"2.0.0\"");
}

static void root_missing(void **state)
{
	parse_fails("{\"ociVersion\":\"1.0.0\"}", "root: missing");
}

static void root_path_missing(void **state)
{
	parse_fails("{\"ociVersion\":\"1.0.0\",\"root\":{\"readonly\":true}}",
		    "root.path: missing");
}

static void root_readonly_type(void **state)
{
	parse_fails("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}",
		    "root.readonly: must be a boolean");
}

static void process_not_object(void **state)
{
	parse_fails(CONFIG(",\"process\":[]"), "process: must be an object");
}

static void args_empty(void **state)
{
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[]}"),
		    "process.args: must not be empty");
}

static void args_absent(void **state)
{
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\"}"), "process.args: must not be empty");
}

static void args_wrong_item(void **state)
{
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",3]}"),
		    "process.args[1]: must be a string");
}

static void cwd_missing(void **state)
{
	parse_fails(CONFIG(",\"process\":{\"args\":[\"sh\"]}"), "process.cwd: missing");
}

static void cwd_relative(void **state)
{
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"tmp\",\"args\":[\"sh\"]}"),
		    "process.cwd: must be absolute");
}

static void terminal_type(void **state)
{
	parse_fails(PROC(",\"terminal\":1"), "process.terminal: must be a boolean");
}

static void env_type(void **state)
{
	parse_fails(PROC(",\"env\":\"A=1\""), "process.env: must be an array of strings");
}

static void env_entry_format(void **state)
{
	parse_fails(PROC(",\"env\":[\"A=1\",\"NOEQUALS\"]"),
		    "process.env[1]: must be KEY=value, got \"NOEQUALS\"");
	parse_fails(PROC(",\"env\":[\"=x\"]"), "process.env[0]: must be KEY=value, got \"=x\"");
}

static void unknown_capability(void **state)
{
	parse_fails(PROC(",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FOO\"]}"),
		    "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"");
}

static void capability_without_prefix(void **state)
{
	parse_fails(PROC(",\"capabilities\":{\"ambient\":[\"KILL\"]}"),
		    "process.capabilities.ambient[0]: unknown capability \"KILL\"");
}

static void capability_lowercase(void **state)
{
	parse_fails(PROC(",\"capabilities\":{\"effective\":[\"cap_kill\"]}"),
		    "process.capabilities.effective[0]: unknown capability \"cap_kill\"");
}

static void unknown_rlimit(void **state)
{
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
		    "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
}

static void rlimit_soft_above_hard(void **state)
{
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2048,\"hard\":1024}]"),
		    "process.rlimits[0]: soft limit above hard limit");
}

static void rlimit_duplicate(void **state)
{
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
			 "{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":2}]"),
		    "process.rlimits[1]: duplicate rlimit \"RLIMIT_NOFILE\"");
}

static void rlimit_missing_hard(void **state)
{
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]"),
		    "process.rlimits[0].hard: missing");
}

static void rlimit_negative(void **state)
{
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":-1,\"hard\":1}]"),
		    "process.rlimits[0].soft: must not be negative");
}

static void umask_range(void **state)
{
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":0,\"umask\":512}"),
		    "process.user.umask: 512 out of range (must be between 0 and 511)");
}

/* (uid_t)-1 means "leave unchanged" to the kernel: it would run the process
 * as root. Ids stop at 2^31 - 1, as runc's. */
static void uid_range(void **state)
{
	parse_fails(PROC(",\"user\":{\"uid\":-1,\"gid\":0}"),
		    "process.user.uid: -1 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":4294967295,\"gid\":0}"),
		    "process.user.uid: 4294967295 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":2147483648,\"gid\":0}"),
		    "process.user.uid: 2147483648 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":4294967295}"),
		    "process.user.gid: 4294967295 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":4294967296}"),
		    "process.user.gid: 4294967296 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[5,4294967295]}"),
		    "process.user.additionalGids[1]: 4294967295 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[-1]}"),
		    "process.user.additionalGids[0]: -1 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":18446744073709551615,\"gid\":0}"),
		    "process.user.uid: 18446744073709551615 is out of range (0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":1.5,\"gid\":0}"),
		    "process.user.uid: must be an integer");
	struct husk_spec *s = parse_ok(PROC(",\"user\":{\"uid\":2147483647,\"gid\":2147483647}"));
	assert_int_equal(s->process->user.uid, 2147483647u);
	assert_int_equal(s->process->user.gid, 2147483647u);
	husk_spec_free(s);
}

static void additional_gid_type(void **state)
{
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,\"x\"]}"),
		    "process.user.additionalGids[1]: must be an integer");
}

static void oom_score_adj_range(void **state)
{
	parse_fails(PROC(",\"oomScoreAdj\":1001"),
		    "process.oomScoreAdj: 1001 out of range (must be between -1000 and 1000)");
	parse_fails(PROC(",\"oomScoreAdj\":-1001"),
		    "process.oomScoreAdj: -1001 out of range (must be between -1000 and 1000)");
	parse_fails(PROC(",\"oomScoreAdj\":18446744073709551615"),
		    "process.oomScoreAdj: 18446744073709551615 out of range (must be between -1000 "
		    "and 1000)");
}

static void scheduler_errors(void **state)
{
	parse_fails(PROC(",\"scheduler\":{\"policy\":\"SCHED_FOO\"}"),
		    "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"");
	parse_fails(PROC(",\"scheduler\":{\"nice\":1}"), "process.scheduler.policy: missing");
	parse_fails(PROC(",\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}"),
		    "process.scheduler.nice: 20 out of range (must be between -20 and 19)");
	parse_fails(PROC(",\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"X\"]}"),
		    "process.scheduler.flags[0]: unknown scheduler flag \"X\"");
}

static void io_priority_errors(void **state)
{
	parse_fails(PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_NONE\"}"),
		    "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"");
	parse_fails(PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}"),
		    "process.ioPriority.priority: 8 out of range (must be between 0 and 7)");
}

static void cpu_affinity_error(void **state)
{
	parse_fails(PROC(",\"execCPUAffinity\":{\"initial\":\"0-a\"}"),
		    "process.execCPUAffinity.initial: invalid CPU list \"0-a\"");
}

/* Runtime spec 1.1 and runc: a relative destination is taken from "/". */
static void mount_destination_relative(void **state)
{
	struct husk_spec *s =
	    parse_ok(CONFIG(",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
			    "{\"destination\":\"sys\",\"type\":\"sysfs\"}]"));
	assert_string_equal(s->mounts[1].destination, "/sys");
	husk_spec_free(s);
}

static void mount_destination_missing(void **state)
{
	parse_fails(CONFIG(",\"mounts\":[{\"type\":\"proc\"}]"), "mounts[0].destination: missing");
}

static void mount_options_type(void **state)
{
	parse_fails(CONFIG(",\"mounts\":[{\"destination\":\"/x\",\"options\":\"ro\"}]"),
		    "mounts[0].options: must be an array of strings");
}

static void mount_half_idmapped(void **state)
{
	parse_fails(CONFIG(",\"mounts\":[{\"destination\":\"/x\",\"uidMappings\":[{\"containerID\":"
			   "0,\"hostID\":1,\"size\":1}]}]"),
		    "mounts[0]: an idmapped mount needs both uidMappings and gidMappings");
}

static void hook_errors(void **state)
{
	parse_fails(CONFIG(",\"hooks\":{\"prestart\":[{\"path\":\"hook\"}]}"),
		    "hooks.prestart[0].path: must be absolute");
	parse_fails(CONFIG(",\"hooks\":{\"poststop\":[{\"path\":\"/h\",\"timeout\":0}]}"),
		    "hooks.poststop[0].timeout: must be a positive number of seconds");
	parse_fails(CONFIG(",\"hooks\":{\"createRuntime\":[{}]}"),
		    "hooks.createRuntime[0].path: missing");
}

static void unknown_namespace(void **state)
{
	parse_fails(
	    LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"foo\"}]"),
	    "linux.namespaces[2].type: unknown namespace type \"foo\"");
}

static void duplicate_namespace(void **state)
{
	parse_fails(
	    LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},"
		  "{\"type\":\"pid\"}]"),
	    "linux.namespaces[3]: duplicate namespace \"pid\"");
}

static void namespace_relative_path(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\",\"path\":\"netns\"}]"),
		    "linux.namespaces[0].path: must be absolute");
}

static void mappings_without_userns(void **state)
{
	parse_fails(LINUX("\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
			  "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"),
		    "linux.uidMappings: requires a user namespace");
}

static void userns_path_with_mappings(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}],"
			  "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
			  "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"),
		    "linux.namespaces: a user namespace path cannot be combined with uid/gid "
		    "mappings");
}

static void userns_without_mappings(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"user\"}],"
			  "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"),
		    "linux.gidMappings: a new user namespace needs uid and gid mappings");
}

static void mapping_field_missing(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"user\"}],"
			  "\"uidMappings\":[{\"containerID\":0,\"size\":1}]"),
		    "linux.uidMappings[0].hostID: missing");
}

static void time_offsets_without_timens(void **state)
{
	parse_fails(LINUX("\"timeOffsets\":{\"monotonic\":{\"secs\":1}}"),
		    "linux.timeOffsets: requires a time namespace");
}

static void time_offsets_bad(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"realtime\":{}}"),
		    "linux.timeOffsets.realtime: unknown clock (want monotonic or boottime)");
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"boottime\":"
			  "{\"nanosecs\":1000000000}}"),
		    "linux.timeOffsets.boottime.nanosecs: 1000000000 out of range (must be between "
		    "0 and 999999999)");
}

static void hostname_without_uts(void **state)
{
	parse_fails(CONFIG(",\"hostname\":\"box\""), "hostname: requires a uts namespace");
}

static void domainname_without_uts(void **state)
{
	parse_fails(CONFIG(",\"domainname\":\"d\""), "domainname: requires a uts namespace");
}

static void sysctl_net_without_netns(void **state)
{
	parse_fails(LINUX("\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}"),
		    "linux.sysctl: \"net.ipv4.ip_forward\" requires a network namespace");
}

static void sysctl_ipc_without_ipcns(void **state)
{
	parse_fails(LINUX("\"sysctl\":{\"kernel.shmmax\":\"1\"}"),
		    "linux.sysctl: \"kernel.shmmax\" requires an ipc namespace");
	parse_fails(LINUX("\"sysctl\":{\"fs.mqueue.queues_max\":\"1\"}"),
		    "linux.sysctl: \"fs.mqueue.queues_max\" requires an ipc namespace");
}

static void sysctl_domainname_without_uts(void **state)
{
	parse_fails(LINUX("\"sysctl\":{\"kernel.domainname\":\"x\"}"),
		    "linux.sysctl: \"kernel.domainname\" requires a uts namespace");
}

static void sysctl_hostname(void **state)
{
	parse_fails(
	    LINUX("\"namespaces\":[{\"type\":\"uts\"}],\"sysctl\":{\"kernel.hostname\":\"x\"}"),
	    "linux.sysctl: \"kernel.hostname\" conflicts with the hostname field; set "
	    "hostname instead");
}

static void sysctl_host_wide(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\"}],\"sysctl\":{\"vm.swappiness\":"
			  "\"1\"}"),
		    "linux.sysctl: \"vm.swappiness\" is not isolated by any namespace; refusing to "
		    "change it for the host");
}

static void sysctl_value_type(void **state)
{
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\"}],\"sysctl\":{\"net.x\":1}"),
		    "linux.sysctl.net.x: must be a string");
}

static void device_errors(void **state)
{
	parse_fails(LINUX("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]"),
		    "linux.devices[0].type: unknown device type \"x\" (want c, b, u or p)");
	parse_fails(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1}]"),
		    "linux.devices[0].minor: missing");
	parse_fails(
	    LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"dev/x\",\"major\":1,\"minor\":1}]"),
	    "linux.devices[0].path: must be absolute");
	parse_fails(
	    LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1,"
		  "\"fileMode\":-1}]"),
	    "linux.devices[0].fileMode: -1 out of range (must be between 0 and 4294967295)");
	parse_fails(
	    LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1,"
		  "\"uid\":4294967295}]"),
	    "linux.devices[0].uid: 4294967295 is out of range (0..2147483647)");
	parse_fails(
	    LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1,"
		  "\"gid\":-1}]"),
	    "linux.devices[0].gid: -1 is out of range (0..2147483647)");
}

static void propagation_unknown(void **state)
{
	parse_fails(LINUX("\"rootfsPropagation\":\"sideways\""),
		    "linux.rootfsPropagation: unknown propagation \"sideways\"");
}

static void personality_unknown(void **state)
{
	parse_fails(LINUX("\"personality\":{\"domain\":\"BSD\"}"),
		    "linux.personality.domain: unknown personality domain \"BSD\" (want LINUX or "
		    "LINUX32)");
}

static void seccomp_default_action(void **state)
{
	parse_fails(LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_FOO\"}"),
		    "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"");
	parse_fails(LINUX("\"seccomp\":{}"), "linux.seccomp.defaultAction: missing");
	parse_fails(LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}"),
		    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
}

static void seccomp_rule_action(void **state)
{
	parse_fails(SECCOMP(",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"ALLOW\"}]"),
		    "linux.seccomp.syscalls[0].action: unknown seccomp action \"ALLOW\"");
	parse_fails(
	    SECCOMP(",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_NOTIFY\"}]"),
	    "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires "
	    "linux.seccomp.listenerPath");
}

static void seccomp_rule_names(void **state)
{
	parse_fails(SECCOMP(",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]"),
		    "linux.seccomp.syscalls[0].names: must not be empty");
	parse_fails(SECCOMP(",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]"),
		    "linux.seccomp.syscalls[0].names: missing");
}

static void seccomp_operator(void **state)
{
	parse_fails(
	    SECCOMP(",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
		    "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_FOO\"");
}

static void seccomp_arg_index(void **state)
{
	parse_fails(
	    SECCOMP(",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
		    "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].index: 6 out of range (must be between 0 and 5)");
}

static void seccomp_arch(void **state)
{
	parse_fails(
	    SECCOMP(",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]"),
	    "linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_VAX\"");
}

static void seccomp_flag(void **state)
{
	parse_fails(SECCOMP(",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]"),
		    "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\"");
}

static void resources_errors(void **state)
{
	parse_fails(LINUX("\"resources\":{\"memory\":{\"limit\":\"1G\"}}"),
		    "linux.resources.memory.limit: must be an integer");
	parse_fails(LINUX("\"resources\":{\"devices\":[{\"type\":\"c\"}]}"),
		    "linux.resources.devices[0].allow: missing");
	parse_fails(
	    LINUX("\"resources\":{\"blockIO\":{\"weight\":70000}}"),
	    "linux.resources.blockIO.weight: 70000 out of range (must be between 0 and 65535)");
	parse_fails(LINUX("\"resources\":{\"hugepageLimits\":[{\"limit\":1}]}"),
		    "linux.resources.hugepageLimits[0].pageSize: missing");
}

static void memory_policy_errors(void **state)
{
	parse_fails(LINUX("\"memoryPolicy\":{\"nodes\":\"0\"}"),
		    "linux.memoryPolicy.mode: missing");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_FOO\"}"),
		    "linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_FOO\"");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":"
			  "[\"MPOL_F_X\"]}"),
		    "linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\"");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":"
			  "[\"MPOL_F_STATIC_NODES\",\"MPOL_F_RELATIVE_NODES\"]}"),
		    "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES "
		    "exclude each other");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\"}"),
		    "linux.memoryPolicy.nodes: required by MPOL_BIND");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_DEFAULT\",\"nodes\":\"1\"}"),
		    "linux.memoryPolicy.nodes: must be empty with MPOL_DEFAULT");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"x\"}"),
		    "linux.memoryPolicy.nodes: invalid node list \"x\"");
	/* nodes past the kernel's largest node mask, descending ranges, a
	 * trailing comma */
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-9876543210\"}"),
		    "linux.memoryPolicy.nodes: invalid node list \"0-9876543210\"");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"1024\"}"),
		    "linux.memoryPolicy.nodes: invalid node list \"1024\"");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"3-1\"}"),
		    "linux.memoryPolicy.nodes: invalid node list \"3-1\"");
	parse_fails(LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0,\"}"),
		    "linux.memoryPolicy.nodes: invalid node list \"0,\"");
}

static void net_device_errors(void **state)
{
	parse_fails(LINUX("\"netDevices\":{\"eth0\":{}}"),
		    "linux.netDevices: requires a network namespace");
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\"}],\"netDevices\":{\"eth0\":"
			  "{\"name\":\"a/b\"}}"),
		    "linux.netDevices.eth0.name: invalid interface name \"a/b\"");
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\"}],\"netDevices\":{\"..\":{}}"),
		    "linux.netDevices: invalid interface name \"..\"");
	parse_fails(LINUX("\"namespaces\":[{\"type\":\"network\"}],\"netDevices\":{\"eth0\":"
			  "{\"name\":\"abcdefghijklmnop\"}}"),
		    "linux.netDevices.eth0.name: invalid interface name \"abcdefghijklmnop\"");
}

static void nul_in_string(void **state)
{
	struct husk_err err = {0};
	const char json[] = CONFIG(",\"hostname\":\"a\\u0000b\"");
	assert_null(husk_spec_parse(json, sizeof(json) - 1, &err));
	assert_non_null(strstr(err.msg, "config.json: line 1"));
}

RUN(cmocka_unit_test(version_missing), cmocka_unit_test(version_wrong_type),
    cmocka_unit_test(version_unsupported), cmocka_unit_test(root_missing),
    cmocka_unit_test(root_path_missing), cmocka_unit_test(root_readonly_type),
    cmocka_unit_test(process_not_object), cmocka_unit_test(args_empty),
    cmocka_unit_test(args_absent), cmocka_unit_test(args_wrong_item), cmocka_unit_test(cwd_missing),
    cmocka_unit_test(cwd_relative), cmocka_unit_test(terminal_type), cmocka_unit_test(env_type),
    cmocka_unit_test(env_entry_format), cmocka_unit_test(unknown_capability),
    cmocka_unit_test(capability_without_prefix), cmocka_unit_test(capability_lowercase),
    cmocka_unit_test(unknown_rlimit), cmocka_unit_test(rlimit_soft_above_hard),
    cmocka_unit_test(rlimit_duplicate), cmocka_unit_test(rlimit_missing_hard),
    cmocka_unit_test(rlimit_negative), cmocka_unit_test(umask_range), cmocka_unit_test(uid_range),
    cmocka_unit_test(additional_gid_type), cmocka_unit_test(oom_score_adj_range),
    cmocka_unit_test(scheduler_errors), cmocka_unit_test(io_priority_errors),
    cmocka_unit_test(cpu_affinity_error), cmocka_unit_test(mount_destination_relative),
    cmocka_unit_test(mount_destination_missing), cmocka_unit_test(mount_options_type),
    cmocka_unit_test(mount_half_idmapped), cmocka_unit_test(hook_errors),
    cmocka_unit_test(unknown_namespace), cmocka_unit_test(duplicate_namespace),
    cmocka_unit_test(namespace_relative_path), cmocka_unit_test(mappings_without_userns),
    cmocka_unit_test(userns_path_with_mappings), cmocka_unit_test(userns_without_mappings),
    cmocka_unit_test(mapping_field_missing), cmocka_unit_test(time_offsets_without_timens),
    cmocka_unit_test(time_offsets_bad), cmocka_unit_test(hostname_without_uts),
    cmocka_unit_test(domainname_without_uts), cmocka_unit_test(sysctl_net_without_netns),
    cmocka_unit_test(sysctl_ipc_without_ipcns), cmocka_unit_test(sysctl_domainname_without_uts),
    cmocka_unit_test(sysctl_hostname), cmocka_unit_test(sysctl_host_wide),
    cmocka_unit_test(sysctl_value_type), cmocka_unit_test(device_errors),
    cmocka_unit_test(propagation_unknown), cmocka_unit_test(personality_unknown),
    cmocka_unit_test(seccomp_default_action), cmocka_unit_test(seccomp_rule_action),
    cmocka_unit_test(seccomp_rule_names), cmocka_unit_test(seccomp_operator),
    cmocka_unit_test(seccomp_arg_index), cmocka_unit_test(seccomp_arch),
    cmocka_unit_test(seccomp_flag), cmocka_unit_test(resources_errors),
    cmocka_unit_test(nul_in_string), cmocka_unit_test(memory_policy_errors),
    cmocka_unit_test(net_device_errors))
