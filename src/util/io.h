/* Small fd helpers shared by libhusk and the command line. */
#pragma once
#include <stddef.h>

/* Write all LEN bytes of BUF to FD, going on after short writes and
 * signals: 0, or -1 with errno (EIO when the fd takes nothing). */
int husk_write_all(int fd, const void *buf, size_t len);
