/* The create/start barrier. The fifo lives in the state directory, outside
 * the container's root, so the child holds an O_PATH descriptor from before
 * pivot and reopens it for writing through procfs; the open blocks until
 * `start` opens the read side. The byte comes before the startContainer
 * hooks, and the write end stays open (close-on-exec) until execve: `start`
 * may read on to EOF to know those hooks ran and the user's program runs (or
 * the process died) before it runs the poststart hooks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "linux/internal.h"

int husk_execfifo_open(int proc_fd, int fifo_fd, struct husk_err *err)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "self/fd/%d", fifo_fd);
	do
		fd = openat(proc_fd, path, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return husk_err_sys(err, "open exec fifo");
	return fd;
}

int husk_execfifo_release(int fd, struct husk_err *err)
{
	if (write(fd, "0", 1) != 1)
		return husk_err_sys(err, "write exec fifo");
	return 0;
}
