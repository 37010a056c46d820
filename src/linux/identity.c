/* The process's user: supplementary groups, gid, uid, umask. Capabilities
 * are applied afterwards by caps.c, so a non-root user keeps its permitted
 * set across setresuid through PR_SET_KEEPCAPS. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

int husk_identity_apply(const struct husk_user *user, bool setgroups_allowed, bool keep_caps,
			struct husk_err *err)
{
	if (keep_caps && user->uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return husk_err_sys(err, "prctl PR_SET_KEEPCAPS");
	if (setgroups_allowed) {
		if (setgroups(user->n_additional_gids, user->additional_gids) < 0)
			return husk_err_sys(err, "setgroups");
	} else if (user->n_additional_gids > 0) {
		return husk_err_plain(err, EPERM,
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

/* The image's /etc/passwd, not following magic links (the runtime's own
 * fds must not lead anywhere); a symlinked last component where openat2 is
 * filtered is simply not read. */
static int open_passwd(void)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* "name:pw:uid:gid:gecos:home:shell" -> home of the line for uid. */
static char *home_in_line(char *line, uid_t uid)
{
	char *f[7];
	int n = 0;
	for (char *p = line; n < 7; n++) {
		f[n] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n < 6)
		return NULL;
	char *end;
	unsigned long id = strtoul(f[2], &end, 10);
	if (end == f[2] || *end || id != uid)
		return NULL;
	return f[5];
}

char *husk_passwd_home(uid_t uid)
{
	_cleanup_close_ int fd = open_passwd();
	if (fd < 0)
		return NULL;
	_cleanup_fclose_ FILE *f = fdopen(fd, "re");
	if (!f)
		return NULL;
	fd = -1; /* the FILE owns it now */
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *home = home_in_line(line, uid);
		if (home && *home)
			return strdup(home);
	}
	return NULL;
}
