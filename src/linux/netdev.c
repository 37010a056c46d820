/* rtnetlink for the container's network namespace: lo up in a new one
 * (husk_netdev_loopback_up, at the end), and linux.netDevices (runtime-spec
 * 1.3): host interfaces moved into the container's network namespace,
 * renamed if asked, keeping their addresses (the kernel drops them on the
 * move).
 *
 * The runtime looks each interface up and saves its addresses before the
 * clone (husk_netdev_prepare, into the child's struct husk_netdevs), with an
 * rtnetlink socket of the host's namespace that the child inherits. The child, once in its network
 * namespace, sends the move through that socket (the kernel checks
 * CAP_NET_ADMIN over the host's namespace, which it has without a user
 * namespace of its own), then adds the addresses back from inside. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linux/internal.h"
#include "util/cleanup.h"

#define MAX_SAVED_ADDRS 16

struct saved_addr {
	struct ifaddrmsg ifa;
	uint8_t local[16], address[16];
	size_t len; /* of local and address: 4 or 16 */
	bool has_local;
};

struct husk_moving_dev {
	unsigned int host_index;
	struct saved_addr addrs[MAX_SAVED_ADDRS];
	size_t n_addrs;
};

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	};
	char attrs[128];
};

static void add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* Read the replies to one request until it is done: NLMSG_DONE, or
 * NLMSG_ERROR (an acknowledgement when its error is 0). Other messages go to
 * on_msg when given. -1 with errno set. */
static int nl_replies(int sock, void (*on_msg)(struct nlmsghdr *, void *), void *arg)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				errno = -e;
				return e == 0 ? 0 : -1;
			}
			if (on_msg)
				on_msg(h, arg);
		}
	}
}

/* Send one request and read its acknowledgement; -1 with errno set. */
static int nl_ack(int sock, struct nl_req *r)
{
	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(sock, r, r->h.nlmsg_len, 0) < 0)
		return -1;
	return nl_replies(sock, NULL, NULL);
}

static void save_addr(struct husk_moving_dev *d, struct nlmsghdr *h)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t len = ifa->ifa_family == AF_INET ? 4 : 16;
	struct saved_addr *s = &d->addrs[d->n_addrs];
	int rest = (int)IFA_PAYLOAD(h);

	/* IPv6 link-local addresses come back by themselves */
	if (ifa->ifa_index != d->host_index || d->n_addrs == MAX_SAVED_ADDRS ||
	    (ifa->ifa_family == AF_INET6 && ifa->ifa_scope != RT_SCOPE_UNIVERSE) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	memset(s, 0, sizeof(*s));
	s->ifa = *ifa;
	s->len = len;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, rest); a = RTA_NEXT(a, rest)) {
		if (RTA_PAYLOAD(a) != len)
			continue;
		if (a->rta_type == IFA_LOCAL) {
			memcpy(s->local, RTA_DATA(a), len);
			s->has_local = true;
		} else if (a->rta_type == IFA_ADDRESS) {
			memcpy(s->address, RTA_DATA(a), len);
		}
	}
	d->n_addrs++;
}

static void save_new_addr(struct nlmsghdr *h, void *dev)
{
	if (h->nlmsg_type == RTM_NEWADDR)
		save_addr(dev, h);
}

/* The addresses the interface has on the host. */
static int dump_addrs(int sock, struct husk_moving_dev *d)
{
	struct nl_req r = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
				 .nlmsg_type = RTM_GETADDR,
				 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP}};

	if (send(sock, &r, r.h.nlmsg_len, 0) < 0)
		return -1;
	return nl_replies(sock, save_new_addr, d);
}

void husk_netdevs_init(struct husk_netdevs *moving)
{
	moving->sock = -1;
	moving->devs = NULL;
	moving->n = 0;
}

void husk_netdev_release(struct husk_netdevs *moving)
{
	if (moving->sock >= 0)
		close(moving->sock);
	free(moving->devs);
	husk_netdevs_init(moving);
}

int husk_netdev_prepare(const struct husk_spec *spec, struct husk_netdevs *moving,
			struct husk_err *err)
{
	const struct husk_linux *l = &spec->linux;

	husk_netdev_release(moving);
	if (l->n_net_devices == 0)
		return 0;
	if (l->ns[HUSK_NS_USER].enabled)
		return husk_err_plain(err, ENOTSUP,
				      "linux.netDevices: moving host interfaces into a container "
				      "with a user namespace is not supported");
	moving->devs = calloc(l->n_net_devices, sizeof(*moving->devs));
	if (!moving->devs || (moving->sock = nl_socket()) < 0)
		return husk_err_sys(err, "linux.netDevices: rtnetlink socket");
	moving->n = l->n_net_devices;
	for (size_t i = 0; i < moving->n; i++) {
		const char *name = l->net_devices[i].host_name;
		moving->devs[i].host_index = if_nametoindex(name);
		if (moving->devs[i].host_index == 0)
			return husk_err_sys(err, "linux.netDevices: interface %s on the host",
					    name);
		if (dump_addrs(moving->sock, &moving->devs[i]) < 0)
			return husk_err_sys(err, "linux.netDevices: addresses of %s", name);
	}
	return 0;
}

static int move_one(int sock, const struct husk_net_device *nd, const struct husk_moving_dev *d,
		    int netns, struct husk_err *err)
{
	const char *name = nd->name && *nd->name ? nd->name : nd->host_name;
	uint32_t nsfd = (uint32_t)netns;
	struct nl_req r = {
	    .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK},
	    .ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)d->host_index}};

	add_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	add_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	if (nl_ack(sock, &r) < 0)
		return husk_err_sys(err, "linux.netDevices: move %s into the container as %s",
				    nd->host_name, name);
	return 0;
}

static int restore_addrs(const char *name, const struct husk_moving_dev *d, struct husk_err *err)
{
	_cleanup_close_ int sock = nl_socket();
	unsigned int index = if_nametoindex(name);

	if (sock < 0 || index == 0)
		return husk_err_sys(err, "linux.netDevices: %s in the container", name);
	for (size_t i = 0; i < d->n_addrs; i++) {
		const struct saved_addr *s = &d->addrs[i];
		struct nl_req r = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
					 .nlmsg_type = RTM_NEWADDR,
					 .nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL},
				   .ifa = s->ifa};
		r.ifa.ifa_index = index;
		if (s->has_local)
			add_attr(&r, IFA_LOCAL, s->local, s->len);
		add_attr(&r, IFA_ADDRESS, s->address, s->len);
		if (nl_ack(sock, &r) < 0 && errno != EEXIST)
			return husk_err_sys(err, "linux.netDevices: give %s its address back",
					    name);
	}
	return 0;
}

int husk_netdev_move(const struct husk_spec *spec, struct husk_netdevs *moving,
		     struct husk_err *err)
{
	const struct husk_linux *l = &spec->linux;

	if (moving->n == 0)
		return 0;
	_cleanup_close_ int netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return husk_err_sys(err, "linux.netDevices: open our network namespace");
	for (size_t i = 0; i < moving->n && i < l->n_net_devices; i++) {
		const struct husk_net_device *nd = &l->net_devices[i];
		if (move_one(moving->sock, nd, &moving->devs[i], netns, err) < 0 ||
		    restore_addrs(nd->name && *nd->name ? nd->name : nd->host_name,
				  &moving->devs[i], err) < 0)
			return -1;
	}
	husk_netdev_release(moving);
	return 0;
}

/* A new network namespace starts with lo down; runc and crun bring it up,
 * and programs expect 127.0.0.1 to answer. One request on a socket of the
 * new namespace; lo is always interface 1 there (LOOPBACK_IFINDEX). */
int husk_netdev_loopback_up(struct husk_err *err)
{
	struct nl_req r = {
	    .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK},
	    .ifi = {.ifi_family = AF_UNSPEC,
		    .ifi_index = 1,
		    .ifi_flags = IFF_UP,
		    .ifi_change = IFF_UP}};
	_cleanup_close_ int sock = nl_socket();

	if (sock < 0 || nl_ack(sock, &r) < 0)
		return husk_err_sys(err, "bring up lo in the new network namespace");
	return 0;
}
