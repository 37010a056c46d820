/* A small rtnetlink helper for the vm backend's networking: the host reads
 * the container's veth and joins a tap to it (host/net.c), the agent sets
 * the guest's card up the same way (agent/net.c). One request at a time,
 * each built in a fixed buffer and answered by an ACK or a dump. */
#pragma once
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define HUSK_NL_BUF 8192

struct husk_nl_msg {
	union {
		struct nlmsghdr h;
		char buf[HUSK_NL_BUF];
	};
	struct nlattr *nest[8]; /* open nested attributes */
	int depth;
	bool overflow;
};

/* A NETLINK_ROUTE socket (close-on-exec) in the caller's network namespace:
 * it stays bound to that namespace after a setns(). */
int husk_nl_open(struct husk_err *err);

/* Start a request of `type` with `flags` (NLM_F_REQUEST is added) and the
 * fixed header `hdr` (struct ifinfomsg, ifaddrmsg, rtmsg, tcmsg...). */
void husk_nl_init(struct husk_nl_msg *m, uint16_t type, uint16_t flags, const void *hdr,
		  size_t hdr_len);
void husk_nl_put(struct husk_nl_msg *m, uint16_t type, const void *data, size_t len);
void husk_nl_put_u32(struct husk_nl_msg *m, uint16_t type, uint32_t v);
void husk_nl_put_str(struct husk_nl_msg *m, uint16_t type, const char *s);
void husk_nl_nest_begin(struct husk_nl_msg *m, uint16_t type);
void husk_nl_nest_end(struct husk_nl_msg *m);

/* Send a request (NLM_F_ACK is added) and wait for its answer: 0, or the
 * kernel's error as -1 with err set to "<what>: <strerror>". */
int husk_nl_call(int fd, struct husk_nl_msg *m, const char *what, struct husk_err *err);

/* Send a dump request (NLM_F_DUMP is added) and call `fn` on each answer
 * message until the dump is done; fn returning < 0 stops it with that. */
typedef int (*husk_nl_dump_fn)(const struct nlmsghdr *h, void *arg, struct husk_err *err);
int husk_nl_dump(int fd, struct husk_nl_msg *m, husk_nl_dump_fn fn, void *arg, const char *what,
		 struct husk_err *err);

/* The attributes after a message's fixed header of hdr_len bytes, by type
 * (tb[0..max]; an attribute of a larger type is skipped). */
void husk_nl_parse(const struct nlmsghdr *h, size_t hdr_len, struct rtattr **tb, int max);
