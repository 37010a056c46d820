/* The CVE-2019-5736 decision: when a command must run from a sealed copy of
 * husk's binary before its process meets the container's. */
#include "linux/selfexe.h"
#include "runtime/internal.h"

bool husk_entry_meets_running(enum husk_entry e, const struct husk_spec *spec)
{
	const struct husk_namespace *pid;

	if (e == HUSK_ENTRY_EXEC)
		return true;
	/* A new pid namespace holds only the new process; a shared or joined
	 * one holds whatever already runs there. */
	pid = &spec->linux.ns[HUSK_NS_PID];
	return !pid->enabled || pid->path;
}

int husk_guard_entry(enum husk_entry e, const struct husk_spec *spec, struct husk_err *err)
{
	if (!husk_entry_meets_running(e, spec))
		return 0;
	return husk_selfexe_protect(err);
}
