/* A hostile guest for tests/vm/test_vm_hostile_guest.py: PID 1 of a VM that
 * speaks the agent protocol wrongly on purpose, one way chosen by the kernel
 * command line's `hostile=MODE`. The host must refuse each, name the rule
 * broken, and leave nothing behind. Built static by the test. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define MAGIC 0x48564d01u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void frame(int fd, uint32_t magic, uint16_t type, uint16_t flags, uint32_t stream,
		  uint32_t len, const char *payload)
{
	uint8_t h[16];

	put32(h, magic);
	h[4] = (uint8_t)type;
	h[5] = (uint8_t)(type >> 8);
	h[6] = (uint8_t)flags;
	h[7] = (uint8_t)(flags >> 8);
	put32(h + 8, stream);
	put32(h + 12, len);
	if (write(fd, h, sizeof(h)) < 0 || (payload && write(fd, payload, strlen(payload)) < 0))
		perror("hostile: write");
}

static void hello(int fd)
{
	const char *p = "{\"version\":1,\"boot_ns\":1}";
	frame(fd, MAGIC, 1, 0, 0, (uint32_t)strlen(p), p);
}

/* The agent port: the one virtio port whose name is org.husk.agent. */
static int open_port(void)
{
	char path[300], name[64];
	struct dirent *e;
	DIR *d = opendir("/sys/class/virtio-ports");
	int fd = -1;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		int n = open(path, O_RDONLY);
		ssize_t len = n >= 0 ? read(n, name, sizeof(name) - 1) : -1;
		if (n >= 0)
			close(n);
		if (len > 0 && strncmp(name, "org.husk.agent", 14) == 0) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR);
		}
	}
	return fd;
}

int main(void)
{
	char cmdline[1024] = "", *mode;
	int fd;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0 && read(fd, cmdline, sizeof(cmdline) - 1) < 0)
		cmdline[0] = '\0';
	mode = strstr(cmdline, "hostile=");
	mode = mode ? mode + 8 : "";
	fd = open_port();
	if (fd < 0) {
		fprintf(stderr, "hostile: no agent port\n");
	} else if (strncmp(mode, "badmagic", 8) == 0) {
		frame(fd, 0xdeadbeef, 1, 0, 0, 0, NULL);
	} else if (strncmp(mode, "version", 7) == 0) {
		frame(fd, MAGIC + 1, 1, 0, 0, 0, NULL);
	} else if (strncmp(mode, "oversize", 8) == 0) {
		frame(fd, MAGIC, 1, 0, 0, 64u << 20, NULL);
	} else if (strncmp(mode, "hosttype", 8) == 0) {
		frame(fd, MAGIC, 32, 0, 0, 2, "{}"); /* CREATE: only the host sends it */
	} else if (strncmp(mode, "flags", 5) == 0) {
		frame(fd, MAGIC, 1, 0x8000, 0, 2, "{}");
	} else if (strncmp(mode, "badjson", 7) == 0) {
		frame(fd, MAGIC, 1, 0, 0, 9, "{not json");
	} else if (strncmp(mode, "badfield", 8) == 0) {
		const char *p = "{\"version\":1,\"boot_ns\":-5}";
		frame(fd, MAGIC, 1, 0, 0, (uint32_t)strlen(p), p);
	} else if (strncmp(mode, "badexit", 7) == 0) {
		/* a good hello, then the init "exits" with a status out of range */
		hello(fd);
		const char *p = "{\"status\":300}";
		frame(fd, MAGIC, 7, 0, 0, (uint32_t)strlen(p), p);
	} else if (strncmp(mode, "shortframe", 10) == 0) {
		/* a header promising more than ever comes, then the port closes */
		hello(fd);
		frame(fd, MAGIC, 5, 0, 0, 1000, "only a little");
		close(fd);
		fd = -1;
	}
	sleep(2);
	reboot(RB_AUTOBOOT);
	return 0;
}
