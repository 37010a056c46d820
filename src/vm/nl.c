/* rtnetlink requests (nl.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm/nl.h"

int husk_nl_open(struct husk_err *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int one = 1;

	if (fd < 0)
		return husk_err_sys(err, "netlink socket");
	/* errors carry only the failed request's header, and the kernel's own
	 * message (extended ack) is not parsed: keep the answers small */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return husk_err_sys(err, "bind netlink socket");
	}
	return fd;
}

void husk_nl_init(struct husk_nl_msg *m, uint16_t type, uint16_t flags, const void *hdr,
		  size_t hdr_len)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr_len);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST);
	memcpy(NLMSG_DATA(&m->h), hdr, hdr_len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len);
}

void husk_nl_put(struct husk_nl_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(m->h.nlmsg_len);
	struct nlattr *a = (struct nlattr *)(m->buf + at);

	if (at + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->h.nlmsg_len = (uint32_t)(at + NLA_HDRLEN + NLA_ALIGN(len));
}

void husk_nl_put_u32(struct husk_nl_msg *m, uint16_t type, uint32_t v)
{
	husk_nl_put(m, type, &v, sizeof(v));
}

void husk_nl_put_str(struct husk_nl_msg *m, uint16_t type, const char *s)
{
	husk_nl_put(m, type, s, strlen(s) + 1);
}

void husk_nl_nest_begin(struct husk_nl_msg *m, uint16_t type)
{
	size_t at = NLMSG_ALIGN(m->h.nlmsg_len);

	if (m->depth == (int)(sizeof(m->nest) / sizeof(m->nest[0]))) {
		m->overflow = true;
		return;
	}
	husk_nl_put(m, type | NLA_F_NESTED, NULL, 0);
	m->nest[m->depth++] = (struct nlattr *)(m->buf + at);
}

/* The nest's length covers everything put since it began. */
void husk_nl_nest_end(struct husk_nl_msg *m)
{
	struct nlattr *a;

	if (m->depth == 0)
		return;
	a = m->nest[--m->depth];
	a->nla_len = (uint16_t)(m->buf + m->h.nlmsg_len - (char *)a);
}

static int send_msg(int fd, struct husk_nl_msg *m, uint16_t flags, const char *what,
		    struct husk_err *err)
{
	static uint32_t seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (m->overflow || m->depth)
		return husk_err_plain(err, EMSGSIZE, "%s: netlink request too long", what);
	m->h.nlmsg_flags |= flags;
	m->h.nlmsg_seq = ++seq;
	if (sendto(fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return husk_err_sys(err, "%s: netlink send", what);
	return 0;
}

/* Read answers to request `seq` until an error/ACK (call) or DONE (dump). */
static int recv_answers(int fd, uint32_t seq, husk_nl_dump_fn fn, void *arg, const char *what,
			struct husk_err *err)
{
	static char buf[65536]; /* the largest dump batch the kernel sends */

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_sys(err, "%s: netlink receive", what);
		for (size_t left = (size_t)n; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (e->error == 0)
					return 0;
				errno = -e->error;
				return husk_err_sys(err, "%s", what);
			}
			if (fn && fn(h, arg, err) < 0)
				return -1;
		}
	}
}

int husk_nl_call(int fd, struct husk_nl_msg *m, const char *what, struct husk_err *err)
{
	if (send_msg(fd, m, NLM_F_ACK, what, err) < 0)
		return -1;
	return recv_answers(fd, m->h.nlmsg_seq, NULL, NULL, what, err);
}

int husk_nl_dump(int fd, struct husk_nl_msg *m, husk_nl_dump_fn fn, void *arg, const char *what,
		 struct husk_err *err)
{
	if (send_msg(fd, m, NLM_F_DUMP, what, err) < 0)
		return -1;
	return recv_answers(fd, m->h.nlmsg_seq, fn, arg, what, err);
}

void husk_nl_parse(const struct nlmsghdr *h, size_t hdr_len, struct rtattr **tb, int max)
{
	struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr_len));
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(hdr_len);

	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		unsigned short t = a->rta_type & NLA_TYPE_MASK;
		if (t <= max && !tb[t])
			tb[t] = a;
	}
}
