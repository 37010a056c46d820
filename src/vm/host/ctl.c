/* The monitor's control socket: one JSON object per SOCK_SEQPACKET
 * message, fds beside it (vm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>

#include "vm/host/vm.h"

enum { HUSK_VM_CTL_MAX = 1 << 20, MAX_FDS = 3 };

int husk_vm_ctl_send(int sock, const json_t *msg, const int *fds, size_t n_fds,
		     struct husk_err *err)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (!text)
		return husk_err_set(err, ENOMEM, "control message");
	iov = (struct iovec){.iov_base = text, .iov_len = strlen(text)};
	if (n_fds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	free(text);
	return n < 0 ? husk_err_sys(err, "send to the vm monitor") : 0;
}

int husk_vm_ctl_recv(int sock, json_t **msg, int *fds, size_t max, size_t *n_fds,
		     struct husk_err *err)
{
	static char buf[HUSK_VM_CTL_MAX];
	union {
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	json_error_t je;
	ssize_t n;

	*msg = NULL;
	*n_fds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return husk_err_sys(err, "receive from the vm monitor");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[MAX_FDS];
		memcpy(got, CMSG_DATA(c), sizeof(int) * (k > MAX_FDS ? MAX_FDS : k));
		for (size_t i = 0; i < k && i < MAX_FDS; i++) {
			if (*n_fds < max)
				fds[(*n_fds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (n == 0)
		return 1;
	*msg = json_loadb(buf, (size_t)n, 0, &je);
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		for (size_t i = 0; i < *n_fds; i++)
			close(fds[i]);
		*n_fds = 0;
		return husk_err_plain(err, EPROTO,
				      "vm monitor: a message that is not a JSON object");
	}
	return 0;
}

int husk_vm_ctl_connect(int dir_fd, struct husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	/* Through the directory fd: the state path may be longer than sun_path. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir_fd,
		 HUSK_VM_CONTROL_SOCK);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return husk_err_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		husk_err_sys(err, "connect to the vm monitor (%s)", HUSK_VM_CONTROL_SOCK);
		close(fd);
		return -1;
	}
	return fd;
}
