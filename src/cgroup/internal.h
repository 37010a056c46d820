/* Shared between the files of src/cgroup/: the host layout (which hierarchy
 * holds which controller, where it is mounted), the container's cgroup across
 * those hierarchies, and small helpers for reading and writing cgroup files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

/* One mounted hierarchy of the host, as the caller sees it. */
struct cg_mount {
	char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" = unified */
	char *dir;	   /* mount point, e.g. /sys/fs/cgroup/memory */
	char *own;	   /* the caller's cgroup there, from /proc/self/cgroup */
	bool unified;
	bool checked; /* dir verified (statfs / mountinfo) by cg_mount_check() */
	bool missing; /* checked: not mounted anywhere */
};

struct cg_layout {
	enum husk_cgroup_mode mode;
	struct cg_mount *m;
	size_t n;
	char *unified_controllers; /* use cg_unified_controllers() */
};

/* The container's directory in one hierarchy. */
struct cg_hier {
	const struct cg_mount *mount;
	char *path;	  /* relative to the mount, starts with '/' */
	char *dir;	  /* mount->dir + path */
	unsigned parents; /* parent directories we created above the leaf */
	bool created;	  /* the leaf itself was created by us */
};

struct husk_cgroup {
	const struct cg_layout *layout;
	struct cg_hier *h;
	size_t n;
	char *saved; /* what husk_cgroup_path() returns */
	int v2_fd;   /* unified dir fd on pure v2 hosts, else -1 */
	/* The systemd driver: the container's scope and whose manager runs
	 * it (the user's, rootless); NULL for husk's own cgroups. */
	char *unit;
	char *slice; /* create only */
	bool user_manager;
	/* The unit is the container's: started by this create, or recorded
	 * by one. A create that failed to start it must not stop another's. */
	bool unit_ours;
	bool runtime_inside; /* husk's own pid is in the scope (create) */
};

/* ---- layout (layout.c) ---- */
const struct cg_layout *cg_layout_get(struct husk_err *err);
/* Tests: use `root` instead of /sys/fs/cgroup with a forced mode and a fake
 * /proc/self/cgroup; NULL root restores the real host. Drops the cache. */
void husk_cgroup_test_setup(const char *root, enum husk_cgroup_mode mode,
			    const char *self_cgroup_file);
bool cg_list_has(const char *list, char sep, const char *word);
/* v1 mount points start as the standard /sys/fs/cgroup/<name>, unverified:
 * commands that only reopen a cgroup trust them (create recorded any other
 * place in the saved path). create verifies each: statfs, else the mount
 * table. Returns true when the hierarchy is not mounted at all. */
bool cg_mount_check(struct cg_mount *m);
bool cg_mount_is_standard(const struct cg_mount *m);
/* Root cgroup.controllers of the unified mount ("" when none). */
const char *cg_unified_controllers(const struct cg_layout *l);

/* ---- paths (path.c) ---- */
/* Normalise linux.cgroupsPath: NULL/"" -> relative `id`; rejects "..", the
 * systemd "slice:prefix:name" form and empty components. *absolute says
 * whether it is rooted. Result has no trailing '/' and no "//". */
int cg_path_normalize(const char *cgroups_path, const char *id, char **out, bool *absolute,
		      struct husk_err *err);
/* a followed by b, in a new string (NULL when out of memory). */
char *cg_concat(const char *a, const char *b);
/* Where a relative path lands in a hierarchy: v1 joins the caller's own
 * cgroup; cgroup2 joins its parent (the caller's own cgroup holds processes,
 * so it cannot delegate controllers to a child). */
char *cg_path_resolve(const char *norm, bool absolute, const char *own, bool unified);
/* Saved-path encoding shared by create (encode) and open (decode). */
char *cg_saved_encode(const struct husk_cgroup *cg);
int cg_saved_decode(struct husk_cgroup *cg, const char *saved, struct husk_err *err);

/* Length of the mount point prefix of h->dir. */
static inline size_t cg_base_len(const struct cg_hier *h)
{
	return strlen(h->dir) - strlen(h->path);
}

/* ---- the cgroup object (cgroup.c) ---- */
struct cg_hier *cg_find(const struct husk_cgroup *cg, const char *controller);
struct cg_hier *cg_unified(const struct husk_cgroup *cg);
/* The hierarchy whose directory tree lists the container's processes (procs.c). */
struct cg_hier *cg_procs_hier(const struct husk_cgroup *cg);
int cg_write(const struct cg_hier *h, const char *file, const char *val, struct husk_err *err);
/* Reads up to size-1 bytes, NUL-terminates, strips one trailing newline. */
int cg_read(const struct cg_hier *h, const char *file, char *buf, size_t size,
	    struct husk_err *err);
int cg_read_u64(const struct cg_hier *h, const char *file, uint64_t *v, struct husk_err *err);
bool cg_has_file(const struct cg_hier *h, const char *file);
/* Value of "key N" in a flat-keyed file such as memory.events or cpu.stat. */
int cg_read_keyed(const struct cg_hier *h, const char *file, const char *key, uint64_t *v,
		  struct husk_err *err);
int cg_freeze_v1(struct cg_hier *h, bool frozen, struct husk_err *err);
int cg_freeze_v2(struct cg_hier *h, bool frozen, struct husk_err *err);

/* ---- resources (resources.c, res_memcpu.c, res_io.c) ---- */
/* Write `val` for the spec field `field` (used in messages). A missing file
 * is reported as "<field>: <file> not available". */
int cg_set(const struct cg_hier *h, const char *field, const char *file, const char *val,
	   struct husk_err *err);
struct cg_hier *cg_need(const struct husk_cgroup *cg, const char *controller, const char *field,
			struct husk_err *err);
int cg_apply(struct husk_cgroup *cg, const struct husk_resources *res, bool with_devices,
	     struct husk_err *err);
/* Each picks its controller's hierarchy and writes v1 or v2 files to match. */
int cg_apply_memory(struct husk_cgroup *cg, const struct husk_memory *m, struct husk_err *err);
int cg_apply_cpu(struct husk_cgroup *cg, const struct husk_cpu *c, struct husk_err *err);
int cg_apply_blkio(struct husk_cgroup *cg, const struct husk_blkio *b, struct husk_err *err);
/* Creation-time setup of a fresh v1 cpuset dir / cgroup2 controllers. */
int cg_cpuset_inherit(const struct cg_hier *h, struct husk_err *err);
int cg_v2_enable_controllers(const struct cg_hier *h, const char *available, struct husk_err *err);

/* ---- devices (devices.c) ---- */
/* Rules a container always gets after its own (runc's defaults). */
extern const struct husk_device_rule cg_default_device_rules[];
extern const size_t cg_n_default_device_rules;
int cg_devices_v1(const struct cg_hier *h, const struct husk_device_rule *rules, size_t n,
		  struct husk_err *err);
int cg_devices_v2(const struct cg_hier *h, const struct husk_device_rule *rules, size_t n,
		  struct husk_err *err);

/* ---- conversions (convert.c), pure ---- */
uint64_t cg_shares_to_weight(uint64_t shares);
uint16_t cg_blkio_to_io_weight(uint16_t weight);
/* memory.swap.max from OCI memory.swap (memory+swap) and memory.limit.
 * Sets *out to -1 for "max"; *skip when nothing is to be written. */
int cg_swap_to_v2(const struct husk_opt_i64 *swap, const struct husk_opt_i64 *limit, int64_t *out,
		  bool *skip, struct husk_err *err);
/* Formats a limit where negative means unlimited: "max" (v2) or "-1" (v1). */
void cg_fmt_limit(char *buf, size_t size, int64_t v, bool v2);
/* "quota period" for cpu.max; quota <= 0 or unset means "max". */
void cg_fmt_cpu_max(char *buf, size_t size, const struct husk_opt_i64 *quota, uint64_t period);

/* ---- the systemd driver (systemd.c) ---- */
/* "slice:prefix:name" (empty: ":husk:<id>") into the slice (default
 * system.slice, or user.slice rootless) and "prefix-name.scope". */
int cg_systemd_parse(const char *cgroups_path, const char *id, bool rootless, char **slice,
		     char **unit, struct husk_err *err);
/* A slice's cgroup path below its manager's root; -1 for an invalid name. */
int cg_systemd_slice_path(const char *slice, char **out);
int cg_systemd_cpuset_mask(const char *list, uint8_t **bytes, size_t *n, struct husk_err *err);
uint64_t cg_systemd_quota_per_sec(int64_t quota, uint64_t period);
struct dbus_buf;
/* linux.resources as systemd unit properties, (sv) entries into b. */
int cg_systemd_resource_props(struct dbus_buf *b, const struct husk_resources *r,
			      struct husk_err *err);
/* Fails with the reason when the manager is not there. */
int cg_systemd_check(bool user, struct husk_err *err);
/* StartTransientUnit's arguments: the scope with pid in it. */
int cg_systemd_start_body(struct dbus_buf *b, const char *unit, const char *slice, pid_t pid,
			  const struct husk_resources *res, struct husk_err *err);
/* StartTransientUnit with husk's own pid and wait for its job. */
int cg_systemd_start(const char *unit, const char *slice, bool user,
		     const struct husk_resources *res, struct husk_err *err);
int cg_systemd_set(const char *unit, bool user, const struct husk_resources *res,
		   struct husk_err *err);
/* StopUnit and wait for it; a unit already gone is not an error. The
 * scope's directory `dir` (NULL: unknown) gone counts as stopped: a scope
 * that empties stops by itself, and then its stop job's JobRemoved was seen
 * not to come on the test host. */
int cg_systemd_stop(const char *unit, bool user, const char *dir, struct husk_err *err);
