/* process.rlimits, applied in the container process before the user
 * switch. A refusal names the limit: on hosts where root lacks
 * CAP_SYS_RESOURCE raising a hard limit fails, and the user must see which. */
#include <sys/resource.h>

#include "linux/internal.h"

static const char *const rlimit_names[] = {
    [RLIMIT_CPU] = "RLIMIT_CPU",	   [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
    [RLIMIT_DATA] = "RLIMIT_DATA",	   [RLIMIT_STACK] = "RLIMIT_STACK",
    [RLIMIT_CORE] = "RLIMIT_CORE",	   [RLIMIT_RSS] = "RLIMIT_RSS",
    [RLIMIT_NPROC] = "RLIMIT_NPROC",	   [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
    [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
    [RLIMIT_LOCKS] = "RLIMIT_LOCKS",	   [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
    [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
    [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",	   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

const char *husk_rlimit_name(int resource)
{
	if (resource < 0 || (size_t)resource >= sizeof(rlimit_names) / sizeof(rlimit_names[0]) ||
	    !rlimit_names[resource])
		return "RLIMIT_?";
	return rlimit_names[resource];
}

int husk_rlimits_apply(const struct husk_process *proc, struct husk_err *err)
{
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		const struct husk_rlimit *r = &proc->rlimits[i];
		struct rlimit lim = {.rlim_cur = r->soft, .rlim_max = r->hard};
		if (setrlimit((__rlimit_resource_t)r->resource, &lim) < 0)
			return husk_err_sys(err, "setrlimit %s", husk_rlimit_name(r->resource));
	}
	return 0;
}
