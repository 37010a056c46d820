/* start: release a created container by opening its exec fifo. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/log.h"

/* The container's write end is close-on-exec: once it is closed (or the
 * process is gone), the startContainer hooks have run and the user program
 * has been exec'd, which is when poststart hooks may run. */
static void wait_writer_gone(int fifo, int pidfd)
{
	struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	char buf[16];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents)
			return;
		if (p[0].revents) {
			ssize_t n = read(fifo, buf, sizeof(buf));
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				return;
		}
	}
}

/* Opening the read end lets the container's blocked open() for writing
 * complete; it then writes a byte (or just closes) and execs. A blocking
 * open would hang forever on a dead init, so open non-blocking and wait for
 * either the fifo or the init's pidfd. */
static int release_fifo(struct husk_container *c, bool wait_exec, struct husk_err *err)
{
	_cleanup_close_ int pidfd = husk_container_pidfd(c, err);
	_cleanup_close_ int fifo = -1;
	struct pollfd p[2];
	char byte;
	ssize_t n;
	int r;

	if (pidfd < 0)
		return -1;
	fifo = openat(c->dir_fd, HUSK_FIFO_FILE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0)
		return husk_err_sys(err, "open exec fifo");
	p[0] = (struct pollfd){.fd = fifo, .events = POLLIN};
	p[1] = (struct pollfd){.fd = pidfd, .events = POLLIN};
	do
		r = poll(p, 2, -1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return husk_err_sys(err, "wait for container process");
	if (!(p[0].revents & (POLLIN | POLLHUP)))
		return husk_err_set(err, 0, "container process exited before start");
	do
		n = read(fifo, &byte, 1);
	while (n < 0 && errno == EINTR);
	/* No byte: it died between opening the fifo and writing to it. (A
	 * failing startContainer hook comes after the byte, as with runc: start
	 * succeeds, the reason goes to the container's stderr.) */
	if (n != 1)
		return husk_err_set(err, 0, "container process exited before running the program");
	if (unlinkat(c->dir_fd, HUSK_FIFO_FILE, 0) < 0 && errno != ENOENT)
		return husk_err_sys(err, "remove exec fifo");
	if (wait_exec)
		wait_writer_gone(fifo, pidfd);
	return 0;
}

static int check_startable(const struct husk_container *c, struct husk_err *err)
{
	switch (c->status) {
	case HUSK_STATUS_CREATED:
		return 0;
	case HUSK_STATUS_STOPPED:
		return husk_err_set(err, 0, "cannot start a container that has stopped");
	case HUSK_STATUS_CREATING:
		return husk_err_set(err, 0, "cannot start a container that is still being created");
	default:
		return husk_err_set(err, 0, "cannot start an already %s container",
				    husk_status_name(c->status));
	}
}

int husk_start(const struct husk_ctx *ctx, const char *id, struct husk_err *err)
{
	struct husk_container *c;
	const struct husk_spec *spec;
	int lock_fd, r;

	if (husk_container_load_locked(ctx, id, &c, &lock_fd, err) < 0)
		return husk_err_prefix(err, "start %s", id);
	r = check_startable(c, err);
	if (r == 0)
		r = husk_traced("release exec fifo", id,
				release_fifo(c, c->hook_kinds & (1u << HUSK_HOOK_POSTSTART), err));
	/* The saved config is parsed only when it has poststart hooks. A
	 * failing one stops the rest, kills the container and fails start, as
	 * runc, crun and youki do (the spec's "log a warning and go on" is what
	 * poststop hooks get, runtime-spec issue 1309). */
	if (r == 0 && (c->hook_kinds & (1u << HUSK_HOOK_POSTSTART))) {
		spec = husk_container_spec(c, err);
		r = spec ? husk_hooks_run_state(c, spec, HUSK_HOOK_POSTSTART, HUSK_STATUS_RUNNING,
						err)
			 : -1;
		if (r < 0)
			husk_container_kill_wait(c, &(struct husk_err){0});
	}
	if (r < 0)
		husk_err_prefix(err, "start %s", id);
	close(lock_fd);
	husk_container_free(c);
	return r;
}
