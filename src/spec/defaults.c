/* `husk spec`: the default config.json. Its shape follows `runc spec` so
 * tools that edit it find what they expect, with two hardening additions:
 * noNewPrivileges and a deny-list seccomp profile (docs/seccomp-profile.md
 * gives the reason for every rule). */
#include <stdint.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "spec/spec.h"
#include "util/cleanup.h"

#define EPERM_RET  1
#define ENOSYS_RET 38
#define NEWUSER	   0x10000000ULL /* CLONE_NEWUSER */

/* Syscalls a container has no business making; they fail with EPERM. */
static const char *const denied_syscalls[] = {
    /* kernel keyring: not namespaced */
    "add_key",
    "keyctl",
    "request_key",
    /* kernel modules and replacing the kernel */
    "create_module",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    /* tracing, profiling and other processes' memory */
    "bpf",
    "perf_event_open",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "lookup_dcookie",
    "userfaultfd",
    /* file handles bypass the mount namespace (the "shocker" escape) */
    "open_by_handle_at",
    /* the mount table is set up by the runtime, not by the container */
    "mount",
    "umount2",
    "mount_setattr",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "pivot_root",
    /* host-wide state: clock, swap, power, accounting, quotas, kernel log */
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "vhangup",
    /* obsolete interfaces with a history of bugs */
    "uselib",
    "nfsservctl",
    "_sysctl",
    "sysfs",
    "ustat",
    "get_kernel_syms",
    "query_module",
    /* raw I/O port access */
    "iopl",
    "ioperm",
};

static json_t *errno_rule(json_t *names, int ret)
{
	return json_pack("{s:o, s:s, s:i}", "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet",
			 ret);
}

/* clone(2) takes its flags first, except on s390 where the stack comes first. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* One rule per call: (arg[index] & mask) == mask fails with EPERM. */
static json_t *masked_rule_at(const char *name, int index, unsigned long long mask)
{
	return json_pack("{s:[s], s:s, s:i, s:[{s:i, s:I, s:I, s:s}]}", "names", name, "action",
			 "SCMP_ACT_ERRNO", "errnoRet", EPERM_RET, "args", "index", index, "value",
			 (json_int_t)mask, "valueTwo", (json_int_t)mask, "op",
			 "SCMP_CMP_MASKED_EQ");
}

static json_t *masked_rule(const char *name, unsigned long long mask)
{
	return masked_rule_at(name, 0, mask);
}

static json_t *seccomp_archs(void)
{
#if defined(__x86_64__)
	return json_pack("[sss]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__)
	return json_pack("[ss]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#elif defined(__i386__)
	return json_pack("[s]", "SCMP_ARCH_X86");
#elif defined(__s390x__)
	return json_pack("[ss]", "SCMP_ARCH_S390X", "SCMP_ARCH_S390");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return json_pack("[s]", "SCMP_ARCH_PPC64LE");
#elif defined(__riscv) && __riscv_xlen == 64
	return json_pack("[s]", "SCMP_ARCH_RISCV64");
#else
	return json_array();
#endif
}

static json_t *default_seccomp(void)
{
	json_t *names = json_array(), *rules;

	for (size_t i = 0; names && i < HUSK_ARRAY_SIZE(denied_syscalls); i++)
		json_array_append_new(names, json_string(denied_syscalls[i]));
	rules = json_pack(
	    "[o, o, o, o, o, o]", errno_rule(names, EPERM_RET),
	    /* clone3 passes its flags in memory seccomp cannot read: ENOSYS makes
	     * libcs fall back to clone, whose flags the next rules can check. */
	    errno_rule(json_pack("[s]", "clone3"), ENOSYS_RET),
	    /* new user namespaces expose a large kernel attack surface. */
	    masked_rule("unshare", NEWUSER), masked_rule_at("clone", CLONE_FLAGS_ARG, NEWUSER),
	    /* personality: no ADDR_NO_RANDOMIZE (turns off ASLR), no READ_IMPLIES_EXEC. */
	    masked_rule("personality", 0x0040000), masked_rule("personality", 0x0400000));
	return json_pack("{s:s, s:o, s:o}", "defaultAction", "SCMP_ACT_ALLOW", "architectures",
			 seccomp_archs(), "syscalls", rules);
}

static json_t *default_caps(void)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
	json_t *set[3];
	for (int s = 0; s < 3; s++) {
		set[s] = json_array();
		for (size_t i = 0; set[s] && i < HUSK_ARRAY_SIZE(caps); i++)
			json_array_append_new(set[s], json_string(caps[i]));
	}
	return json_pack("{s:o, s:o, s:o, s:[], s:[]}", "bounding", set[0], "effective", set[1],
			 "permitted", set[2], "inheritable", "ambient");
}

static json_t *default_process(void)
{
	return json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s, s:o, s:[{s:s, s:i, s:i}], s:b}",
			 "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			 "TERM=xterm", "cwd", "/", "capabilities", default_caps(), "rlimits",
			 "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

static json_t *mount(const char *dest, const char *type, const char *src, json_t *options)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", src,
			 "options", options);
}

static json_t *default_mounts(bool rootless)
{
	json_t *m = json_array();
	if (!m)
		return NULL;
	json_array_append_new(m, mount("/proc", "proc", "proc", json_array()));
	json_array_append_new(
	    m, mount("/dev", "tmpfs", "tmpfs",
		     json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")));
	/* Rootless: gid 5 (tty) is not mapped into the user namespace. */
	json_array_append_new(
	    m, mount("/dev/pts", "devpts", "devpts",
		     rootless ? json_pack("[sssss]", "nosuid", "noexec", "newinstance",
					  "ptmxmode=0666", "mode=0620")
			      : json_pack("[ssssss]", "nosuid", "noexec", "newinstance",
					  "ptmxmode=0666", "mode=0620", "gid=5")));
	json_array_append_new(m, mount("/dev/shm", "tmpfs", "shm",
				       json_pack("[sssss]", "nosuid", "noexec", "nodev",
						 "mode=1777", "size=65536k")));
	json_array_append_new(m, mount("/dev/mqueue", "mqueue", "mqueue",
				       json_pack("[sss]", "nosuid", "noexec", "nodev")));
	if (rootless) {
		/* sysfs cannot be mounted from a user namespace that does not own
		 * the network namespace; bind the host's, read-only. */
		json_array_append_new(
		    m, mount("/sys", "none", "/sys",
			     json_pack("[sssss]", "rbind", "nosuid", "noexec", "nodev", "ro")));
	} else {
		json_array_append_new(
		    m, mount("/sys", "sysfs", "sysfs",
			     json_pack("[ssss]", "nosuid", "noexec", "nodev", "ro")));
		json_array_append_new(
		    m, mount("/sys/fs/cgroup", "cgroup", "cgroup",
			     json_pack("[sssss]", "nosuid", "noexec", "nodev", "relatime", "ro")));
	}
	return m;
}

static json_t *default_namespaces(bool rootless)
{
	/* Rootless containers share the host network: an unprivileged user
	 * cannot give a new network namespace any connectivity. */
	if (rootless)
		return json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid",
				 "type", "ipc", "type", "uts", "type", "mount", "type", "cgroup",
				 "type", "user");
	/* A user namespace even as root: the container's capabilities then only
	 * act on what that namespace owns (its mounts, network, hostname), never
	 * on the host's kernel-wide state, whatever capabilities it is given. */
	return json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type",
			 "network", "type", "ipc", "type", "uts", "type", "mount", "type", "cgroup",
			 "type", "user");
}

static json_t *default_linux(bool rootless)
{
	json_t *lx = json_pack("{s:o, s:[sssssssssss], s:[sssss], s:o}", "namespaces",
			       default_namespaces(rootless), "maskedPaths", "/proc/acpi",
			       "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			       "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
			       "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi",
			       "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
			       "/proc/sysrq-trigger", "seccomp", default_seccomp());

	if (lx && rootless) {
		json_object_set_new(lx, "uidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
					      (json_int_t)geteuid(), "size", 1));
		json_object_set_new(lx, "gidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
					      (json_int_t)getegid(), "size", 1));
	} else if (lx) {
		/* No mappings: husk.userns=auto (the annotations) allocates them. */
		json_object_set_new(
		    lx, "resources",
		    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
	}
	return lx;
}

char *husk_spec_default_json(bool rootless, struct husk_err *err)
{
	json_t *spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion",
				 HUSK_OCI_VERSION, "process", default_process(), "root", "path",
				 "rootfs", "readonly", 1, "hostname", "husk", "mounts",
				 default_mounts(rootless), "linux", default_linux(rootless));
	char *text;

	/* Container root is an unprivileged host range of its own, and the
	 * image (owned by host root) is idmapped to it: see husk-spec(8). */
	if (spec && !rootless)
		json_object_set_new(
		    spec, "annotations",
		    json_pack("{s:s, s:s}", "husk.userns", "auto", "husk.rootfs.idmap", "true"));
	if (!spec) {
		husk_err_set(err, ENOMEM, "build default config.json");
		return NULL;
	}
	text = json_dumps(spec, JSON_INDENT(2));
	json_decref(spec);
	if (!text)
		husk_err_set(err, ENOMEM, "build default config.json");
	return text;
}
