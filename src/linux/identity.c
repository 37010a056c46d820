/* The process's user: supplementary groups, gid, uid, umask. Capabilities
 * are applied afterwards by caps.c, so a non-root user keeps its permitted
 * set across setresuid through PR_SET_KEEPCAPS. */
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/internal.h"

int husk_identity_apply(const struct husk_user *user, bool setgroups_allowed, bool keep_caps,
			struct husk_err *err)
{
	if (keep_caps && user->uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return husk_err_sys(err, "prctl PR_SET_KEEPCAPS");
	if (setgroups_allowed) {
		if (setgroups(user->n_additional_gids, user->additional_gids) < 0)
			return husk_err_sys(err, "setgroups");
	} else if (user->n_additional_gids > 0) {
		return husk_err_set(err, EPERM,
				    "setgroups: additionalGids need a user namespace that allows "
				    "setgroups (rootless with one gid mapping denies it)");
	}
	if (setresgid(user->gid, user->gid, user->gid) < 0)
		return husk_err_sys(err, "setresgid %u", (unsigned)user->gid);
	if (setresuid(user->uid, user->uid, user->uid) < 0)
		return husk_err_sys(err, "setresuid %u", (unsigned)user->uid);
	umask(user->has_umask ? user->umask : 0022);
	return 0;
}
