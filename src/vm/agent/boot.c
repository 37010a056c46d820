/* The guest's boot as PID 1: the filesystems husk and the container need,
 * the loopback interface, and the virtio-serial port to the host. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/cleanup.h"
#include "vm/agent/agent.h"

#define PORTS_DIR "/sys/class/virtio-ports"
#define SHARE_DIR "/run/husk/share"
/* The port's device node may appear a little after init starts (devtmpfs
 * creates it asynchronously): look for it this long. */
#define PORT_WAIT_MS 5000
/* How long to wait for the host to connect to its end of the port. */
#define HOST_WAIT_MS 60000

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int mount_at(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *data, struct husk_err *err)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return husk_err_sys(err, "mkdir %s", dst);
	if (mount(src, dst, type, flags, data) < 0)
		return husk_err_sys(err, "mount %s on %s", type, dst);
	return 0;
}

/* The initramfs is the rootfs mount, which pivot_root(2) refuses to move
 * (EINVAL), and husk pivots into every container's root. So the guest's
 * root becomes a tmpfs mounted over it, as switch_root does: a mount with
 * a parent, which can be pivoted away from. */
static int switch_root(struct husk_err *err)
{
	static const char *const dirs[] = {"dev", "proc", "sys", "run", "tmp"};

	if (mount_at("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/newroot/%s", dirs[i]);
		if (mkdir(path, 0755) < 0)
			return husk_err_sys(err, "mkdir %s", path);
	}
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return husk_err_sys(err, "move the root to a tmpfs");
	return 0;
}

int agent_mount_proc(struct husk_err *err)
{
	/* Done already when the agent re-executed itself (selfexe). */
	if (access("/proc/self/exe", F_OK) == 0)
		return 0;
	if (switch_root(err) < 0)
		return -1;
	return mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
}

/* Every controller the kernel has, for the container's cgroup below the
 * root; one that cannot be enabled is left off (and logged). */
static void enable_controllers(void)
{
	char buf[512], *save = NULL;
	_cleanup_close_ int fd = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int ctl = -1;
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0)
		return;
	buf[n] = '\0';
	ctl = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
	if (ctl < 0)
		return;
	for (char *c = strtok_r(buf, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		char want[64];
		int len = snprintf(want, sizeof(want), "+%s", c);
		if (len > 0 && (size_t)len < sizeof(want) && write(ctl, want, (size_t)len) < 0)
			agent_log("cgroup controller %s: %s", c, strerror(errno));
	}
}

static int loopback_up(struct husk_err *err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};

	if (fd < 0)
		return husk_err_sys(err, "socket for lo");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return husk_err_sys(err, "get flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return husk_err_sys(err, "bring lo up");
	return 0;
}

/* devpts's own ptmx is 0666 by ptmxmode; /dev/ptmx (devtmpfs's node, or a
 * link where the kernel made none) opens the instance at /dev/pts. */
static void ptmx_usable(void)
{
	if (access("/dev/ptmx", F_OK) < 0 && symlink("pts/ptmx", "/dev/ptmx") < 0)
		agent_log("link /dev/ptmx: %s", strerror(errno));
	else
		chmod("/dev/ptmx", 0666);
}

int agent_boot(struct husk_err *err)
{
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (mount_at("sysfs", "/sys", "sysfs", nse, NULL, err) < 0 ||
	    mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err) < 0 ||
	    mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620", err) < 0 ||
	    mount_at("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err) < 0 ||
	    mount_at("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0 ||
	    mount_at("cgroup2", "/sys/fs/cgroup", "cgroup2", nse, NULL, err) < 0)
		return -1;
	agent_ensure_std_fds();
	ptmx_usable();
	enable_controllers();
	if (mkdir("/run/husk", 0700) < 0 || mkdir("/run/husk/state", 0700) < 0 ||
	    mkdir("/run/husk/bundle", 0700) < 0 || mkdir("/run/husk/agent", 0700) < 0)
		return husk_err_sys(err, "mkdir /run/husk");
	/* A VM without the share can still say HELLO; CREATE then fails on
	 * the missing rootfs, with this line in the log to say why. */
	struct husk_err share = {0};
	if (mount_at(HUSK_VM_FS_TAG, SHARE_DIR, "virtiofs", MS_NODEV, NULL, &share) < 0)
		agent_log("%s", share.msg);
	struct husk_err lo = {0};
	if (loopback_up(&lo) < 0)
		agent_log("%s", lo.msg);
	return 0;
}

/* The kernel gives init /dev/console as 0, 1 and 2 when the initramfs has
 * it; otherwise they are closed, and the first fds the agent opens would
 * take their place (and be swapped away around each create). */
void agent_ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/console", O_RDWR | O_NOCTTY);
		if (n < 0)
			n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

static bool port_is_ours(const char *dir)
{
	char path[PATH_MAX], name[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/name", PORTS_DIR, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, name, sizeof(name) - 1)) < 0)
		return false;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	return strcmp(name, HUSK_VM_PORT_NAME) == 0;
}

static int open_port(struct husk_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(PORTS_DIR);
	struct dirent *e;

	if (!d)
		return husk_err_sys(err, "open %s", PORTS_DIR);
	while ((e = readdir(d))) {
		char dev[300];
		if (e->d_name[0] == '.' || !port_is_ours(e->d_name))
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return husk_err_sys(err, "open %s", dev);
		return fd;
	}
	return husk_err_plain(err, ENOENT, "no virtio-serial port named %s", HUSK_VM_PORT_NAME);
}

int agent_open_channel(struct husk_err *err)
{
	int64_t deadline = husk_monotonic_ms() + PORT_WAIT_MS;

	for (;;) {
		int fd = open_port(err);
		if (fd >= 0 || husk_monotonic_ms() > deadline)
			return fd;
		sleep_ms(5);
	}
}

/* A virtio-serial port polls POLLHUP while the host end is not connected
 * (and reads return end of file): wait for the host before saying HELLO. */
int agent_wait_host(int fd, struct husk_err *err)
{
	int64_t deadline = husk_monotonic_ms() + HOST_WAIT_MS;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 0) < 0 && errno != EINTR)
			return husk_err_sys(err, "poll the agent channel");
		if (!(p.revents & POLLHUP) && (p.revents & POLLOUT))
			return 0;
		if (husk_monotonic_ms() > deadline)
			return husk_err_plain(err, ETIMEDOUT, "the host never connected to %s",
					      HUSK_VM_PORT_NAME);
		sleep_ms(2);
	}
}
