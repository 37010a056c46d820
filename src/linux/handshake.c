/* The parent/child conversation: fixed-layout messages over one
 * SOCK_SEQPACKET socketpair, so every send is one record and a short read
 * means the peer is gone. Descriptors travel as SCM_RIGHTS. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

#define MSG_BIT(t) (1u << (t))

/* Who waits for what, in order: the child for GO, then (while it sets up)
 * JOINED and HOOKS_DONE; the parent for an intermediate's CHILD_PID, then
 * it serves the child's requests until READY (or, for exec, EOF). */
static const struct {
	const char *name;
	uint32_t accepts;
} phases[HUSK_PHASE_COUNT] = {
    [HUSK_PHASE_GO] = {"waiting for GO", MSG_BIT(HUSK_MSG_GO)},
    [HUSK_PHASE_JOINED] = {"waiting for JOINED", MSG_BIT(HUSK_MSG_JOINED)},
    [HUSK_PHASE_HOOKS] = {"waiting for HOOKS_DONE", MSG_BIT(HUSK_MSG_HOOKS_DONE)},
    [HUSK_PHASE_CHILD_PID] = {"waiting for CHILD_PID", MSG_BIT(HUSK_MSG_CHILD_PID)},
    [HUSK_PHASE_SERVE] = {"serving the container process",
			  MSG_BIT(HUSK_MSG_RUN_HOOKS) | MSG_BIT(HUSK_MSG_PTY_MASTER) |
			      MSG_BIT(HUSK_MSG_SECCOMP_FD) | MSG_BIT(HUSK_MSG_READY)},
};

static const char *const msg_names[] = {
    [HUSK_MSG_GO] = "GO",
    [HUSK_MSG_RUN_HOOKS] = "RUN_HOOKS",
    [HUSK_MSG_HOOKS_DONE] = "HOOKS_DONE",
    [HUSK_MSG_PTY_MASTER] = "PTY_MASTER",
    [HUSK_MSG_SECCOMP_FD] = "SECCOMP_FD",
    [HUSK_MSG_CHILD_PID] = "CHILD_PID",
    [HUSK_MSG_READY] = "READY",
    [HUSK_MSG_ERROR] = "ERROR",
    [HUSK_MSG_JOINED] = "JOINED",
};

bool husk_phase_accepts(enum husk_phase phase, uint32_t type)
{
	if ((unsigned)phase >= HUSK_PHASE_COUNT || type >= 32)
		return false;
	return type == HUSK_MSG_ERROR || (phases[phase].accepts & MSG_BIT(type));
}

const char *husk_phase_name(enum husk_phase phase)
{
	return (unsigned)phase < HUSK_PHASE_COUNT ? phases[phase].name : "?";
}

const char *husk_msg_name(uint32_t type)
{
	if (type < HUSK_ARRAY_SIZE(msg_names) && msg_names[type])
		return msg_names[type];
	return "unknown";
}

int husk_send_fd(int sock, const void *data, size_t len, int fd, struct husk_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return husk_err_sys(err, "sendmsg");
	return 0;
}

int husk_msg_send(int sock, enum husk_msg_type type, int64_t value, int fd, struct husk_err *err)
{
	struct husk_msg m = {.type = type, .value = value};
	return husk_send_fd(sock, &m, offsetof(struct husk_msg, text) + 1, fd, err);
}

/* The child's messages without a descriptor go by write(2): a seccomp
 * filter that is already loaded may deny sendmsg, hardly ever write. */
static int write_msg(int sock, const struct husk_msg *m, size_t len, struct husk_err *err)
{
	ssize_t n;
	do
		n = write(sock, m, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return husk_err_sys(err, "write to the runtime");
	return 0;
}

int husk_msg_write(int sock, enum husk_msg_type type, int64_t value, struct husk_err *err)
{
	struct husk_msg m = {.type = type, .value = value};
	return write_msg(sock, &m, offsetof(struct husk_msg, text) + 1, err);
}

void husk_msg_send_error(int sock, const struct husk_err *e)
{
	struct husk_msg m = {.type = HUSK_MSG_ERROR, .code = e->code};
	struct husk_err ignored;
	size_t len = strnlen(e->msg, sizeof(m.text) - 1);

	memcpy(m.text, e->msg, len);
	m.text[len] = '\0';
	write_msg(sock, &m, offsetof(struct husk_msg, text) + len + 1, &ignored);
}

static int take_fd(struct msghdr *mh)
{
	int fd = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	return fd;
}

int husk_msg_recv(int sock, struct husk_msg *m, int *fd, struct husk_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	int reset = 0;
	ssize_t n;

	*fd = -1;
	/* ECONNRESET: the peer is gone with a message of ours unread (a child
	 * that failed before reading JOINED). The kernel reports that before
	 * what the peer sent last, its error, which the next call returns;
	 * after that the stream ends and the caller says how the peer ended. */
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !reset++)));
	if (n < 0 && errno == ECONNRESET)
		return 0;
	if (n < 0)
		return husk_err_sys(err, "recvmsg");
	if (n == 0)
		return 0;
	*fd = take_fd(&mh);
	if ((size_t)n <= offsetof(struct husk_msg, text)) {
		if (*fd >= 0)
			close(*fd);
		return husk_err_set(err, EPROTO, "short message from peer");
	}
	m->text[sizeof(m->text) - 1] = '\0';
	if ((size_t)n < sizeof(*m))
		m->text[n - offsetof(struct husk_msg, text) - 1] = '\0';
	return 1;
}

int husk_msg_expect(int sock, enum husk_phase phase, struct husk_msg *m, struct husk_err *err)
{
	int fd;
	int r = husk_msg_recv(sock, m, &fd, err);

	if (r < 0)
		return -1;
	if (fd >= 0)
		close(fd);
	if (r == 0)
		return husk_err_set(err, EPIPE, "peer closed the setup socket");
	if (m->type == HUSK_MSG_ERROR) {
		err->code = m->code;
		snprintf(err->msg, sizeof(err->msg), "%s", m->text);
		return -1;
	}
	if (!husk_phase_accepts(phase, m->type))
		return husk_err_set(err, EPROTO, "unexpected message %s (%u) while %s",
				    husk_msg_name(m->type), m->type, husk_phase_name(phase));
	return 0;
}

bool husk_msg_take_error(int sock, struct husk_err *err)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	struct husk_err ignored;
	struct husk_msg m;
	int fd;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
		return false;
	if (husk_msg_recv(sock, &m, &fd, &ignored) != 1)
		return false;
	if (fd >= 0)
		close(fd);
	if (m.type != HUSK_MSG_ERROR)
		return false;
	err->code = m.code;
	snprintf(err->msg, sizeof(err->msg), "%s", m.text);
	return true;
}
