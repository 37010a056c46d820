/* The typed, validated model of an OCI bundle's config.json (runtime spec
 * 1.0 to 1.3, Linux). spec/ turns JSON into this; everything below works on
 * it and never looks at JSON again. Optional values carry a `has_` flag (or
 * are NULL pointers / zero-length arrays) so "absent" and "zero" differ. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/husk.h" /* HUSK_OCI_VERSION; the public process and resources functions */
#include "util/err.h"

/* gnu17 predefines `linux` as 1, which would swallow the field name below. */
#undef linux

struct husk_strv {
	char **v;
	size_t n;
};

struct husk_kv {
	char *key;
	char *value;
};

struct husk_kvv {
	struct husk_kv *v;
	size_t n;
};

/* ---- process ---------------------------------------------------------- */

struct husk_rlimit {
	int resource; /* RLIMIT_* value, from "RLIMIT_NOFILE" etc. */
	uint64_t soft;
	uint64_t hard;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct husk_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct husk_user {
	uid_t uid;
	gid_t gid;
	bool has_umask;
	mode_t umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char *username; /* informational on Linux */
};

struct husk_scheduler {
	int policy; /* SCHED_* */
	int nice;
	int priority;
	uint64_t flags; /* SCHED_FLAG_* bits */
	uint64_t runtime, deadline, period;
};

struct husk_process {
	bool terminal;
	bool has_console_size;
	unsigned int console_height, console_width;
	char *cwd;
	struct husk_strv args;
	struct husk_strv env; /* "KEY=value" strings */
	char *command_line;   /* Windows only; kept for round trips */
	struct husk_user user;
	bool has_caps; /* absent => all sets empty */
	struct husk_caps caps;
	struct husk_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
	bool has_io_priority;
	int io_priority_class; /* IOPRIO_CLASS_* */
	int io_priority;
	struct husk_scheduler *scheduler; /* NULL when absent */
	char *exec_cpu_affinity_initial;  /* cpu list strings, NULL when absent */
	char *exec_cpu_affinity_final;
};

/* ---- mounts ----------------------------------------------------------- */

/* Mount options translated by husk_mount_options_parse(). */
struct husk_mount_opts {
	unsigned long flags;	   /* MS_* to set */
	unsigned long clear_flags; /* MS_* explicitly cleared (e.g. "rw", "suid") */
	unsigned long propagation; /* MS_SHARED|MS_PRIVATE|... possibly | MS_REC */
	uint64_t attr_set;	   /* MOUNT_ATTR_* for recursive variants ("rro", "rnosuid") */
	uint64_t attr_clr;
	bool bind;	      /* "bind" or "rbind" */
	bool recursive;	      /* "rbind" */
	bool idmap;	      /* "idmap" / "ridmap" */
	bool idmap_recursive; /* "ridmap": every submount of an rbind too */
	bool tmpcopyup;	      /* crun's tmpcopyup extension */
	char *data;	      /* comma-joined options the kernel interprets */
};

struct husk_id_map {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct husk_mount {
	char *destination;
	char *type;   /* may be NULL (bind mounts) */
	char *source; /* may be NULL */
	struct husk_strv options;
	struct husk_mount_opts opts;
	struct husk_id_map *uid_mappings; /* idmapped mounts */
	size_t n_uid_mappings;
	struct husk_id_map *gid_mappings;
	size_t n_gid_mappings;
};

/* ---- hooks ------------------------------------------------------------ */

struct husk_hook {
	char *path;
	struct husk_strv args;
	struct husk_strv env;
	bool has_timeout;
	int timeout; /* seconds, > 0 */
};

struct husk_hook_list {
	struct husk_hook *v;
	size_t n;
};

enum husk_hook_kind {
	HUSK_HOOK_PRESTART,
	HUSK_HOOK_CREATE_RUNTIME,
	HUSK_HOOK_CREATE_CONTAINER,
	HUSK_HOOK_START_CONTAINER,
	HUSK_HOOK_POSTSTART,
	HUSK_HOOK_POSTSTOP,
	HUSK_HOOK_KIND_COUNT,
};

/* ---- linux: namespaces, devices --------------------------------------- */

enum husk_ns_type {
	HUSK_NS_PID,
	HUSK_NS_NETWORK,
	HUSK_NS_MOUNT,
	HUSK_NS_IPC,
	HUSK_NS_UTS,
	HUSK_NS_USER,
	HUSK_NS_CGROUP,
	HUSK_NS_TIME,
	HUSK_NS_COUNT,
};

struct husk_namespace {
	bool enabled; /* listed in linux.namespaces */
	char *path;   /* join this one instead of creating; NULL = new */
};

struct husk_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct husk_device {
	char type; /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major, minor;
	bool has_file_mode;
	mode_t file_mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

/* A devices-cgroup rule; major/minor -1 means wildcard. */
struct husk_device_rule {
	bool allow;
	char type; /* 'a', 'c' or 'b' */
	int64_t major;
	int64_t minor;
	char access[4]; /* subset of "rwm", NUL terminated */
};

/* ---- linux: resources (cgroups) --------------------------------------- */

struct husk_opt_i64 {
	bool set;
	int64_t v;
};

struct husk_opt_u64 {
	bool set;
	uint64_t v;
};

struct husk_memory {
	struct husk_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
	struct husk_opt_u64 swappiness;
	bool has_disable_oom_killer, disable_oom_killer;
	bool has_use_hierarchy, use_hierarchy;
	bool check_before_update;
};

struct husk_cpu {
	struct husk_opt_u64 shares, period, realtime_period, burst;
	struct husk_opt_i64 quota, realtime_runtime, idle;
	char *cpus;
	char *mems;
};

struct husk_blkio_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct husk_blkio_throttle {
	int64_t major, minor;
	uint64_t rate;
};

struct husk_throttle_list {
	struct husk_blkio_throttle *v;
	size_t n;
};

struct husk_blkio {
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
	struct husk_blkio_weight_device *weight_devices;
	size_t n_weight_devices;
	struct husk_throttle_list read_bps, write_bps, read_iops, write_iops;
};

struct husk_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct husk_net_priority {
	char *name;
	uint32_t priority;
};

struct husk_rdma_limit {
	char *device;
	bool has_hca_handles, has_hca_objects;
	uint32_t hca_handles, hca_objects;
};

struct husk_resources {
	struct husk_device_rule *devices;
	size_t n_devices;
	bool has_memory;
	struct husk_memory memory;
	bool has_cpu;
	struct husk_cpu cpu;
	struct husk_opt_i64 pids_limit;
	bool has_blkio;
	struct husk_blkio blkio;
	struct husk_hugepage_limit *hugepages;
	size_t n_hugepages;
	bool has_net_class_id;
	uint32_t net_class_id;
	struct husk_net_priority *net_priorities;
	size_t n_net_priorities;
	struct husk_rdma_limit *rdma;
	size_t n_rdma;
	struct husk_kvv unified;
};

/* ---- linux: seccomp --------------------------------------------------- */

enum husk_seccomp_action {
	HUSK_SCMP_KILL, /* SCMP_ACT_KILL == kill thread */
	HUSK_SCMP_KILL_THREAD,
	HUSK_SCMP_KILL_PROCESS,
	HUSK_SCMP_TRAP,
	HUSK_SCMP_ERRNO,
	HUSK_SCMP_TRACE,
	HUSK_SCMP_ALLOW,
	HUSK_SCMP_LOG,
	HUSK_SCMP_NOTIFY,
};

enum husk_seccomp_op {
	HUSK_SCMP_CMP_NE,
	HUSK_SCMP_CMP_LT,
	HUSK_SCMP_CMP_LE,
	HUSK_SCMP_CMP_EQ,
	HUSK_SCMP_CMP_GE,
	HUSK_SCMP_CMP_GT,
	HUSK_SCMP_CMP_MASKED_EQ,
};

struct husk_seccomp_arg {
	unsigned int index;
	uint64_t value;
	uint64_t value_two;
	enum husk_seccomp_op op;
};

struct husk_seccomp_rule {
	struct husk_strv names;
	enum husk_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct husk_seccomp_arg *args;
	size_t n_args;
};

struct husk_seccomp {
	enum husk_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	struct husk_strv architectures; /* "SCMP_ARCH_X86_64", ... */
	struct husk_strv flags;		/* "SECCOMP_FILTER_FLAG_LOG", ... */
	char *listener_path;
	char *listener_metadata;
	struct husk_seccomp_rule *rules;
	size_t n_rules;
};

/* ---- linux ------------------------------------------------------------ */

struct husk_personality {
	unsigned long domain; /* PER_LINUX or PER_LINUX32 */
	struct husk_strv flags;
};

/* linux.memoryPolicy (spec 1.3): the NUMA policy set with set_mempolicy(2). */
#define HUSK_MPOL_MAX_NODES 1024 /* the kernel's MAX_NUMNODES at most */
struct husk_memory_policy {
	int mode;	    /* MPOL_* */
	unsigned int flags; /* MPOL_F_* bits, or'ed into the mode */
	char *nodes;	    /* node list "0-3,7"; NULL when absent */
};

/* linux.netDevices (spec 1.3): a host interface moved into the container. */
struct husk_net_device {
	char *host_name; /* the key: the interface's name on the host */
	char *name;	 /* its name inside the container; NULL keeps host_name */
};

struct husk_linux {
	struct husk_namespace ns[HUSK_NS_COUNT];
	struct husk_id_map *uid_mappings;
	size_t n_uid_mappings;
	struct husk_id_map *gid_mappings;
	size_t n_gid_mappings;
	struct husk_time_offset time_monotonic, time_boottime;
	struct husk_device *devices;
	size_t n_devices;
	char *cgroups_path;		  /* NULL when absent */
	struct husk_resources *resources; /* NULL when absent */
	bool has_rootfs_propagation;
	unsigned long
	    rootfs_propagation;	      /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (|MS_REC) */
	struct husk_seccomp *seccomp; /* NULL when absent */
	struct husk_kvv sysctl;
	struct husk_strv masked_paths;
	struct husk_strv readonly_paths;
	char *mount_label;
	struct husk_personality *personality;	  /* NULL when absent */
	bool has_intel_rdt;			  /* parsed for validation; not supported */
	struct husk_memory_policy *memory_policy; /* NULL when absent */
	struct husk_net_device *net_devices;
	size_t n_net_devices;
};

/* ---- the whole spec --------------------------------------------------- */

struct husk_spec {
	char *oci_version;
	char *root_path; /* as written in config.json (may be relative to the bundle) */
	bool root_readonly;
	struct husk_process *process; /* NULL when absent */
	char *hostname;
	char *domainname;
	struct husk_mount *mounts;
	size_t n_mounts;
	struct husk_hook_list hooks[HUSK_HOOK_KIND_COUNT];
	struct husk_kvv annotations;
	struct husk_linux linux;
};

/* Parse and validate a config.json held in memory. On error, err names the
 * JSON path of the offending field ("process.capabilities.bounding[2]: unknown
 * capability CAP_FOO") or, for malformed JSON, the line and column. */
struct husk_spec *husk_spec_parse(const char *json, size_t len, struct husk_err *err);

/* Read <bundle>/config.json and parse it. */
struct husk_spec *husk_spec_load(const char *bundle, struct husk_err *err);

/* Parse a process.json (the "process" object alone), as `exec --process` takes. */
struct husk_process *husk_process_parse(const char *json, size_t len, struct husk_err *err);
/* husk_process_load (a process.json file, any size): in husk/husk.h. */

void husk_spec_free(struct husk_spec *spec);
/* Free every key and value of a map and empty it. */
void husk_kvv_free(struct husk_kvv *v);
/* husk_process_free; husk_resources_parse (linux.resources alone, as
 * `update --resources` takes), husk_resources_load (from a file),
 * husk_resources_from_update_opts (update's flags) and husk_resources_free:
 * in husk/husk.h. */

/* Translate OCI mount option strings into flags and data. Unknown options are
 * passed on to the kernel as data, as runc does. *out is overwritten (not
 * freed); release out->data with free(). */
int husk_mount_options_parse(const struct husk_strv *options, struct husk_mount_opts *out,
			     struct husk_err *err);

/* Name <-> value tables used by parsing and by `features`. */
/* husk_cap_from_name: in husk/husk.h */
const char *husk_cap_name(int cap); /* NULL if unknown */
int husk_cap_last(void);	    /* highest capability number known */
int husk_rlimit_from_name(const char *name);
const char *husk_ns_name(enum husk_ns_type type); /* "pid", "network", ... */
int husk_ns_clone_flag(enum husk_ns_type type);	  /* CLONE_NEWPID, ... */

/* husk_spec_default_json (`husk spec`'s text) and husk_spec_write_default:
 * in husk/husk.h. */

/* `husk features`: the OCI features document. */
/* `extra`: annotations the caller adds (the runtime's backends); may be NULL. */
char *husk_features_json(const struct husk_kvv *extra, struct husk_err *err);

/* Valid container id (runc's rule): 1 to 255 (NAME_MAX) bytes of [A-Za-z0-9_.+-],
 * and not "." or "..", so it is always one harmless path component. A leading
 * "." is fine (".c1"). */
int husk_id_validate(const char *id, struct husk_err *err);
