/* Defence against runtime binary overwrite (CVE-2019-5736): a process that
 * enters a running container must not be backed by husk's on-disk binary,
 * or a hostile process in the container could reopen /proc/PID/exe and
 * write to it. Commands that enter a running container call this first; it
 * re-executes husk from a sealed, read-only memfd copy. Commands that do not
 * enter a container never pay for it. */
#pragma once
#include <stdbool.h>

#include "husk/husk.h" /* husk_selfexe_init: the CLI and embedders call it first */
#include "util/err.h"

/* True when the running image is already a sealed memfd copy. */
bool husk_selfexe_is_sealed(void);

/* Re-exec the current program from a sealed memfd copy with the same argv
 * and environment. Returns only on failure, or 0 at once when already
 * sealed. An error (EPERM) when husk_selfexe_init() was never called: the
 * protection is never skipped silently. Callers go through
 * husk_guard_entry() (runtime/internal.h), which decides when it is needed. */
int husk_selfexe_protect(struct husk_err *err);
