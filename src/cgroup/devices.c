/* Device access: the v1 devices controller's allow/deny lists, or on
 * cgroup v2 the eBPF filter from devices_bpf.c loaded and attached with the
 * raw bpf() syscall. Either way: deny everything, then the rules in order. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/devices_bpf.h"
#include "cgroup/internal.h"
#include "util/cleanup.h"

#define RULE(t, maj, min, acc)                                                                     \
	{                                                                                          \
		.allow = true, .type = t, .major = maj, .minor = min, .access = acc                \
	}

/* runc's defaults, appended after the config's own rules. */
const struct husk_device_rule cg_default_device_rules[] = {
    RULE('c', -1, -1, "m"),    RULE('b', -1, -1, "m"), /* mknod of any node */
    RULE('c', 1, 3, "rwm"),			       /* /dev/null */
    RULE('c', 1, 8, "rwm"),			       /* /dev/random */
    RULE('c', 1, 7, "rwm"),			       /* /dev/full */
    RULE('c', 5, 0, "rwm"),			       /* /dev/tty */
    RULE('c', 1, 5, "rwm"),			       /* /dev/zero */
    RULE('c', 1, 9, "rwm"),			       /* /dev/urandom */
    RULE('c', 136, -1, "rwm"),			       /* /dev/pts/N */
    RULE('c', 5, 2, "rwm"),			       /* /dev/ptmx */
    RULE('c', 10, 200, "rwm"),			       /* /dev/net/tun */
};
const size_t cg_n_default_device_rules =
    sizeof(cg_default_device_rules) / sizeof(cg_default_device_rules[0]);

/* A major or minor number, '*' for any; returns the length written. This
 * runs for every rule of every container, so it avoids printf. */
static size_t fmt_num(char *buf, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = (uint64_t)v;

	if (v < 0) {
		buf[0] = '*';
		return 1;
	}
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	memcpy(buf, p, (size_t)(tmp + sizeof(tmp) - p));
	return (size_t)(tmp + sizeof(tmp) - p);
}

/* "<type> <major>:<minor> <access>" into line (at least 96 bytes). */
static void fmt_rule(char *line, char type, int64_t major, int64_t minor, const char *acc)
{
	size_t n = 0, alen = strnlen(acc, 32);

	line[n++] = type;
	line[n++] = ' ';
	n += fmt_num(line + n, major);
	line[n++] = ':';
	n += fmt_num(line + n, minor);
	line[n++] = ' ';
	memcpy(line + n, acc, alen);
	line[n + alen] = '\0';
}

static int open_rules_file(const struct cg_hier *h, const char *file, struct husk_err *err)
{
	char path[4096];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", h->dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		husk_err_sys(err, "linux.resources.devices: open %s", path);
	return fd;
}

/* The kernel parses every write() to devices.allow/deny as one rule, so one
 * fd per file serves the whole list. */
static int write_rule(int fd, size_t i, const char *line, struct husk_err *err)
{
	ssize_t len = (ssize_t)strlen(line);
	if (write(fd, line, (size_t)len) != len)
		return husk_err_sys(err, "linux.resources.devices[%zu]: write \"%s\"", i, line);
	return 0;
}

int cg_devices_v1(const struct cg_hier *h, const struct husk_device_rule *rules, size_t n,
		  struct husk_err *err)
{
	_cleanup_close_ int deny = open_rules_file(h, "devices.deny", err);
	_cleanup_close_ int allow = deny < 0 ? -1 : open_rules_file(h, "devices.allow", err);

	if (allow < 0 || write_rule(deny, 0, "a", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct husk_device_rule *r = &rules[i];
		const char *acc = r->access[0] ? r->access : "rwm";
		bool all_access = strchr(acc, 'r') && strchr(acc, 'w') && strchr(acc, 'm');
		int fd = r->allow ? allow : deny;
		char line[96];

		/* The kernel reads "a" as every device and every access, whatever
		 * follows: a partial-access 'a' rule becomes a 'c' and a 'b' rule. */
		if (r->type == 'a' && all_access) {
			if (write_rule(fd, i, "a", err) < 0)
				return -1;
			continue;
		}
		if (r->type == 'a') {
			fmt_rule(line, 'b', -1, -1, acc);
			if (write_rule(fd, i, line, err) < 0)
				return -1;
		}
		if (r->type == 'a')
			fmt_rule(line, 'c', -1, -1, acc);
		else
			fmt_rule(line, r->type, r->major, r->minor, acc);
		if (write_rule(fd, i, line, err) < 0)
			return -1;
	}
	return 0;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int cg_devices_v2(const struct cg_hier *h, const struct husk_device_rule *rules, size_t n,
		  struct husk_err *err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int prog = -1, dir = -1;
	union bpf_attr attr;
	size_t count;
	char log[4096];

	if (husk_devices_bpf_build(rules, n, &insns, &count, err) < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)count;
	attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
	prog = bpf_call(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		/* Load again with the verifier log so the error says why. */
		int saved = errno;
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = sizeof(log);
		attr.log_level = 1;
		bpf_call(BPF_PROG_LOAD, &attr);
		log[strcspn(log, "\n")] = '\0';
		return husk_err_set(err, saved, "load device filter for %s%s%s", h->dir,
				    log[0] ? ": " : "", log);
	}
	dir = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return husk_err_sys(err, "open cgroup %s", h->dir);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
		return husk_err_sys(err, "attach device filter to %s", h->dir);
	/* The attachment holds the program; our fd can go. */
	return 0;
}
