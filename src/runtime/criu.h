/* Checkpoint and restore through the criu command line (CRIU 3.17's CLI, not
 * its RPC: no protobuf, and nothing is loaded unless a checkpoint or a
 * restore runs). criu_argv.c turns what husk knows of a container into
 * criu's argv (pure logic, unit-tested); criu_run.c runs it and explains a
 * failure; checkpoint.c and restore.c are the commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "husk/husk.h"
#include "spec/spec.h"
#include "util/argv.h"
#include "util/err.h"

/* Files husk keeps in the image directory beside criu's own. */
#define HUSK_CRIU_DESCRIPTORS "descriptors.json" /* fds 0..2 at dump, as runc writes it */
#define HUSK_CRIU_MOUNTS      "husk-mounts.json" /* mount points dumped as external */
/* Per fd 0..2: criu's key for a file the init had open from outside its
 * mount namespace ("file[MNT_ID:INODE]", hex), or null. */
#define HUSK_CRIU_FILES "husk-files.json"

/* The key criu knows a network namespace joined by path under. */
#define HUSK_CRIU_NETNS_KEY "extRootNetNS"

enum husk_criu_action { HUSK_CRIU_DUMP, HUSK_CRIU_PRE_DUMP, HUSK_CRIU_RESTORE };

/* A mount criu is told is external: at dump KEY (its mount point in the
 * container) names itself; at restore `source` is bound there. */
struct husk_criu_mount {
	const char *dest;
	const char *source;
};

/* One of husk's fds criu is to use for what the image calls `key`. */
struct husk_criu_inherit {
	int fd;
	const char *key;
};

struct husk_criu_job {
	enum husk_criu_action action;
	const char *criu; /* the program */
	const struct husk_criu_opts *o;
	const char *image_dir, *work_dir; /* resolved (defaults applied) */
	const char *root;	 /* the container's rootfs (restore: a private bind of it) */
	pid_t pid;		 /* dump: the container's init */
	const char *pidfile;	 /* restore: where criu writes the init's pid */
	const char *cgroup_root; /* restore: the container's cgroup, or NULL */
	const struct husk_criu_mount *mounts;
	size_t n_mounts;
	unsigned long netns_inode; /* dump: a network namespace joined by path; 0: none */
	/* dump: keys of files the init has open from outside the container
	 * (its stdio from the host's /dev/null): --external file[...] */
	const char *const *files;
	size_t n_files;
	const struct husk_criu_inherit *inherit;
	size_t n_inherit;
	/* criu locks the container's network while it works with iptables by
	 * default; without iptables on the host, with nftables (libnftables,
	 * which Debian's criu links) instead. */
	bool network_lock_nft;
};

/* criu's log file, in the work directory, for an action. */
const char *husk_criu_log_name(enum husk_criu_action a);

/* --manage-cgroups-mode as criu spells it, checked: NULL means runc's
 * default, soft. -1 with err naming the option for anything else. */
int husk_criu_cgroups_mode(const char *mode, const char **out, struct husk_err *err);

/* criu's argv (NULL-terminated, malloc'd; free with husk_argv_free). */
char **husk_criu_argv(const struct husk_criu_job *job, struct husk_err *err);

/* The config's mounts criu must be told are external: bind mounts whose
 * source lies outside the rootfs (dest -> source). Borrows spec's strings;
 * the caller frees the array. */
int husk_criu_bind_mounts(const struct husk_spec *spec, const char *rootfs,
			  struct husk_criu_mount **out, size_t *n, struct husk_err *err);

/* Why criu cannot checkpoint this container, or NULL when it can. */
const char *husk_criu_unsupported(const struct husk_spec *spec);

/* The criu program: `path` when given (--criu), else criu on PATH, else
 * /usr/sbin/criu. -1 with a message saying to install criu. */
int husk_criu_find(const char *path, char *out, size_t size, struct husk_err *err);

/* Run criu with argv, its stdout and stderr going to `out_path`; `to_cgroup`
 * (restore): a cgroup criu is put in before it runs. The inherited fds of
 * job stay open in criu. 0 when criu exited 0; else -1 with err saying why
 * (criu's own Error lines, and on a kernel where criu cannot work at all,
 * what `criu check` says). */
struct husk_cgroup;
int husk_criu_run(const struct husk_criu_job *job, char **argv, struct husk_cgroup *to_cgroup,
		  struct husk_err *err);

/* Whether criu's default network lock would fail: no iptables-restore or
 * ip6tables-restore on PATH (nor in /usr/sbin, /sbin). */
bool husk_criu_lacks_iptables(void);

/* criu's key for a file on mount mnt_id with inode ino (as criu spells it). */
void husk_criu_file_key(char *out, size_t size, int mnt_id, unsigned long long ino);

/* The image and work directories of o with runc's defaults ("checkpoint";
 * the work directory is the image directory). */
const char *husk_criu_image_dir(const struct husk_criu_opts *o);
const char *husk_criu_work_dir(const struct husk_criu_opts *o);
