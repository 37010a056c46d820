/* Per-process attributes from the config that are each one syscall:
 * oom_score_adj (written by the parent, which still has host privileges),
 * personality, I/O priority, scheduler, CPU affinity, NUMA memory policy,
 * session keyring, AppArmor profile and SELinux label (lsm.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

int husk_oom_score_adj_set(pid_t pid, int value, struct husk_err *err)
{
	char path[64], buf[16];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	int len = snprintf(buf, sizeof(buf), "%d", value);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return husk_err_sys(err, "write %d to %s", value, path);
	return 0;
}

static const struct {
	const char *name;
	unsigned long flag;
} personality_flags[] = {
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
    {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
    {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
    {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
    {"SHORT_INODE", SHORT_INODE},
    {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
    {"UNAME26", UNAME26},
    {"WHOLE_SECONDS", WHOLE_SECONDS},
    {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
};

static int apply_personality(const struct husk_personality *pers, struct husk_err *err)
{
	unsigned long persona = pers->domain;

	for (size_t i = 0; i < pers->flags.n; i++) {
		size_t k = 0;
		while (k < HUSK_ARRAY_SIZE(personality_flags) &&
		       strcmp(personality_flags[k].name, pers->flags.v[i]) != 0)
			k++;
		if (k < HUSK_ARRAY_SIZE(personality_flags))
			persona |= personality_flags[k].flag;
		else
			husk_debug("personality flag %s ignored", pers->flags.v[i]);
	}
	if (personality(persona) < 0)
		return husk_err_sys(err, "personality 0x%lx", persona);
	return 0;
}

/* glibc 2.36 has no sched_setattr; this is the kernel's layout (v1). */
struct husk_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int apply_scheduler(const struct husk_scheduler *s, struct husk_err *err)
{
	struct husk_sched_attr attr = {
	    .size = sizeof(attr),
	    .sched_policy = (uint32_t)s->policy,
	    .sched_flags = s->flags,
	    .sched_nice = s->nice,
	    .sched_priority = (uint32_t)s->priority,
	    .sched_runtime = s->runtime,
	    .sched_deadline = s->deadline,
	    .sched_period = s->period,
	};
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return husk_err_sys(err, "sched_setattr policy %d", s->policy);
	return 0;
}

/* "0-3,7" into a cpu set. */
static int parse_cpu_list(const char *list, cpu_set_t *set, struct husk_err *err)
{
	const char *s = list;

	CPU_ZERO(set);
	while (*s) {
		char *end;
		errno = 0;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s || errno)
			goto bad;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s || errno || hi < lo)
				goto bad;
		}
		if (hi >= CPU_SETSIZE)
			goto bad;
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		s = end;
	}
	return 0;
bad:
	return husk_err_plain(err, EINVAL, "invalid cpu list \"%s\"", list);
}

/* `which` names the list (initial, final) in the debug log, which shows
 * the mask of the first 64 CPUs as engines' tests look for it. */
int husk_affinity_apply(const char *list, const char *which, struct husk_err *err)
{
	unsigned long long mask = 0;
	cpu_set_t set;

	if (parse_cpu_list(list, &set, err) < 0)
		return -1;
	for (int cpu = 0; cpu < 64; cpu++)
		if (CPU_ISSET(cpu, &set))
			mask |= 1ULL << cpu;
	husk_debug("%s CPU affinity: 0x%llx (%s)", which, mask, list);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return husk_err_sys(err, "sched_setaffinity %s", list);
	return 0;
}

/* linux.memoryPolicy: the node list (checked by the parser) as the bit
 * mask set_mempolicy(2) takes. */
static int apply_memory_policy(const struct husk_memory_policy *mp, struct husk_err *err)
{
	unsigned long mask[HUSK_MPOL_MAX_NODES / (8 * sizeof(unsigned long))] = {0};
	const unsigned long bits = 8 * sizeof(unsigned long);
	const char *s = mp->nodes;

	while (s && *s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long n = lo; n <= hi && n < HUSK_MPOL_MAX_NODES; n++)
			mask[n / bits] |= 1UL << (n % bits);
		s = *end == ',' ? end + 1 : end;
	}
	/* maxnode counts one past the mask's bits: the kernel drops the last. */
	if (syscall(SYS_set_mempolicy, mp->mode | (int)mp->flags, mp->nodes ? mask : NULL,
		    mp->nodes ? (unsigned long)HUSK_MPOL_MAX_NODES + 1 : 0UL) < 0)
		return husk_err_sys(err, "set_mempolicy mode %d flags 0x%x nodes %s", mp->mode,
				    mp->flags, mp->nodes ? mp->nodes : "(none)");
	return 0;
}

int husk_attrs_apply(const struct husk_spec *spec, const struct husk_process *proc,
		     struct husk_err *err)
{
	if (spec->linux.personality && apply_personality(spec->linux.personality, err) < 0)
		return -1;
	if (proc->has_io_priority &&
	    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    IOPRIO_PRIO_VALUE(proc->io_priority_class, proc->io_priority)) < 0)
		return husk_err_sys(err, "ioprio_set class %d priority %d", proc->io_priority_class,
				    proc->io_priority);
	if (proc->scheduler && apply_scheduler(proc->scheduler, err) < 0)
		return -1;
	/* The process already sits in its cgroup (whose cpuset reset the
	 * initial list, applied before the move), so the final list applies;
	 * the initial one again when no final list is given. */
	if (proc->exec_cpu_affinity_final
		? husk_affinity_apply(proc->exec_cpu_affinity_final, "final", err) < 0
		: proc->exec_cpu_affinity_initial &&
		      husk_affinity_apply(proc->exec_cpu_affinity_initial, "initial", err) < 0)
		return -1;
	/* After the affinity, in the cgroup: the nodes are checked against
	 * the cpuset's mems. */
	if (spec->linux.memory_policy && apply_memory_policy(spec->linux.memory_policy, err) < 0)
		return -1;
	/* While the capabilities a label change may need are still held. */
	return husk_lsm_apply(proc, err);
}

#define HUSK_KEYCTL_JOIN_SESSION_KEYRING 1

/* A fresh session keyring so the container does not share the caller's
 * keys, named "_ses.<id>" as runc names it: the kernel reserves names that
 * start with "." (EPERM), and ids such as ".c1" are valid. NULL id: an
 * anonymous one. Kernels without keys are fine. */
int husk_keyring_join(const char *id, struct husk_err *err)
{
	char name[sizeof("_ses.") + NAME_MAX];

	if (id && snprintf(name, sizeof(name), "_ses.%s", id) >= (int)sizeof(name))
		return husk_err_set(err, ENAMETOOLONG, "join session keyring _ses.%s", id);
	if (syscall(SYS_keyctl, HUSK_KEYCTL_JOIN_SESSION_KEYRING, id ? name : NULL) >= 0 ||
	    errno == ENOSYS)
		return 0;
	return husk_err_sys(err, "join session keyring %s", id ? name : "(anonymous)");
}
