#include "spec/tables.h"

#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "spec/spec.h"
#include "util/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Indexed by capability number; the static assert keeps it in step with the
 * kernel headers we build against. */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

_Static_assert(HUSK_ARRAY_SIZE(cap_names) >= CAP_LAST_CAP + 1,
	       "capability table older than the kernel headers");

int husk_cap_from_name(const char *name)
{
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *husk_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= HUSK_ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int husk_cap_last(void)
{
	return (int)HUSK_ARRAY_SIZE(cap_names) - 1;
}

const struct husk_name_value husk_rlimit_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};
const size_t husk_n_rlimit_names = HUSK_ARRAY_SIZE(husk_rlimit_names);

int husk_rlimit_from_name(const char *name)
{
	return (int)husk_lookup(husk_rlimit_names, husk_n_rlimit_names, name);
}

static const struct {
	const char *name;
	int flag;
} ns_table[HUSK_NS_COUNT] = {
    [HUSK_NS_PID] = {"pid", CLONE_NEWPID},	    [HUSK_NS_NETWORK] = {"network", CLONE_NEWNET},
    [HUSK_NS_MOUNT] = {"mount", CLONE_NEWNS},	    [HUSK_NS_IPC] = {"ipc", CLONE_NEWIPC},
    [HUSK_NS_UTS] = {"uts", CLONE_NEWUTS},	    [HUSK_NS_USER] = {"user", CLONE_NEWUSER},
    [HUSK_NS_CGROUP] = {"cgroup", CLONE_NEWCGROUP}, [HUSK_NS_TIME] = {"time", CLONE_NEWTIME},
};

const char *husk_ns_name(enum husk_ns_type type)
{
	if ((unsigned)type >= HUSK_NS_COUNT)
		return NULL;
	return ns_table[type].name;
}

int husk_ns_clone_flag(enum husk_ns_type type)
{
	if ((unsigned)type >= HUSK_NS_COUNT)
		return 0;
	return ns_table[type].flag;
}

#include <sys/mount.h>

const struct husk_name_value husk_propagation_names[] = {
    {"shared", MS_SHARED},
    {"slave", MS_SLAVE},
    {"private", MS_PRIVATE},
    {"unbindable", MS_UNBINDABLE},
    {"rshared", MS_SHARED | MS_REC},
    {"rslave", MS_SLAVE | MS_REC},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"runbindable", MS_UNBINDABLE | MS_REC},
};
const size_t husk_n_propagation_names = HUSK_ARRAY_SIZE(husk_propagation_names);

const struct husk_name_value husk_seccomp_action_names[] = {
    {"SCMP_ACT_KILL", HUSK_SCMP_KILL},
    {"SCMP_ACT_KILL_THREAD", HUSK_SCMP_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", HUSK_SCMP_KILL_PROCESS},
    {"SCMP_ACT_TRAP", HUSK_SCMP_TRAP},
    {"SCMP_ACT_ERRNO", HUSK_SCMP_ERRNO},
    {"SCMP_ACT_TRACE", HUSK_SCMP_TRACE},
    {"SCMP_ACT_ALLOW", HUSK_SCMP_ALLOW},
    {"SCMP_ACT_LOG", HUSK_SCMP_LOG},
    {"SCMP_ACT_NOTIFY", HUSK_SCMP_NOTIFY},
};
const size_t husk_n_seccomp_action_names = HUSK_ARRAY_SIZE(husk_seccomp_action_names);

const struct husk_name_value husk_seccomp_op_names[] = {
    {"SCMP_CMP_NE", HUSK_SCMP_CMP_NE},
    {"SCMP_CMP_LT", HUSK_SCMP_CMP_LT},
    {"SCMP_CMP_LE", HUSK_SCMP_CMP_LE},
    {"SCMP_CMP_EQ", HUSK_SCMP_CMP_EQ},
    {"SCMP_CMP_GE", HUSK_SCMP_CMP_GE},
    {"SCMP_CMP_GT", HUSK_SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", HUSK_SCMP_CMP_MASKED_EQ},
};
const size_t husk_n_seccomp_op_names = HUSK_ARRAY_SIZE(husk_seccomp_op_names);

/* The architectures the runtime spec names (all known to libseccomp 2.5). */
const char *const husk_seccomp_arch_names[] = {
    "SCMP_ARCH_X86",	 "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",		"SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",	"SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",	 "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",	 "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	"SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",	 "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	"SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",	 "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};
const size_t husk_n_seccomp_arch_names = HUSK_ARRAY_SIZE(husk_seccomp_arch_names);

const char *const husk_seccomp_flag_names[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};
const size_t husk_n_seccomp_flag_names = HUSK_ARRAY_SIZE(husk_seccomp_flag_names);

/* Indexed by enum husk_hook_kind. */
const char *const husk_hook_names[] = {
    [HUSK_HOOK_PRESTART] = "prestart",
    [HUSK_HOOK_CREATE_RUNTIME] = "createRuntime",
    [HUSK_HOOK_CREATE_CONTAINER] = "createContainer",
    [HUSK_HOOK_START_CONTAINER] = "startContainer",
    [HUSK_HOOK_POSTSTART] = "poststart",
    [HUSK_HOOK_POSTSTOP] = "poststop",
};

long husk_lookup(const struct husk_name_value *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].value;
	return -1;
}

const char *husk_lookup_name(const struct husk_name_value *table, size_t n, long value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}
