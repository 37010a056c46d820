/* Resource statistics in the shape of runc's `events --stats` data, and
 * OOM-kill counting/watching for `events`. Written by hand rather than with
 * jansson: cgroup counters are unsigned 64-bit ("max" is 2^64-1). Fields that
 * runc tags omitempty are left out when zero, as runc does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"

struct jw {
	FILE *f;
	bool first; /* no comma needed before the next member */
};

static void key(struct jw *w, const char *k)
{
	fprintf(w->f, "%s\"%s\":", w->first ? "" : ",", k);
	w->first = false;
}

static void open_obj(struct jw *w, const char *k)
{
	if (k)
		key(w, k);
	fputc('{', w->f);
	w->first = true;
}

static void close_obj(struct jw *w)
{
	fputc('}', w->f);
	w->first = false;
}

static void num(struct jw *w, const char *k, uint64_t v, bool omitempty)
{
	if (omitempty && v == 0)
		return;
	key(w, k);
	fprintf(w->f, "%" PRIu64, v);
}

/* A whitespace-separated list of numbers as a JSON array; omitted if empty. */
static void num_list(struct jw *w, const char *k, const char *text)
{
	char *end;
	bool any = false;
	for (const char *p = text; *p;) {
		uint64_t v = strtoull(p, &end, 10);
		if (end == p)
			break;
		if (!any)
			key(w, k), fputc('[', w->f);
		fprintf(w->f, "%s%" PRIu64, any ? "," : "", v);
		any = true;
		p = end;
	}
	if (any)
		fputc(']', w->f);
}

/* A file of numbers as num_list() writes them; omitted if unreadable. */
static void num_list_file(struct jw *w, const char *k, const struct cg_hier *h, const char *file)
{
	char buf[4096];
	if (cg_read(h, file, buf, sizeof(buf), &(struct husk_err){0}) == 0)
		num_list(w, k, buf);
}

static uint64_t rd(const struct cg_hier *h, const char *file)
{
	uint64_t v = 0;
	if (h)
		cg_read_u64(h, file, &v, &(struct husk_err){0});
	return v;
}

/* rd() of the file FMT names: "%s.failcnt". */
__attribute__((format(printf, 2, 3))) static uint64_t rdf(const struct cg_hier *h, const char *fmt,
							  ...)
{
	char file[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(file, sizeof(file), fmt, ap);
	va_end(ap);
	return rd(h, file);
}

static uint64_t keyed(const struct cg_hier *h, const char *file, const char *k)
{
	uint64_t v = 0;
	if (h)
		cg_read_keyed(h, file, k, &v, &(struct husk_err){0});
	return v;
}

static void cpu_stats(struct jw *w, const struct husk_cgroup *cg)
{
	struct cg_hier *cpu = cg_find(cg, "cpu"), *acct = cg_find(cg, "cpuacct");
	struct cg_hier *usage2 = cpu && cpu->mount->unified ? cpu : NULL;
	uint64_t tck = (uint64_t)sysconf(_SC_CLK_TCK);

	/* cgroup2 keeps usage in cpu.stat even without the cpu controller. */
	if (!usage2 && !acct && cg->layout->mode == HUSK_CGROUP_V2)
		usage2 = cg_unified(cg);

	open_obj(w, "cpu");
	open_obj(w, "usage");
	if (usage2) {
		num(w, "total", keyed(usage2, "cpu.stat", "usage_usec") * 1000, true);
		num(w, "kernel", keyed(usage2, "cpu.stat", "system_usec") * 1000, false);
		num(w, "user", keyed(usage2, "cpu.stat", "user_usec") * 1000, false);
	} else if (acct) {
		num(w, "total", rd(acct, "cpuacct.usage"), true);
		num_list_file(w, "percpu", acct, "cpuacct.usage_percpu");
		num_list_file(w, "percpu_kernel", acct, "cpuacct.usage_percpu_sys");
		num_list_file(w, "percpu_user", acct, "cpuacct.usage_percpu_user");
		/* cpuacct.stat counts clock ticks; report nanoseconds. */
		num(w, "kernel", keyed(acct, "cpuacct.stat", "system") * (1000000000 / tck), false);
		num(w, "user", keyed(acct, "cpuacct.stat", "user") * (1000000000 / tck), false);
	} else {
		num(w, "kernel", 0, false);
		num(w, "user", 0, false);
	}
	close_obj(w);
	open_obj(w, "throttling");
	if (cpu) {
		bool v2 = cpu->mount->unified;
		num(w, "periods", keyed(cpu, "cpu.stat", "nr_periods"), true);
		num(w, "throttledPeriods", keyed(cpu, "cpu.stat", "nr_throttled"), true);
		num(w, "throttledTime",
		    v2 ? keyed(cpu, "cpu.stat", "throttled_usec") * 1000
		       : keyed(cpu, "cpu.stat", "throttled_time"),
		    true);
	}
	close_obj(w);
	close_obj(w);
}

static void mem_entry(struct jw *w, const char *k, const struct cg_hier *h, const char *prefix)
{
	open_obj(w, k);
	num(w, "limit", rdf(h, "%s.limit_in_bytes", prefix), false);
	num(w, "usage", rdf(h, "%s.usage_in_bytes", prefix), true);
	num(w, "max", rdf(h, "%s.max_usage_in_bytes", prefix), true);
	num(w, "failcnt", rdf(h, "%s.failcnt", prefix), false);
	close_obj(w);
}

static void mem_entry_v2(struct jw *w, const char *k, const struct cg_hier *h, const char *cur,
			 const char *max, const char *peak, uint64_t failcnt)
{
	open_obj(w, k);
	num(w, "limit", max ? rd(h, max) : 0, false);
	num(w, "usage", cur ? rd(h, cur) : 0, true);
	num(w, "max", peak && cg_has_file(h, peak) ? rd(h, peak) : 0, true);
	num(w, "failcnt", failcnt, false);
	close_obj(w);
}

static void raw_stats(struct jw *w, const struct cg_hier *h, const char *cache_key)
{
	char buf[16384];
	bool any = false;
	if (cg_read(h, "memory.stat", buf, sizeof(buf), &(struct husk_err){0}) < 0)
		return;
	num(w, "cache", keyed(h, "memory.stat", cache_key), true);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];
		uint64_t v;
		if (sscanf(line, "%127s %" SCNu64, name, &v) != 2)
			continue;
		if (!any)
			open_obj(w, "raw");
		any = true;
		num(w, name, v, false);
	}
	if (any)
		close_obj(w);
}

static void memory_stats(struct jw *w, const struct husk_cgroup *cg)
{
	struct cg_hier *h = cg_find(cg, "memory");
	open_obj(w, "memory");
	if (h && h->mount->unified) {
		mem_entry_v2(w, "usage", h, "memory.current", "memory.max", "memory.peak",
			     keyed(h, "memory.events", "max"));
		mem_entry_v2(w, "swap", h, "memory.swap.current", "memory.swap.max",
			     "memory.swap.peak", keyed(h, "memory.swap.events", "max"));
		raw_stats(w, h, "file");
	} else if (h) {
		mem_entry(w, "usage", h, "memory");
		mem_entry(w, "swap", h, "memory.memsw");
		mem_entry(w, "kernel", h, "memory.kmem");
		mem_entry(w, "kernelTCP", h, "memory.kmem.tcp");
		raw_stats(w, h, "cache");
	}
	close_obj(w);
}

static void pids_stats(struct jw *w, const struct husk_cgroup *cg)
{
	struct cg_hier *h = cg_find(cg, "pids");
	uint64_t limit = rd(h, "pids.max"), current = rd(h, "pids.current");
	/* No pids controller (a cgroup2 hierarchy without it): count them. */
	if (!h) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		if (husk_cgroup_pids((struct husk_cgroup *)cg, &pids, &n, &(struct husk_err){0}) ==
		    0)
			current = n;
	}
	open_obj(w, "pids");
	num(w, "current", current, true);
	num(w, "limit", limit == UINT64_MAX ? 0 : limit, true);
	close_obj(w);
}

/* One {major,minor,op,value} entry of the list K; *any: one came before. */
static void blkio_entry(struct jw *w, const char *k, bool *any, unsigned maj, unsigned min,
			const char *op, uint64_t v)
{
	if (!*any)
		key(w, k), fputc('[', w->f);
	fprintf(w->f, "%s", *any ? "," : "");
	w->first = true;
	fputc('{', w->f);
	num(w, "major", maj, true);
	num(w, "minor", min, true);
	key(w, "op");
	fprintf(w->f, "\"%s\"", op);
	num(w, "value", v, true);
	close_obj(w);
	*any = true;
}

/* v1 "8:0 Read 123" lines (Total lines skipped) -> [{major,minor,op,value}]. */
static void blkio_list_v1(struct jw *w, const char *k, const struct cg_hier *h,
			  const char *const files[3])
{
	char buf[16384];
	bool any = false;
	size_t i;
	for (i = 0; i < 3; i++)
		if (cg_read(h, files[i], buf, sizeof(buf), &(struct husk_err){0}) == 0 && buf[0])
			break;
	if (i == 3)
		return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned maj, min;
		char op[32];
		uint64_t v;
		if (sscanf(line, "%u:%u %31s %" SCNu64, &maj, &min, op, &v) == 4)
			blkio_entry(w, k, &any, maj, min, op, v);
	}
	if (any)
		fputc(']', w->f);
}

/* v2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." */
static void blkio_list_v2(struct jw *w, const char *k, const struct cg_hier *h, const char *rkey,
			  const char *wkey)
{
	char buf[16384];
	bool any = false;
	if (cg_read(h, "io.stat", buf, sizeof(buf), &(struct husk_err){0}) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned maj, min;
		if (sscanf(line, "%u:%u", &maj, &min) != 2)
			continue;
		for (int rw = 0; rw < 2; rw++) {
			char pat[32];
			const char *p;
			snprintf(pat, sizeof(pat), " %s=", rw ? wkey : rkey);
			if ((p = strstr(line, pat)))
				blkio_entry(w, k, &any, maj, min, rw ? "Write" : "Read",
					    strtoull(p + strlen(pat), NULL, 10));
		}
	}
	if (any)
		fputc(']', w->f);
}

static void blkio_stats(struct jw *w, const struct husk_cgroup *cg)
{
	static const char *const bytes[3] = {"blkio.io_service_bytes_recursive",
					     "blkio.bfq.io_service_bytes_recursive",
					     "blkio.throttle.io_service_bytes_recursive"};
	static const char *const ios[3] = {"blkio.io_serviced_recursive",
					   "blkio.bfq.io_serviced_recursive",
					   "blkio.throttle.io_serviced_recursive"};
	struct cg_hier *h = cg_find(cg, "blkio");
	open_obj(w, "blkio");
	if (h) {
		blkio_list_v1(w, "ioServiceBytesRecursive", h, bytes);
		blkio_list_v1(w, "ioServicedRecursive", h, ios);
	} else if ((h = cg_find(cg, "io"))) {
		blkio_list_v2(w, "ioServiceBytesRecursive", h, "rbytes", "wbytes");
		blkio_list_v2(w, "ioServicedRecursive", h, "rios", "wios");
	}
	close_obj(w);
}

/* Page sizes from /sys/kernel/mm/hugepages/hugepages-2048kB -> "2MB". */
static void hugetlb_stats(struct jw *w, const struct husk_cgroup *cg)
{
	struct cg_hier *h = cg_find(cg, "hugetlb");
	_cleanup_closedir_ DIR *d = h ? opendir("/sys/kernel/mm/hugepages") : NULL;
	struct dirent *e;
	open_obj(w, "hugetlb");
	while (d && (e = readdir(d))) {
		unsigned long kb;
		char size[32], f[96];
		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		if (kb >= 1048576)
			snprintf(size, sizeof(size), "%luGB", kb / 1048576);
		else if (kb >= 1024)
			snprintf(size, sizeof(size), "%luMB", kb / 1024);
		else
			snprintf(size, sizeof(size), "%luKB", kb);
		open_obj(w, size);
		if (h->mount->unified) {
			num(w, "usage", rdf(h, "hugetlb.%s.current", size), true);
			snprintf(f, sizeof(f), "hugetlb.%s.events", size);
			num(w, "failcnt", keyed(h, f, "max"), false);
		} else {
			num(w, "usage", rdf(h, "hugetlb.%s.usage_in_bytes", size), true);
			num(w, "max", rdf(h, "hugetlb.%s.max_usage_in_bytes", size), true);
			num(w, "failcnt", rdf(h, "hugetlb.%s.failcnt", size), false);
		}
		close_obj(w);
	}
	close_obj(w);
}

/* "0-2,4" -> [0,1,2,4]; omitted when empty. */
static void cpu_list(struct jw *w, const char *k, const char *text)
{
	bool any = false;
	for (const char *p = text; *p;) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (end == p)
			break;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long i = lo; i <= hi && hi - lo < 65536; i++) {
			if (!any)
				key(w, k), fputc('[', w->f);
			fprintf(w->f, "%s%lu", any ? "," : "", i);
			any = true;
		}
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	if (any)
		fputc(']', w->f);
}

static void cpuset_stats(struct jw *w, const struct husk_cgroup *cg)
{
	static const char *const flags[] = {
	    "cpu_exclusive",	  "mem_hardwall",	"mem_exclusive",   "memory_migrate",
	    "memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance",
	};
	struct cg_hier *h = cg_find(cg, "cpuset");
	bool v2 = h && h->mount->unified;
	char buf[1024];

	open_obj(w, "cpuset");
	if (h && cg_read(h, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", buf, sizeof(buf),
			 &(struct husk_err){0}) == 0)
		cpu_list(w, "cpus", buf);
	if (h && cg_read(h, v2 ? "cpuset.mems.effective" : "cpuset.mems", buf, sizeof(buf),
			 &(struct husk_err){0}) == 0)
		cpu_list(w, "mems", buf);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		num(w, flags[i], v2 ? 0 : rdf(h, "cpuset.%s", flags[i]), false);
	}
	buf[0] = '\0';
	if (h && !v2)
		cg_read(h, "cpuset.sched_relax_domain_level", buf, sizeof(buf),
			&(struct husk_err){0});
	key(w, "sched_relax_domain_level");
	fprintf(w->f, "%lld", buf[0] ? strtoll(buf, NULL, 10) : -1LL);
	close_obj(w);
}

char *husk_cgroup_stats_json(struct husk_cgroup *cg, struct husk_err *err)
{
	char *buf = NULL;
	size_t size = 0;
	struct jw w = {.first = true};

	w.f = open_memstream(&buf, &size);
	if (!w.f) {
		husk_err_sys(err, "stats");
		return NULL;
	}
	open_obj(&w, NULL);
	cpu_stats(&w, cg);
	cpuset_stats(&w, cg);
	memory_stats(&w, cg);
	pids_stats(&w, cg);
	blkio_stats(&w, cg);
	hugetlb_stats(&w, cg);
	/* Parts runc reports that husk has nothing for. */
	open_obj(&w, "intel_rdt");
	close_obj(&w);
	key(&w, "network_interfaces");
	fputs("null", w.f);
	close_obj(&w);
	if (fclose(w.f) != 0) {
		free(buf);
		husk_err_sys(err, "stats");
		return NULL;
	}
	return buf;
}

int husk_cgroup_oom_count(struct husk_cgroup *cg, uint64_t *count, struct husk_err *err)
{
	struct cg_hier *h = cg_find(cg, "memory");
	*count = 0;
	if (!h)
		return husk_err_set(err, ENOTSUP, "no memory cgroup");
	return cg_read_keyed(h, h->mount->unified ? "memory.events" : "memory.oom_control",
			     "oom_kill", count, err);
}

int husk_cgroup_oom_watch(struct husk_cgroup *cg, struct husk_err *err)
{
	struct cg_hier *h = cg_find(cg, "memory");
	char path[4096], line[64];
	_cleanup_close_ int efd = -1, ofd = -1;

	if (!h)
		return husk_err_set(err, ENOTSUP, "no memory cgroup");
	if (h->mount->unified) {
		int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (fd < 0)
			return husk_err_sys(err, "inotify");
		snprintf(path, sizeof(path), "%s/memory.events", h->dir);
		if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
			husk_err_sys(err, "watch %s", path);
			close(fd);
			return -1;
		}
		return fd;
	}
	/* v1: an eventfd registered for memory.oom_control notifications. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return husk_err_sys(err, "eventfd");
	snprintf(path, sizeof(path), "%s/memory.oom_control", h->dir);
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return husk_err_sys(err, "open %s", path);
	snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (cg_write(h, "cgroup.event_control", line, err) < 0)
		return husk_err_prefix(err, "watch OOM events");
	return HUSK_STEAL_FD(efd);
}
