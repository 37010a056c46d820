/* The guest's network cards, set as the host read the container's veths
 * (src/vm/host/net.c): the config's org.husk.vm.network annotation,
 *   {"interfaces": [{"name": "eth0", "mac": "02:..", "mtu": 1500,
 *                    "addresses": ["10.0.0.2/24", "fd00::2/64"],
 *                    "routes": [{"dst": "default", "gateway": "10.0.0.1"},
 *                               {"dst": "10.1.0.0/16"}]}]}
 * is input like any other: every field is checked (types, ranges, no
 * unknown keys) before anything changes. Each card is found by its MAC,
 * renamed, given its MTU and addresses and brought up; the routes follow
 * once every address exists (a gateway must be reachable). By rtnetlink. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/agent/agent.h"
#include "vm/nl.h"

#define NET_KEY	   "org.husk.vm.network"
#define MAX_IFS	   8
#define MAX_ADDRS  64
#define MAX_ROUTES 256

struct cidr {
	int family;
	unsigned char addr[16];
	unsigned int len;
};

struct route {
	struct cidr dst; /* len 0: default */
	bool has_gw;
	unsigned char gw[16];
};

struct nic {
	char name[IFNAMSIZ];
	unsigned char mac[6];
	unsigned int mtu;
	struct cidr addrs[MAX_ADDRS];
	size_t n_addrs;
	struct route routes[MAX_ROUTES];
	size_t n_routes;
	int index;
};

static int bad(struct husk_err *err, const char *where, const char *why)
{
	return husk_err_plain(err, EINVAL, "annotations." NET_KEY ": %s: %s", where, why);
}

/* Exactly these keys (the optional ones may be missing). */
static int only_keys(const json_t *obj, const char *const *keys, size_t required, const char *where,
		     struct husk_err *err)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(obj))
		return bad(err, where, "must be an object");
	json_object_foreach((json_t *)obj, key, v)
	{
		bool known = false;
		for (size_t i = 0; keys[i]; i++)
			if (strcmp(key, keys[i]) == 0) {
				known = true;
				n += i < required;
			}
		if (!known) {
			char w[96];
			snprintf(w, sizeof(w), "%s.%.40s", where, key);
			return bad(err, w, "unknown field");
		}
	}
	return n == required ? 0 : bad(err, where, "a required field is missing");
}

static int parse_ip(const char *s, int *family, unsigned char *out)
{
	if (inet_pton(AF_INET, s, out) == 1)
		return *family = AF_INET, 0;
	if (inet_pton(AF_INET6, s, out) == 1)
		return *family = AF_INET6, 0;
	return -1;
}

static int parse_cidr(const json_t *v, struct cidr *c, const char *where, struct husk_err *err)
{
	const char *s = json_string_value(v), *slash;
	char ip[INET6_ADDRSTRLEN];
	char *end;
	unsigned long len;

	if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(ip))
		return bad(err, where, "must be a string ADDRESS/PREFIX");
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (parse_ip(ip, &c->family, c->addr) < 0 || !slash[1] || *end || errno ||
	    !(slash[1] >= '0' && slash[1] <= '9') || len > (c->family == AF_INET ? 32u : 128u))
		return bad(err, where, "not an IPv4 or IPv6 ADDRESS/PREFIX");
	c->len = (unsigned int)len;
	return 0;
}

static int parse_route(const json_t *obj, struct route *r, const char *where, struct husk_err *err)
{
	static const char *const keys[] = {"dst", "gateway", NULL};
	const char *dst, *gw;
	int gw_family;

	if (only_keys(obj, keys, 1, where, err) < 0)
		return -1;
	dst = json_string_value(json_object_get(obj, "dst"));
	gw = json_string_value(json_object_get(obj, "gateway"));
	if (json_object_get(obj, "gateway") && !gw)
		return bad(err, where, "gateway must be a string");
	if (dst && strcmp(dst, "default") == 0) {
		/* a default route's family is its gateway's */
		if (!gw)
			return bad(err, where, "a default route needs a gateway");
		r->dst = (struct cidr){0};
		if (parse_ip(gw, &r->dst.family, r->gw) < 0)
			return bad(err, where, "gateway is not an IP address");
	} else if (parse_cidr(json_object_get(obj, "dst"), &r->dst, where, err) < 0) {
		return -1;
	}
	r->has_gw = gw != NULL;
	if (gw && (parse_ip(gw, &gw_family, r->gw) < 0 || gw_family != r->dst.family))
		return bad(err, where, "gateway is not an IP address of dst's family");
	return 0;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[6];
	char tail;

	if (!s || strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

static bool good_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strcmp(s, "lo") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p > '~')
			return false;
	return true;
}

static int parse_nic(const json_t *obj, struct nic *n, const char *where, struct husk_err *err)
{
	static const char *const keys[] = {"name", "mac", "mtu", "addresses", "routes", NULL};
	json_t *mtu = json_object_get(obj, "mtu"), *addrs, *routes, *v;
	const char *name;
	char w[96];
	size_t i;

	if (only_keys(obj, keys, 5, where, err) < 0)
		return -1;
	name = json_string_value(json_object_get(obj, "name"));
	addrs = json_object_get(obj, "addresses");
	routes = json_object_get(obj, "routes");
	if (!good_ifname(name))
		return bad(err, where,
			   "name must be an interface name (1 to 15 characters, not lo)");
	snprintf(n->name, sizeof(n->name), "%s", name);
	if (parse_mac(json_string_value(json_object_get(obj, "mac")), n->mac) < 0)
		return bad(err, where, "mac must be xx:xx:xx:xx:xx:xx");
	if (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
	    json_integer_value(mtu) > 65535)
		return bad(err, where, "mtu must be a whole number from 68 to 65535");
	n->mtu = (unsigned int)json_integer_value(mtu);
	if (!json_is_array(addrs) || json_array_size(addrs) > MAX_ADDRS)
		return bad(err, where, "addresses must be an array of at most 64");
	if (!json_is_array(routes) || json_array_size(routes) > MAX_ROUTES)
		return bad(err, where, "routes must be an array of at most 256");
	json_array_foreach(addrs, i, v)
	{
		snprintf(w, sizeof(w), "%s.addresses[%zu]", where, i);
		if (parse_cidr(v, &n->addrs[n->n_addrs++], w, err) < 0)
			return -1;
	}
	json_array_foreach(routes, i, v)
	{
		snprintf(w, sizeof(w), "%s.routes[%zu]", where, i);
		if (parse_route(v, &n->routes[n->n_routes++], w, err) < 0)
			return -1;
	}
	return 0;
}

/* The annotation's settings, or *n_out 0 without it. */
static int parse(const json_t *config, struct nic *nics, size_t *n_out, struct husk_err *err)
{
	static const char *const keys[] = {"interfaces", NULL};
	json_t *ann = json_object_get(json_object_get(config, "annotations"), NET_KEY);
	json_t *root, *ifs, *v;
	json_error_t je;
	char where[32];
	size_t i;

	*n_out = 0;
	if (!ann)
		return 0;
	if (!json_is_string(ann))
		return bad(err, "the annotation", "must be a string holding JSON");
	root = json_loads(json_string_value(ann), JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return husk_err_plain(err, EINVAL, "annotations." NET_KEY ": %s", je.text);
	if (only_keys(root, keys, 1, "the annotation", err) < 0)
		goto fail;
	ifs = json_object_get(root, "interfaces");
	if (!json_is_array(ifs) || json_array_size(ifs) > MAX_IFS) {
		bad(err, "interfaces", "must be an array of at most 8");
		goto fail;
	}
	json_array_foreach(ifs, i, v)
	{
		snprintf(where, sizeof(where), "interfaces[%zu]", i);
		memset(&nics[i], 0, sizeof(nics[i]));
		if (parse_nic(v, &nics[i], where, err) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (!memcmp(nics[j].mac, nics[i].mac, 6) ||
			    !strcmp(nics[j].name, nics[i].name)) {
				bad(err, where, "name or mac repeats an earlier interface's");
				goto fail;
			}
	}
	*n_out = json_array_size(ifs);
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

/* ---- applying them ----------------------------------------------------- */

static int on_link(const struct nlmsghdr *h, void *arg, struct husk_err *err)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *tb[IFLA_MAX + 1];
	struct nic *n = arg;

	husk_nl_parse(h, sizeof(*ifi), tb, IFLA_MAX);
	if (h->nlmsg_type == RTM_NEWLINK && tb[IFLA_ADDRESS] &&
	    RTA_PAYLOAD(tb[IFLA_ADDRESS]) == 6 && !memcmp(RTA_DATA(tb[IFLA_ADDRESS]), n->mac, 6))
		n->index = ifi->ifi_index;
	return 0;
}

/* Down, renamed (to a temporary name first, so that two cards may trade
 * names), MTU; up comes once every card is named. */
static int link_set(int nl, struct nic *n, const char *name, bool up, struct husk_err *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = n->index,
				.ifi_flags = up ? IFF_UP : 0,
				.ifi_change = IFF_UP};
	struct husk_nl_msg m;

	husk_nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (name)
		husk_nl_put_str(&m, IFLA_IFNAME, name);
	if (!up)
		husk_nl_put_u32(&m, IFLA_MTU, n->mtu);
	return husk_nl_call(nl, &m, up ? "bring the card up" : "name the card", err);
}

static int add_addr(int nl, const struct nic *n, const struct cidr *c, struct husk_err *err)
{
	struct ifaddrmsg ifa = {.ifa_family = (unsigned char)c->family,
				.ifa_prefixlen = (unsigned char)c->len,
				.ifa_index = (unsigned int)n->index};
	size_t len = c->family == AF_INET ? 4 : 16;
	struct husk_nl_msg m;

	husk_nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	husk_nl_put(&m, IFA_LOCAL, c->addr, len);
	husk_nl_put(&m, IFA_ADDRESS, c->addr, len);
	/* the host's veth did duplicate address detection for this address */
	husk_nl_put_u32(&m, IFA_FLAGS, IFA_F_NODAD);
	return husk_nl_call(nl, &m, "add address", err);
}

static int add_route(int nl, const struct nic *n, const struct route *r, struct husk_err *err)
{
	struct rtmsg rt = {.rtm_family = (unsigned char)r->dst.family,
			   .rtm_dst_len = (unsigned char)r->dst.len,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = RTPROT_BOOT,
			   .rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
			   .rtm_type = RTN_UNICAST};
	size_t len = r->dst.family == AF_INET ? 4 : 16;
	struct husk_nl_msg m;

	husk_nl_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	if (r->dst.len)
		husk_nl_put(&m, RTA_DST, r->dst.addr, len);
	if (r->has_gw)
		husk_nl_put(&m, RTA_GATEWAY, r->gw, len);
	husk_nl_put_u32(&m, RTA_OIF, (uint32_t)n->index);
	return husk_nl_call(nl, &m, "add route", err);
}

static int apply(int nl, struct nic *nics, size_t n, struct husk_err *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct husk_nl_msg m;
	char tmp[IFNAMSIZ];

	for (size_t i = 0; i < n; i++) {
		husk_nl_init(&m, RTM_GETLINK, 0, &ifi, sizeof(ifi));
		if (husk_nl_dump(nl, &m, on_link, &nics[i], "list links", err) < 0)
			return -1;
		if (nics[i].index == 0)
			return husk_err_plain(err, ENODEV, "network: no card with MAC of %s",
					      nics[i].name);
		snprintf(tmp, sizeof(tmp), "husknet%zu", i);
		if (link_set(nl, &nics[i], tmp, false, err) < 0)
			return husk_err_prefix(err, "network: %s", nics[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		if (link_set(nl, &nics[i], nics[i].name, false, err) < 0 ||
		    link_set(nl, &nics[i], NULL, true, err) < 0)
			return husk_err_prefix(err, "network: %s", nics[i].name);
		for (size_t j = 0; j < nics[i].n_addrs; j++)
			if (add_addr(nl, &nics[i], &nics[i].addrs[j], err) < 0)
				return husk_err_prefix(err, "network: %s", nics[i].name);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < nics[i].n_routes; j++)
			if (add_route(nl, &nics[i], &nics[i].routes[j], err) < 0)
				return husk_err_prefix(err, "network: %s: routes[%zu]",
						       nics[i].name, j);
	return 0;
}

int agent_net_setup(const struct agent *a, const json_t *config, struct husk_err *err)
{
	static struct nic nics[MAX_IFS];
	size_t n;
	int nl, r;

	if (parse(config, nics, &n, err) < 0)
		return -1;
	/* the test mode runs on a host, whose cards are not the guest's */
	if (n == 0 || !a->init)
		return 0;
	nl = husk_nl_open(err);
	if (nl < 0)
		return -1;
	r = apply(nl, nics, n, err);
	close(nl);
	return r;
}
