/* Small fd helpers shared by libhusk and the command line. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Write all LEN bytes of BUF to FD, going on after short writes and
 * signals: 0, or -1 with errno (EIO when the fd takes nothing). */
int husk_write_all(int fd, const void *buf, size_t len);

/* The one way libhusk reads a whole file: `path` relative to dir_fd
 * (AT_FDCWD, or an absolute path, for the usual meaning), any kind of file
 * that read() reads to its end (a pipe, /dev/stdin). At most `max` bytes
 * (0: no limit): a longer file is refused with EFBIG rather than cut. The
 * text is NUL terminated (the NUL not counted in *len; len may be NULL);
 * the caller frees it. Every error names `path`, once: "open PATH: ...",
 * "read PATH: ...". */
char *husk_read_file(int dir_fd, const char *path, size_t max, size_t *len, struct husk_err *err);

/* The same from an fd the caller opened (stdin); `name` is for the errors. */
char *husk_read_fd(int fd, const char *name, size_t max, size_t *len, struct husk_err *err);

/* mkdir -p: every missing directory of `path`, the parents with
 * `parents_mode`, the last one with `mode` (both before the umask); those
 * already there are left as they are. An error names the directory. */
int husk_mkdir_parents(const char *path, mode_t parents_mode, mode_t mode, struct husk_err *err);
