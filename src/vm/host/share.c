/* The share: virtiofsd exports <state>/share to the guest. The rootfs and
 * every bind source are bind-mounted under it in a mount namespace made for
 * virtiofsd alone, so the host's mount table never shows them and the
 * state directory stays removable. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/host/vm.h"
#include "vm/proto.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"

/* A bind source is a file or a directory; its mount point must be the same. */
static int bind_into(const char *src, const char *dst)
{
	struct stat st;
	int fd;

	if (stat(src, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0700) < 0 && errno != EEXIST)
			return -1;
	} else {
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
}

__attribute__((noreturn)) static void fail(const char *what, const char *obj)
{
	/* stderr is the monitor's log file for this child (monitor.c). */
	fprintf(stderr, "husk vm share: %s %s: %s\n", what, obj, strerror(errno));
	_exit(127);
}

static void bind_mounts(const char *bundle, const json_t *config)
{
	json_t *mounts = json_object_get(config, "mounts"), *m;
	char src[4096], dst[64];
	size_t i;

	if (mkdir(HUSK_VM_SHARE_DIR "/mounts", 0700) < 0 && errno != EEXIST)
		fail("mkdir", HUSK_VM_SHARE_DIR "/mounts");
	json_array_foreach(mounts, i, m)
	{
		const char *s;
		if (!husk_vm_mount_is_bind(m))
			continue;
		s = json_string_value(json_object_get(m, "source"));
		snprintf(src, sizeof(src), "%s%s%s", s[0] == '/' ? "" : bundle,
			 s[0] == '/' ? "" : "/", s);
		snprintf(dst, sizeof(dst), HUSK_VM_SHARE_DIR "/mounts/%zu", i);
		if (bind_into(src, dst) < 0)
			fail("bind mount source", src);
	}
}

__attribute__((noreturn)) static void share_child(const char *rootfs, const char *bundle,
						  const json_t *config, int listen_fd)
{
	char fdarg[32], cwd[4096], source[4200];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fcntl(listen_fd, F_SETFD, 0) < 0)
		fail("keep", "virtiofsd socket");
	if (husk_vm_child_stdio("virtiofsd.log") < 0)
		fail("stdio", "virtiofsd.log");
	if (unshare(CLONE_NEWNS) < 0)
		fail("unshare", "mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		fail("make / a slave", "");
	if (bind_into(rootfs, HUSK_VM_SHARE_DIR "/rootfs") < 0)
		fail("bind mount rootfs", rootfs);
	bind_mounts(bundle, config);
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", listen_fd);
	/* virtiofsd wants the source absolute: the state directory is our cwd */
	if (!getcwd(cwd, sizeof(cwd)))
		fail("getcwd", "");
	snprintf(source, sizeof(source), "source=%s/%s", cwd, HUSK_VM_SHARE_DIR);
	execl(VIRTIOFSD, VIRTIOFSD, fdarg, "-o", source, "-o", "cache=auto", "-o",
	      "sandbox=namespace", (char *)NULL);
	fail("exec", VIRTIOFSD);
}

pid_t husk_vm_share_start(const char *rootfs, const char *bundle, const json_t *config,
			  int listen_fd, struct husk_err *err)
{
	pid_t pid;

	if (access(VIRTIOFSD, X_OK) < 0)
		return husk_err_sys(err, "virtiofsd %s (install Debian's qemu-system-common)",
				    VIRTIOFSD);
	if (mkdir(HUSK_VM_SHARE_DIR, 0700) < 0 && errno != EEXIST)
		return husk_err_sys(err, "mkdir %s", HUSK_VM_SHARE_DIR);
	pid = fork();
	if (pid < 0)
		return husk_err_sys(err, "fork virtiofsd");
	if (pid == 0)
		share_child(rootfs, bundle, config, listen_fd);
	return pid;
}
