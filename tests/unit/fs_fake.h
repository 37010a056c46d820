/* A recording fake of the rootfs code's kernel calls (src/linux/fs/sys.h).
 *
 * It keeps a small model of a file tree (absolute paths with a mode, a
 * device number or a link target) and hands out fake fds (numbers from 1000
 * up, which no real fd has) that name a place in it. Each call is logged as
 * one line of text, `name(arg, ...)`, with fds shown as `[path]`, flags by
 * name, and a failure as ` = -EPERM`; fake_fail() makes the first call
 * whose line starts with a prefix fail with an errno. Mounts change nothing
 * in the model: what a test checks is the sequence of calls. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "linux/fs/sys.h"

extern const struct husk_fs_sys fake_sys;

/* Empty the model and the log, forget fds and scripted failures. */
void fake_reset(void);
/* Model entries: parents are not made implicitly. */
void fake_dir(const char *path, mode_t mode);
void fake_file(const char *path);
void fake_chr(const char *path, unsigned int major, unsigned int minor);
void fake_link(const char *path, const char *target);
bool fake_exists(const char *path);
/* An fd on a path of the model (the test's root fd, for instance). */
int fake_open_fd(const char *path);
/* The first call whose log line starts with `prefix` fails with `err`. */
void fake_fail(const char *prefix, int err);
/* The log, one call a line; only calls named in `names` (comma-separated,
 * e.g. "mount,move_mount"), or all when NULL. Valid until the next call. */
const char *fake_log(const char *names);
