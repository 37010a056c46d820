/* The container's network for its VM, as Kata does it: in the network
 * namespace the engine made (linux.namespaces, type network, with a path),
 * each interface that is up with an address (the veth, eth0) gets a tap
 * beside it, joined to it both ways by tc: an ingress qdisc on each with a
 * u32 filter matching everything and a mirred action redirecting it to the
 * other's egress. QEMU gets the tap's fd (it needs no privilege), the guest
 * card the veth's MAC, and the agent the veth's addresses, MTU and routes
 * in the guest config's org.husk.vm.network annotation. Everything is done
 * by rtnetlink (vm/nl.h): no ip or tc binaries at run time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm/host/vm.h"
#include "vm/nl.h"

/* A link of the namespace while it is read. */
struct link {
	int index;
	unsigned int flags, mtu;
	char name[IFNAMSIZ];
	unsigned char mac[6];
	bool has_mac;
	json_t *addresses, *routes;
};

struct scan {
	struct link links[HUSK_VM_MAX_NICS * 4];
	size_t n;
	bool too_many;
};

static struct link *link_of(struct scan *s, int index)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->links[i].index == index)
			return &s->links[i];
	return NULL;
}

static int on_link(const struct nlmsghdr *h, void *arg, struct husk_err *err)
{
	struct scan *s = arg;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *tb[IFLA_MAX + 1];
	struct link *l;

	if (h->nlmsg_type != RTM_NEWLINK || (ifi->ifi_flags & IFF_LOOPBACK) ||
	    !(ifi->ifi_flags & IFF_UP))
		return 0;
	if (s->n == sizeof(s->links) / sizeof(s->links[0])) {
		s->too_many = true;
		return 0;
	}
	husk_nl_parse(h, sizeof(*ifi), tb, IFLA_MAX);
	l = &s->links[s->n++];
	*l = (struct link){.index = ifi->ifi_index, .flags = ifi->ifi_flags, .mtu = 1500};
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", (char *)RTA_DATA(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		memcpy(&l->mtu, RTA_DATA(tb[IFLA_MTU]), sizeof(l->mtu));
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == 6) {
		memcpy(l->mac, RTA_DATA(tb[IFLA_ADDRESS]), 6);
		l->has_mac = true;
	}
	l->addresses = json_array();
	l->routes = json_array();
	return l->addresses && l->routes ? 0 : husk_err_set(err, ENOMEM, "network scan");
}

static int append_cidr(json_t *arr, int family, const void *addr, unsigned int len,
		       struct husk_err *err)
{
	char text[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

	if (!inet_ntop(family, addr, text, sizeof(text)))
		return husk_err_sys(err, "address");
	snprintf(cidr, sizeof(cidr), "%s/%u", text, len);
	return json_array_append_new(arr, json_string(cidr)) < 0
		   ? husk_err_set(err, ENOMEM, "network scan")
		   : 0;
}

/* Global addresses only: the guest makes its own IPv6 link-local one
 * (from the same MAC, so it is the same address). */
static int on_addr(const struct nlmsghdr *h, void *arg, struct husk_err *err)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct rtattr *tb[IFA_MAX + 1], *a;
	struct link *l = link_of(arg, (int)ifa->ifa_index);

	if (h->nlmsg_type != RTM_NEWADDR || !l || ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	husk_nl_parse(h, sizeof(*ifa), tb, IFA_MAX);
	/* IFA_LOCAL is the address itself; IFA_ADDRESS a point-to-point peer */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return 0;
	return append_cidr(l->addresses, ifa->ifa_family, RTA_DATA(a), ifa->ifa_prefixlen, err);
}

/* Routes of the main table through one of the links, but those the
 * kernel made for an address (the guest's kernel makes them too). */
static int on_route(const struct nlmsghdr *h, void *arg, struct husk_err *err)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	struct rtattr *tb[RTA_MAX + 1];
	struct link *l;
	uint32_t table = rt->rtm_table, oif = 0;
	json_t *route;
	char gw[INET6_ADDRSTRLEN];

	if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_type != RTN_UNICAST ||
	    rt->rtm_protocol == RTPROT_KERNEL)
		return 0;
	husk_nl_parse(h, sizeof(*rt), tb, RTA_MAX);
	if (tb[RTA_TABLE])
		memcpy(&table, RTA_DATA(tb[RTA_TABLE]), sizeof(table));
	if (tb[RTA_OIF])
		memcpy(&oif, RTA_DATA(tb[RTA_OIF]), sizeof(oif));
	l = link_of(arg, (int)oif);
	if (table != RT_TABLE_MAIN || !l)
		return 0;
	route = json_object();
	if (!route || json_array_append_new(l->routes, route) < 0)
		return husk_err_set(err, ENOMEM, "network scan");
	if (rt->rtm_dst_len == 0 || !tb[RTA_DST]) {
		json_object_set_new(route, "dst", json_string("default"));
	} else {
		json_t *one = json_array();
		if (!one || append_cidr(one, rt->rtm_family, RTA_DATA(tb[RTA_DST]), rt->rtm_dst_len,
					err) < 0) {
			json_decref(one);
			return -1;
		}
		json_object_set(route, "dst", json_array_get(one, 0));
		json_decref(one);
	}
	if (tb[RTA_GATEWAY] && inet_ntop(rt->rtm_family, RTA_DATA(tb[RTA_GATEWAY]), gw, sizeof(gw)))
		json_object_set_new(route, "gateway", json_string(gw));
	return 0;
}

static int dump(int nl, uint16_t type, int family, husk_nl_dump_fn fn, struct scan *s,
		const char *what, struct husk_err *err)
{
	struct husk_nl_msg m;
	struct rtmsg hdr = {.rtm_family = (unsigned char)family};

	/* rtmsg, ifinfomsg and ifaddrmsg all begin with the family byte */
	husk_nl_init(&m, type, 0, &hdr, sizeof(hdr));
	return husk_nl_dump(nl, &m, fn, s, what, err);
}

static int ifindex_of(const char *name, struct husk_err *err)
{
	_cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (sock < 0 || ioctl(sock, SIOCGIFINDEX, &ifr) < 0)
		return husk_err_sys(err, "index of %s", name);
	return ifr.ifr_ifindex;
}

/* A tap named husktapN (the kernel picks N), up, with the veth's MTU.
 * IFF_VNET_HDR lets QEMU pass checksum and segmentation offloads through.
 * Not persistent: it goes away with the last fd, QEMU's. */
static int make_tap(int nl, unsigned int mtu, int *index, struct husk_err *err)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct husk_nl_msg m;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	strcpy(ifr.ifr_name, "husktap%d");
	if (fd < 0)
		return husk_err_sys(err, "open /dev/net/tun");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		husk_err_sys(err, "create tap");
		close(fd);
		return -1;
	}
	ifi.ifi_index = ifindex_of(ifr.ifr_name, err);
	if (ifi.ifi_index < 0) {
		close(fd);
		return -1;
	}
	*index = ifi.ifi_index;
	husk_nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	husk_nl_put_u32(&m, IFLA_MTU, mtu);
	if (husk_nl_call(nl, &m, "bring the tap up", err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The ingress qdisc of a link: made afresh (deleting any there, with its
 * filters: one left by a container killed before it could clean up would
 * redirect to a tap that is gone), or only deleted. */
static int ingress_qdisc(int nl, int index, bool create, struct husk_err *err)
{
	struct tcmsg tc = {.tcm_family = AF_UNSPEC,
			   .tcm_ifindex = index,
			   .tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0),
			   .tcm_parent = TC_H_INGRESS};
	struct husk_nl_msg m;
	struct husk_err ignored = {0};

	husk_nl_init(&m, RTM_DELQDISC, 0, &tc, sizeof(tc));
	husk_nl_put_str(&m, TCA_KIND, "ingress");
	husk_nl_call(nl, &m, "delete ingress qdisc", &ignored);
	if (!create)
		return 0;
	husk_nl_init(&m, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &tc, sizeof(tc));
	husk_nl_put_str(&m, TCA_KIND, "ingress");
	return husk_nl_call(nl, &m, "add ingress qdisc", err);
}

/* tc filter add dev <from> parent ffff: protocol all u32 match u32 0 0
 *    action mirred egress redirect dev <to>
 * (u32 rather than matchall: kernels without cls_matchall have u32). */
static int redirect(int nl, int from, int to, struct husk_err *err)
{
	struct tcmsg tc = {.tcm_family = AF_UNSPEC,
			   .tcm_ifindex = from,
			   .tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0),
			   .tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL))};
	/* a selector with one key: mask 0, value 0 at offset 0 (every packet) */
	union {
		struct tc_u32_sel sel;
		char bytes[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)];
	} sel;
	struct tc_mirred mirred = {
	    .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = (uint32_t)to};
	struct husk_nl_msg m;

	memset(&sel, 0, sizeof(sel));
	sel.sel.flags = TC_U32_TERMINAL;
	sel.sel.nkeys = 1;
	husk_nl_init(&m, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, &tc, sizeof(tc));
	husk_nl_put_str(&m, TCA_KIND, "u32");
	husk_nl_nest_begin(&m, TCA_OPTIONS);
	husk_nl_put(&m, TCA_U32_SEL, &sel, sizeof(sel));
	husk_nl_nest_begin(&m, TCA_U32_ACT);
	husk_nl_nest_begin(&m, 1); /* the first action */
	husk_nl_put_str(&m, TCA_ACT_KIND, "mirred");
	husk_nl_nest_begin(&m, TCA_ACT_OPTIONS);
	husk_nl_put(&m, TCA_MIRRED_PARMS, &mirred, sizeof(mirred));
	husk_nl_nest_end(&m);
	husk_nl_nest_end(&m);
	husk_nl_nest_end(&m);
	husk_nl_nest_end(&m);
	return husk_nl_call(nl, &m, "add tc mirred filter", err);
}

static int nic_from_link(int nl, struct husk_vm_net *net, const struct link *l, json_t *ifs,
			 struct husk_err *err)
{
	struct husk_vm_nic *nic = &net->nic[net->n];
	int tap_index;
	json_t *obj;

	snprintf(nic->mac, sizeof(nic->mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1],
		 l->mac[2], l->mac[3], l->mac[4], l->mac[5]);
	nic->veth_index = l->index;
	nic->tap_fd = make_tap(nl, l->mtu, &tap_index, err);
	if (nic->tap_fd < 0)
		return husk_err_prefix(err, "%s", l->name);
	net->n++;
	if (ingress_qdisc(nl, l->index, true, err) < 0 ||
	    ingress_qdisc(nl, tap_index, true, err) < 0 ||
	    redirect(nl, l->index, tap_index, err) < 0 ||
	    redirect(nl, tap_index, l->index, err) < 0)
		return husk_err_prefix(err, "%s", l->name);
	obj = json_pack("{s:s,s:s,s:i,s:O,s:O}", "name", l->name, "mac", nic->mac, "mtu",
			(int)l->mtu, "addresses", l->addresses, "routes", l->routes);
	if (!obj || json_array_append_new(ifs, obj) < 0)
		return husk_err_set(err, ENOMEM, "network config");
	return 0;
}

static int scan_and_join(int nl, struct husk_vm_net *net, struct husk_err *err)
{
	static struct scan s;
	json_t *ifs = json_array();
	int rc = -1;

	memset(&s, 0, sizeof(s));
	if (!ifs)
		return husk_err_set(err, ENOMEM, "network config");
	if (dump(nl, RTM_GETLINK, AF_UNSPEC, on_link, &s, "list links", err) < 0 ||
	    dump(nl, RTM_GETADDR, AF_UNSPEC, on_addr, &s, "list addresses", err) < 0 ||
	    dump(nl, RTM_GETROUTE, AF_INET, on_route, &s, "list routes", err) < 0 ||
	    dump(nl, RTM_GETROUTE, AF_INET6, on_route, &s, "list IPv6 routes", err) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		if (!s.links[i].has_mac || json_array_size(s.links[i].addresses) == 0)
			continue;
		if (net->n == HUSK_VM_MAX_NICS)
			rc =
			    husk_err_plain(err, E2BIG, "more than %d interfaces", HUSK_VM_MAX_NICS);
		else
			rc = nic_from_link(nl, net, &s.links[i], ifs, err);
	}
	if (rc == 0 && net->n > 0)
		net->guest = json_pack("{s:O}", "interfaces", ifs);
	if (rc == 0 && net->n > 0 && !net->guest)
		rc = husk_err_set(err, ENOMEM, "network config");
out:
	for (size_t i = 0; i < s.n; i++) {
		json_decref(s.links[i].addresses);
		json_decref(s.links[i].routes);
	}
	json_decref(ifs);
	return rc;
}

/* linux.namespaces' network entry: its path, or NULL; *has: there is one. */
static const char *netns_path(const json_t *config, bool *has)
{
	json_t *nss = json_object_get(json_object_get(config, "linux"), "namespaces"), *ns;
	size_t i;

	*has = false;
	json_array_foreach(nss, i, ns)
	{
		const char *type = json_string_value(json_object_get(ns, "type"));
		if (type && strcmp(type, "network") == 0) {
			*has = true;
			return json_string_value(json_object_get(ns, "path"));
		}
	}
	return NULL;
}

/* Enter the namespace, work there, come back (the monitor is single
 * threaded; the netlink socket stays bound to the namespace it was made
 * in, the taps to theirs). */
int husk_vm_net_setup(const json_t *config, struct husk_vm_net *net, struct husk_err *err)
{
	bool has;
	const char *path = netns_path(config, &has);
	_cleanup_close_ int self = -1;
	int nl = -1, rc;

	*net = (struct husk_vm_net){.ns_fd = -1};
	if (!has) /* the host's network: a VM cannot share it, only lo */
		return 0;
	if (!path) /* a new one, the monitor's own (what prestart hooks set up) */
		path = "/proc/self/ns/net";
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	net->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || net->ns_fd < 0)
		return husk_err_sys(err, "vm: network namespace %s", path);
	if (setns(net->ns_fd, CLONE_NEWNET) < 0)
		return husk_err_sys(err, "vm: enter network namespace %s", path);
	nl = husk_nl_open(err);
	rc = nl < 0 ? -1 : scan_and_join(nl, net, err);
	if (nl >= 0)
		close(nl);
	if (setns(self, CLONE_NEWNET) < 0 && rc == 0)
		rc = husk_err_sys(err, "vm: leave network namespace %s", path);
	if (rc < 0) {
		husk_err_prefix(err, "vm: network namespace %s", path);
		husk_vm_net_release(net);
	}
	return rc;
}

/* The veths' ingress qdiscs go (the taps went with QEMU). */
void husk_vm_net_release(struct husk_vm_net *net)
{
	_cleanup_close_ int self = -1;
	struct husk_err ignored = {0};
	int nl;

	for (size_t i = 0; i < net->n; i++)
		if (net->nic[i].tap_fd >= 0)
			close(net->nic[i].tap_fd);
	if (net->ns_fd >= 0 && net->n > 0) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self >= 0 && setns(net->ns_fd, CLONE_NEWNET) == 0) {
			nl = husk_nl_open(&ignored);
			for (size_t i = 0; nl >= 0 && i < net->n; i++)
				ingress_qdisc(nl, net->nic[i].veth_index, false, &ignored);
			if (nl >= 0)
				close(nl);
			if (setns(self, CLONE_NEWNET) < 0)
				(void)0;
		}
	}
	if (net->ns_fd >= 0)
		close(net->ns_fd);
	json_decref(net->guest);
	*net = (struct husk_vm_net){.ns_fd = -1};
}

/* What husk_vm_net_setup joined, for delete to undo should the monitor die
 * without its own teardown (SIGKILL): the namespace's path and the veths'
 * indexes, one line each. */
void husk_vm_net_record(const json_t *config, const struct husk_vm_net *net)
{
	bool has;
	const char *path = netns_path(config, &has);
	_cleanup_close_ int fd = -1;

	if (!path || net->n == 0)
		return;
	fd = open(HUSK_VM_NET_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dprintf(fd, "%s\n", path);
	for (size_t i = 0; i < net->n; i++)
		dprintf(fd, "%d\n", net->nic[i].veth_index);
}

void husk_vm_net_undo_recorded(int dir_fd)
{
	struct husk_vm_net net = {.ns_fd = -1};
	char buf[PATH_MAX + 128], *line, *save = NULL;
	_cleanup_close_ int fd = openat(dir_fd, HUSK_VM_NET_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return;
	buf[n] = '\0';
	line = strtok_r(buf, "\n", &save);
	/* the namespace went with its owner: nothing is left in it */
	net.ns_fd = line ? open(line, O_RDONLY | O_CLOEXEC) : -1;
	while (net.ns_fd >= 0 && net.n < HUSK_VM_MAX_NICS && (line = strtok_r(NULL, "\n", &save))) {
		net.nic[net.n].tap_fd = -1;
		net.nic[net.n++].veth_index = atoi(line);
	}
	husk_vm_net_release(&net);
}
