/* Linux security modules: what the config asks for in confinement
 * (process.apparmorProfile, process.selinuxLabel, linux.mountLabel) is
 * applied, or the container is refused. A profile the host cannot enforce
 * must never turn into a container that runs unconfined without a word. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "linux/internal.h"
#include "util/cleanup.h"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

#define APPARMOR_ENABLED "/sys/module/apparmor/parameters/enabled"
#define APPARMOR_FS	 "/sys/kernel/security/apparmor"
#define SELINUX_FS	 "/sys/fs/selinux"

/* As runc decides it: the module says "Y" and its securityfs is there. */
static bool apparmor_enabled(void)
{
	char c = 0;
	_cleanup_close_ int fd = open(APPARMOR_ENABLED, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, &c, 1) != 1 || c != 'Y')
		return false;
	return access(APPARMOR_FS, F_OK) == 0;
}

static bool selinux_enabled(void)
{
	struct statfs sfs;
	return statfs(SELINUX_FS, &sfs) == 0 && sfs.f_type == SELINUX_MAGIC;
}

static bool set(const char *s)
{
	return s && *s;
}

/* A profile that confines: "unconfined" asks for what a host without
 * AppArmor gives anyway, so it is no reason to refuse. */
static bool apparmor_confines(const char *profile)
{
	return set(profile) && strcmp(profile, "unconfined") != 0;
}

int husk_lsm_check(const struct husk_process *proc, const char *mount_label, bool exec,
		   struct husk_err *err)
{
	if (proc && apparmor_confines(proc->apparmor_profile) && !apparmor_enabled())
		return husk_err_plain(err, ENOTSUP,
				      "%s \"%s\": AppArmor is not enabled on this host (%s is not "
				      "Y or %s is missing); remove the field to run unconfined",
				      exec
					  ? "apparmor profile (--apparmor, process.apparmorProfile)"
					  : "process.apparmorProfile",
				      proc->apparmor_profile, APPARMOR_ENABLED, APPARMOR_FS);
	if (proc && set(proc->selinux_label) && !selinux_enabled())
		return husk_err_plain(
		    err, ENOTSUP,
		    "%s \"%s\": SELinux is not enabled on this host (no selinuxfs "
		    "at %s); remove the field to run unlabelled",
		    exec ? "SELinux label (--process-label, process.selinuxLabel)"
			 : "process.selinuxLabel",
		    proc->selinux_label, SELINUX_FS);
	if (set(mount_label) && !selinux_enabled())
		return husk_err_plain(
		    err, ENOTSUP,
		    "linux.mountLabel \"%s\": SELinux is not enabled on this host "
		    "(no selinuxfs at %s); remove the field to mount unlabelled",
		    mount_label, SELINUX_FS);
	return 0;
}

static int write_attr(const char *path, const char *value, struct husk_err *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		return husk_err_sys(err, "write \"%s\" to %s", value, path);
	return 0;
}

static int apply_apparmor(const char *profile, struct husk_err *err)
{
	/* The module's own directory where the kernel has stacking (5.8+). */
	const char *path = access("/proc/thread-self/attr/apparmor/exec", F_OK) == 0
			       ? "/proc/thread-self/attr/apparmor/exec"
			       : "/proc/thread-self/attr/exec";
	char buf[4096];

	if ((size_t)snprintf(buf, sizeof(buf), "exec %s", profile) >= sizeof(buf))
		return husk_err_plain(err, ENAMETOOLONG, "process.apparmorProfile too long");
	if (write_attr(path, buf, err) == 0)
		return 0;
	/* "unconfined" where no AppArmor takes it (husk_lsm_check let it
	 * through): there is no confinement to leave. */
	if (!apparmor_confines(profile)) {
		husk_err_clear(err);
		return 0;
	}
	return husk_err_prefix(err, "apply AppArmor profile %s", profile);
}

/* Both take effect at the next execve, so they go on last of all. */
int husk_lsm_apply(const struct husk_process *proc, struct husk_err *err)
{
	if (set(proc->apparmor_profile) && apply_apparmor(proc->apparmor_profile, err) < 0)
		return -1;
	if (set(proc->selinux_label) &&
	    write_attr("/proc/thread-self/attr/exec", proc->selinux_label, err) < 0)
		return husk_err_prefix(err, "apply SELinux label %s", proc->selinux_label);
	return 0;
}
