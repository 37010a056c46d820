/* The floor: the least a container start must do for the bench's config.json.
 *
 * It clones into the same namespaces as the bench config (mount, pid, ipc, uts and,
 * with -n, network), does the same mounts (bind root, proc, tmpfs /dev with device
 * nodes, devpts, shm, mqueue, sysfs, masked and read-only paths, read-only root),
 * pivots, sets hostname, rlimit, no_new_privs and the capability sets, executes
 * /bin/true and waits for it. No JSON, no state directory, no error reporting beyond
 * the exit status. With -c PATH it also creates, joins and removes a cgroup PATH in
 * every v1 hierarchy, like a runtime does for cgroupsPath, with the config's device
 * rules (deny all, then the default devices).
 *
 * Usage: floor [-n] [-c CGROUP_PATH] ROOTFS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *const v1_controllers[] = {"cpu",	"cpuacct", "cpuset", "memory", "devices",
					     "freezer", "blkio",   "pids",   "systemd"};
#define N_CONTROLLERS (sizeof(v1_controllers) / sizeof(v1_controllers[0]))

static const char *const masked_paths[] = {
    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",	   "/proc/scsi"};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					     "/proc/sysrq-trigger"};

struct device {
	const char *path;
	unsigned int major, minor;
};
static const struct device devices[] = {{"dev/null", 1, 3},    {"dev/zero", 1, 5},
					{"dev/full", 1, 7},    {"dev/random", 1, 8},
					{"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Any failure in the child ends it with a distinct status, so the parent can say where. */
static void die(int step)
{
	_exit(100 + step);
}

static void must(int rc, int step)
{
	if (rc < 0 && errno != ENOENT)
		die(step);
}

static void mount_filesystems(void)
{
	must(mount("proc", "proc", "proc", 0, NULL), 1);
	must(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"), 2);
	for (size_t i = 0; i < N(devices); i++) {
		if (mknod(devices[i].path, S_IFCHR | 0666,
			  makedev(devices[i].major, devices[i].minor)) < 0)
			die(3);
		/* mknod is subject to the umask; the nodes must be 0666. */
		if (chmod(devices[i].path, 0666) < 0)
			die(3);
	}
	if (mkdir("dev/pts", 0755) < 0 || mkdir("dev/shm", 0755) < 0 ||
	    mkdir("dev/mqueue", 0755) < 0)
		die(4);
	must(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		   "newinstance,ptmxmode=0666,mode=0620,gid=5"),
	     5);
	must(mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
		   "mode=1777,size=65536k"),
	     6);
	must(mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL), 7);
	must(mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL), 8);
	if (symlink("/proc/self/fd", "dev/fd") < 0 || symlink("/proc/self/fd/0", "dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "dev/stderr") < 0 || symlink("pts/ptmx", "dev/ptmx") < 0)
		die(9);
}

static void mask_and_protect(void)
{
	struct stat st;
	for (size_t i = 0; i < N(masked_paths); i++) {
		if (stat(masked_paths[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			must(mount("tmpfs", masked_paths[i], "tmpfs", MS_RDONLY, NULL), 20);
		else
			must(mount("/dev/null", masked_paths[i], NULL, MS_BIND, NULL), 21);
	}
	for (size_t i = 0; i < N(readonly_paths); i++) {
		if (mount(readonly_paths[i], readonly_paths[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			die(22);
		}
		must(mount(NULL, readonly_paths[i], NULL,
			   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			   NULL),
		     23);
	}
	must(mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), 24);
}

static void loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die(30);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die(31);
	close(fd);
}

static void drop_privileges(void)
{
	const unsigned int keep[] = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
	unsigned long long mask = 0;
	for (size_t i = 0; i < N(keep); i++)
		mask |= 1ULL << keep[i];
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(mask & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die(40);
	struct rlimit nofile = {1024, 1024};
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		die(41);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(42);
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0}};
	data[0].effective = data[0].permitted = data[0].inheritable = (unsigned int)mask;
	data[1].effective = data[1].permitted = data[1].inheritable = (unsigned int)(mask >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		die(43);
	for (size_t i = 0; i < N(keep); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep[i], 0, 0) < 0)
			die(44);
}

/* The cheapest join there is: a single-threaded process moving itself through
 * `tasks` skips the kernel's global migration lock (and the RCU grace period
 * its first taker waits for), which a write to cgroup.procs takes. */
static void join_cgroups(const char *cgroup)
{
	char path[512];
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		snprintf(path, sizeof(path), CGROUP_ROOT "/%s%s/tasks", v1_controllers[i], cgroup);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			die(50);
		close(fd);
	}
}

static int child(const char *rootfs, int netns, const char *cgroup)
{
	if (cgroup)
		join_cgroups(cgroup);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(60);
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(rootfs) < 0)
		die(61);
	mount_filesystems();
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die(62);
	mask_and_protect();
	if (sethostname("bench", 5) < 0)
		die(63);
	if (netns)
		loopback_up();
	drop_privileges();
	char *argv[] = {"/bin/true", NULL};
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	execve(argv[0], argv, envp);
	die(70);
	return 1;
}

/* A new v1 cpuset is empty and cannot hold tasks: give it its parent's cpus and mems. */
static void copy_cpuset(const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char path[600], buf[256];
	for (size_t i = 0; i < N(files); i++) {
		snprintf(path, sizeof(path), "%s/../%s", dir, files[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (fd >= 0)
			close(fd);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (n <= 0 || fd < 0 || write(fd, buf, (size_t)n) != n)
			perror(path), exit(1);
		close(fd);
	}
}

/* The config's deny-all rule, then the devices every container gets (the nodes the
 * floor creates, /dev/tty, /dev/ptmx and the ptys), as runtimes write them. */
static void device_rules(const char *dir)
{
	static const char *const rules[] = {"a",	 "c 1:3 rwm", "c 1:5 rwm",
					    "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
					    "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"};
	char path[600];
	for (size_t i = 0; i < N(rules); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
			 i == 0 ? "devices.deny" : "devices.allow");
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, rules[i], strlen(rules[i])) < 0)
			perror(path), exit(1);
		close(fd);
	}
}

static void make_cgroups(const char *cgroup, int remove)
{
	char path[512];
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		snprintf(path, sizeof(path), CGROUP_ROOT "/%s%s", v1_controllers[i], cgroup);
		if (remove)
			rmdir(path);
		else if (mkdir(path, 0755) < 0 && errno != EEXIST)
			perror(path), exit(1);
		else if (strcmp(v1_controllers[i], "cpuset") == 0)
			copy_cpuset(path);
		else if (strcmp(v1_controllers[i], "devices") == 0)
			device_rules(path);
	}
}

int main(int argc, char **argv)
{
	int netns = 0, opt;
	const char *cgroup = NULL;
	while ((opt = getopt(argc, argv, "nc:")) != -1) {
		if (opt == 'n')
			netns = 1;
		else if (opt == 'c')
			cgroup = optarg;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: floor [-n] [-c CGROUP_PATH] ROOTFS\n");
		return 2;
	}
	if (cgroup)
		make_cgroups(cgroup, 0);
	long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
	if (netns)
		flags |= CLONE_NEWNET;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		perror("clone");
		return 1;
	}
	if (pid == 0)
		return child(argv[optind], netns, cgroup);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (cgroup)
		make_cgroups(cgroup, 1);
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
		fprintf(stderr, "floor: child failed at step %d\n", WEXITSTATUS(status) - 100);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
