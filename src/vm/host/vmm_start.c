/* Starting the hypervisor: a child of the monitor that dies with it, in
 * mount, ipc and uts namespaces of its own, with no capabilities and
 * no_new_privs: once its fds are in, QEMU needs no privilege. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm/host/vm.h"

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = 40;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 40;
		fclose(f);
	}
	return n;
}

static int drop_privileges(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	for (int cap = 0; cap <= last_cap(); cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	if (syscall(SYS_capset, &h, d) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* stdin from /dev/null, stdout and stderr to a log in the state directory:
 * never the container's stdio, which the monitor relays. */
int husk_vm_child_stdio(const char *log)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (null < 0 || out < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return -1;
	close(null);
	close(out);
	return 0;
}

__attribute__((noreturn)) static void vmm_child(char **argv, int agent_fd,
						const struct husk_vm_net *net)
{
	const char *step = "stdio";

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (husk_vm_child_stdio(HUSK_VM_VMM_LOG) < 0)
		goto fail;
	step = "keep agent fd";
	if (fcntl(agent_fd, F_SETFD, 0) < 0)
		goto fail;
	step = "keep tap fds";
	for (size_t i = 0; net && i < net->n; i++)
		if (fcntl(net->nic[i].tap_fd, F_SETFD, 0) < 0)
			goto fail;
	step = "unshare";
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		goto fail;
	step = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = "drop privileges";
	if (drop_privileges() < 0)
		goto fail;
	execv(argv[0], argv);
	step = "exec";
fail:
	fprintf(stderr, "husk vm: start %s: %s: %s\n", argv[0], step, strerror(errno));
	_exit(127);
}

/* The hypervisor's command line, NUL-separated, in the state directory: what
 * to look at when a guest misbehaves, and what bench/vm.py replays to time
 * the same VM without husk. Best effort: the VM does not depend on it. */
static void record_argv(char **argv)
{
	int fd = open(HUSK_VM_ARGV_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	for (size_t i = 0; fd >= 0 && argv[i]; i++)
		if (write(fd, argv[i], strlen(argv[i]) + 1) < 0)
			break;
	if (fd >= 0)
		close(fd);
}

pid_t husk_vm_vmm_start(const struct husk_vmm *vmm, const struct husk_vm_plan *plan, int agent_fd,
			const struct husk_vm_net *net, struct husk_err *err)
{
	char **argv = vmm->build_argv(plan, agent_fd, net, err);
	pid_t pid;

	if (!argv)
		return -1;
	record_argv(argv);
	pid = fork();
	if (pid == 0)
		vmm_child(argv, agent_fd, net);
	husk_argv_free(argv);
	if (pid < 0)
		return husk_err_sys(err, "fork %s", vmm->name);
	return pid;
}
