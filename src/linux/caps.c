/* Capabilities: bounding set drop, then effective/permitted/inheritable in
 * one capset, then ambient raises. Raw syscalls: libcap would only add
 * allocations around the same two calls. The inheritable set is exactly
 * what the config lists, empty by default (CVE-2022-29162). */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/log.h"

static const char *cap_label(int cap, char *buf, size_t len)
{
	const char *name = husk_cap_name(cap);
	if (name)
		return name;
	snprintf(buf, len, "capability %d", cap);
	return buf;
}

/* Drop every capability not in the bounding set; the loop ends at the
 * first number the kernel does not know (EINVAL), which covers kernels
 * newer than our name table. */
int husk_caps_drop_bounding(const struct husk_caps *caps, struct husk_err *err)
{
	for (int cap = 0; cap < 64; cap++) {
		if (caps->bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		char buf[32];
		return husk_err_sys(err, "drop %s from the bounding set",
				    cap_label(cap, buf, sizeof(buf)));
	}
	return 0;
}

static int caps_set(const struct husk_caps *caps, struct husk_err *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(caps->effective >> (32 * i));
		data[i].permitted = (uint32_t)(caps->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(caps->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) == 0)
		return 0;
	int saved = errno;
	/* Name the first capability we could not keep, for the message. */
	struct __user_cap_data_struct cur[2];
	if (syscall(SYS_capget, &hdr, cur) == 0) {
		uint64_t have = cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
		uint64_t missing = (caps->permitted | caps->effective) & ~have;
		if (missing) {
			char buf[32];
			return husk_err_set(err, saved, "capset: %s not available",
					    cap_label(__builtin_ctzll(missing), buf, sizeof(buf)));
		}
	}
	return husk_err_set(err, saved, "capset");
}

int husk_caps_apply(const struct husk_caps *caps, struct husk_err *err)
{
	if (caps_set(caps, err) < 0)
		return -1;
	if (caps->ambient == 0)
		return 0;
	for (int cap = 0; cap < 64; cap++) {
		if (!(caps->ambient & (1ULL << cap)))
			continue;
		/* As runc: an ambient capability that is not also permitted
		 * and inheritable cannot be raised; that is not fatal. */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
			char buf[32];
			husk_warn("cannot raise ambient %s: %s", cap_label(cap, buf, sizeof(buf)),
				  strerror(errno));
		}
	}
	return 0;
}
