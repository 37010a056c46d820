/* The state store: one directory per container under the runtime root
 * (--root). Each holds state.json (written whole and renamed into place, so
 * readers never see half a file), config.json (the bundle's config as it was
 * at create, for exec and the poststop hooks of delete), exec.fifo (present
 * between create and start), cgroup (where create is about to make the
 * container's cgroups, written before it makes any, so that delete --force
 * finds them from the id alone even when create died before state.json
 * was saved or state.json is unreadable) and a lock file.
 *
 * Commands that change a container take the lock; readers (state, list) do
 * not need it because every file is replaced atomically. The lock is a POSIX
 * record lock: unlike flock() it belongs to the process, so the container
 * process that create forks does not inherit it while it waits on the fifo. */
#pragma once
#include <time.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/runtime.h"
#include "util/err.h"

#define HUSK_STATE_FILE	 "state.json"
#define HUSK_CONFIG_FILE "config.json"
#define HUSK_FIFO_FILE	 "exec.fifo"
#define HUSK_LOCK_FILE	 "lock"
#define HUSK_CGROUP_FILE "cgroup"

/* Create <root> (0700, parents as needed) and <root>/<id> (0711); EEXIST on
 * the container's directory becomes `container "<id>" already exists`.
 * Returns an O_DIRECTORY fd. */
int husk_state_dir_create(const char *root, const char *id, struct husk_err *err);

/* Open an existing container's directory; ENOENT becomes "container does not exist". */
int husk_state_dir_open(const char *root, const char *id, struct husk_err *err);

/* Take the container's lock (waits). Returns the lock fd; closing it releases. */
int husk_state_lock(int dir_fd, struct husk_err *err);

/* Whether a live process holds the container's lock (a create or delete
 * under way). Never call it while this process holds the lock: closing any
 * fd of the lock file drops a POSIX lock. */
bool husk_state_lock_held(int dir_fd);

/* Write `data` to dir/name atomically (temporary file + rename). */
int husk_state_write_file(int dir_fd, const char *name, const char *data, size_t len, mode_t mode,
			  struct husk_err *err);

/* The most state.json may hold (husk_read_file's limit): far more than a
 * record with every annotation a config can carry. */
#define HUSK_STATE_MAX (64u << 20)

/* The state model (model.c, decode.c): one table of fields drives the
 * record the store keeps and the OCI state husk shows, in three forms. */
enum husk_state_form {
	/* state.json in the store: everything but the status, which is
	 * derived when loaded; except that a record saved while its status is
	 * HUSK_STATUS_CREATING loads as creating (create saves one as soon as
	 * the cgroup exists, before the process), which the loader
	 * (container.c) believes only while a create still holds the lock. */
	HUSK_STATE_RECORD,
	/* What `state` and `list` print, as runc does: the spec's fields
	 * (ociVersion, id, status, pid, bundle, annotations) and rootfs,
	 * created, owner. pid is 0 once stopped. */
	HUSK_STATE_OCI,
	/* Exactly the spec's state: what hooks read on stdin, and the state
	 * in the seccomp listener's container process state. */
	HUSK_STATE_SPEC,
};

/* c in the given form, compact or indented by two as `state` prints it
 * (malloc'd). NULL with errno ENOMEM, or EILSEQ when a string is not UTF-8. */
char *husk_state_encode(const struct husk_container *c, enum husk_state_form form, bool pretty);

/* Fill c's fields of `form` from the JSON text (NUL terminated). On error
 * (EINVAL: the message names the member and the byte; ENOMEM) c is left
 * as it was. The id is the store directory's: a record does not set it, and
 * no form replaces an id c already has. */
int husk_state_decode(const char *text, enum husk_state_form form, struct husk_container *c,
		      struct husk_err *err);

/* The container process state a seccomp listener receives (compact): the
 * spec's state of c, with the fd names, the process's pid and metadata. */
char *husk_state_listener_json(const struct husk_container *c, pid_t pid, const char *metadata);

/* Save / load the container record (HUSK_STATE_RECORD) as state.json. */
int husk_state_save(int dir_fd, const struct husk_container *c, struct husk_err *err);
int husk_state_load(int dir_fd, struct husk_container *c, struct husk_err *err);

/* Remove the container's directory and everything in it; state.json goes
 * last but the lock, so a delete killed half way leaves a record that loads
 * (as stopped) rather than a directory that looks like a create under way. */
int husk_state_remove(const char *root, const char *id, struct husk_err *err);

/* Sorted ids of every container directory under root (none if root is missing). */
int husk_state_list(const char *root, char ***ids, size_t *n, struct husk_err *err);

/* What /proc/<pid>/stat says about a process: its start time (field 22) and
 * whether it is gone or a zombie. Returns 0 and *alive=false when absent. */
int husk_proc_stat(pid_t pid, uint64_t *start_time, bool *alive, struct husk_err *err);

/* Current time as RFC 3339 with nanoseconds, UTC ("2026-01-02T03:04:05.123456789Z"). */
void husk_rfc3339_now(char *buf, size_t size);
/* The same for a given time (tests). */
void husk_rfc3339(const struct timespec *ts, char *buf, size_t size);
