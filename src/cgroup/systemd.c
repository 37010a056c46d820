/* The systemd cgroup driver (--systemd-cgroup): linux.cgroupsPath
 * "slice:prefix:name" names a transient scope that systemd creates for the
 * container; husk then works in the scope's cgroup directory as in one it
 * made itself (docs/cgroups.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/dbus.h"
#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define SYSTEMD_INFINITY UINT64_MAX
#define JOB_TIMEOUT_MS	 60000

/* Characters systemd accepts in a unit name (unit_name_is_valid). */
static bool unit_chars_ok(const char *s)
{
	return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_."
			       "\\@") == strlen(s);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cg_systemd_parse(const char *cgroups_path, const char *id, bool rootless, char **slice,
		     char **unit, struct husk_err *err)
{
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : NULL;
	char part[3][256];
	const char *s;
	int n = 0;

	*slice = *unit = NULL;
	if (!p) /* runc's default for an empty path: ":husk:<id>" */
		p = "";
	for (s = p; n < 3; n++) {
		size_t len = strcspn(s, ":");
		if (len >= sizeof(part[n]))
			return husk_err_set(err, 0, "linux.cgroupsPath %s: too long", p);
		memcpy(part[n], s, len);
		part[n][len] = '\0';
		s += len;
		if (*s != ':')
			break;
		s++;
	}
	if (!*p) {
		snprintf(part[1], sizeof(part[1]), "husk");
		snprintf(part[2], sizeof(part[2]), "%s", id);
		part[0][0] = '\0';
	} else if (n != 2 || *s) {
		return husk_err_set(err, 0,
				    "linux.cgroupsPath %s: the systemd cgroup driver wants "
				    "\"slice:prefix:name\"",
				    p);
	}
	if (!part[0][0])
		snprintf(part[0], sizeof(part[0]), "%s", rootless ? "user.slice" : "system.slice");
	_cleanup_free_ char *slice_path = NULL;
	if (!ends_with(part[0], ".slice") || !unit_chars_ok(part[0]) || strchr(part[0], '@') ||
	    cg_systemd_slice_path(part[0], &slice_path) < 0)
		return husk_err_set(err, 0, "linux.cgroupsPath %s: %s is not a slice name", p,
				    part[0]);
	if (!part[2][0] || !unit_chars_ok(part[2]) || (part[1][0] && !unit_chars_ok(part[1])))
		return husk_err_set(err, 0,
				    "linux.cgroupsPath %s: prefix and name must be a valid "
				    "systemd unit name",
				    p);
	if (ends_with(part[2], ".slice"))
		return husk_err_set(err, ENOTSUP,
				    "linux.cgroupsPath %s: a name ending in .slice (a slice, "
				    "which holds no processes itself) is not supported; use a "
				    "scope name",
				    p);
	*slice = strdup(part[0]);
	if (asprintf(unit, "%s%s%s.scope", part[1], part[1][0] ? "-" : "", part[2]) < 0)
		*unit = NULL;
	if (!*slice || !*unit) {
		free(*slice);
		*slice = NULL;
		return husk_err_set(err, ENOMEM, "linux.cgroupsPath");
	}
	return 0;
}

/* "a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice below the manager's
 * root; "-.slice" is the root itself. */
int cg_systemd_slice_path(const char *slice, char **out)
{
	size_t len = strlen(slice) - strlen(".slice");
	char *buf, *w;

	*out = NULL;
	if (strcmp(slice, "-.slice") == 0)
		return (*out = strdup("")) ? 0 : -1;
	if (len == 0 || slice[0] == '-' || slice[len - 1] == '-' || strstr(slice, "--"))
		return -1;
	buf = malloc((len + 8) * (len + 1));
	if (!buf)
		return -1;
	w = buf;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || slice[i] == '-') {
			w += sprintf(w, "/%.*s.slice", (int)i, slice);
		}
	}
	*out = buf;
	return 0;
}

/* "0-3,8" as systemd's CPU/NUMA set bytes: bit n of byte n/8. */
int cg_systemd_cpuset_mask(const char *list, uint8_t **bytes, size_t *n, struct husk_err *err)
{
	uint8_t *m = NULL;
	size_t size = 0;
	const char *s = list;

	*bytes = NULL;
	*n = 0;
	while (*s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s)
			goto bad;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s)
				goto bad;
		}
		if (hi < lo || hi >= 65536)
			goto bad;
		if (hi / 8 + 1 > size) {
			uint8_t *g = realloc(m, hi / 8 + 1);
			if (!g) {
				free(m);
				return husk_err_set(err, ENOMEM, "cpuset");
			}
			memset(g + size, 0, hi / 8 + 1 - size);
			m = g;
			size = hi / 8 + 1;
		}
		for (unsigned long i = lo; i <= hi; i++)
			m[i / 8] |= (uint8_t)(1u << (i % 8));
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			goto bad;
	}
	*bytes = m;
	*n = size;
	return 0;
bad:
	free(m);
	return husk_err_set(err, EINVAL, "\"%s\" is not a CPU or memory node list", list);
}

static int put_mask(struct dbus_buf *b, const char *prop, const char *list, struct husk_err *err)
{
	uint8_t *m;
	size_t n, arr;

	if (cg_systemd_cpuset_mask(list, &m, &n, err) < 0)
		return husk_err_prefix(err, "linux.resources.cpu.%s",
				       strcmp(prop, "AllowedCPUs") == 0 ? "cpus" : "mems");
	dbus_prop_begin(b, prop, "ay");
	arr = dbus_array_begin(b, 1);
	for (size_t i = 0; i < n; i++)
		dbus_put_u8(b, m[i]);
	dbus_array_end(b, arr, 1);
	free(m);
	return 0;
}

static void put_u64(struct dbus_buf *b, const char *prop, uint64_t v)
{
	dbus_prop_begin(b, prop, "t");
	dbus_put_u64(b, v);
}

static uint64_t limit_or_infinity(int64_t v)
{
	return v < 0 ? SYSTEMD_INFINITY : (uint64_t)v;
}

/* runc's CPUQuotaPerSecUSec: quota per second of time, rounded up to
 * systemd's 10ms granularity (below it systemd would round down to 0). */
uint64_t cg_systemd_quota_per_sec(int64_t quota, uint64_t period)
{
	uint64_t per_sec;
	if (quota <= 0)
		return SYSTEMD_INFINITY;
	if (period == 0)
		period = 100000;
	per_sec = (uint64_t)quota * 1000000 / period;
	if (per_sec % 10000)
		per_sec = (per_sec / 10000 + 1) * 10000;
	return per_sec;
}

static int put_memory(struct dbus_buf *b, const struct husk_memory *m, struct husk_err *err)
{
	int64_t swap;
	bool skip;

	if (m->limit.set)
		put_u64(b, "MemoryMax", limit_or_infinity(m->limit.v));
	if (m->reservation.set)
		put_u64(b, "MemoryLow", limit_or_infinity(m->reservation.v));
	if (cg_swap_to_v2(&m->swap, &m->limit, &swap, &skip, err) < 0)
		return -1;
	if (!skip)
		put_u64(b, "MemorySwapMax", limit_or_infinity(swap));
	return 0;
}

static int put_cpu(struct dbus_buf *b, const struct husk_cpu *c, struct husk_err *err)
{
	if (c->shares.set && c->shares.v)
		put_u64(b, "CPUWeight", cg_shares_to_weight(c->shares.v));
	if (c->period.set && c->period.v)
		put_u64(b, "CPUQuotaPeriodUSec", c->period.v);
	if (c->quota.set && c->quota.v != 0)
		put_u64(b, "CPUQuotaPerSecUSec",
			cg_systemd_quota_per_sec(c->quota.v, c->period.set ? c->period.v : 0));
	if (c->cpus && *c->cpus && put_mask(b, "AllowedCPUs", c->cpus, err) < 0)
		return -1;
	if (c->mems && *c->mems && put_mask(b, "AllowedMemoryNodes", c->mems, err) < 0)
		return -1;
	return 0;
}

int cg_systemd_resource_props(struct dbus_buf *b, const struct husk_resources *r,
			      struct husk_err *err)
{
	if (!r)
		return 0;
	if (r->has_memory && put_memory(b, &r->memory, err) < 0)
		return -1;
	if (r->has_cpu && put_cpu(b, &r->cpu, err) < 0)
		return -1;
	if (r->pids_limit.set && r->pids_limit.v != 0)
		put_u64(b, "TasksMax", limit_or_infinity(r->pids_limit.v));
	if (r->has_blkio && r->blkio.has_weight && r->blkio.weight)
		put_u64(b, "IOWeight", cg_blkio_to_io_weight(r->blkio.weight));
	return 0;
}

/* ---- talking to the manager ---- */

static int manager_socket(bool user, char *buf, size_t size, struct husk_err *err)
{
	if (!user) {
		if (access("/run/systemd/system", F_OK) < 0)
			return husk_err_set(err, ENOTSUP,
					    "the systemd cgroup driver needs systemd, which is "
					    "not running here (/run/systemd/system is missing)");
		snprintf(buf, size, "/run/systemd/private");
		return 0;
	}
	const char *rt = getenv("XDG_RUNTIME_DIR");
	if (!rt || !*rt)
		return husk_err_set(err, ENOTSUP,
				    "the systemd cgroup driver without root needs the user's "
				    "systemd: XDG_RUNTIME_DIR is not set");
	snprintf(buf, size, "%s/systemd/private", rt);
	if (access(buf, F_OK) < 0)
		return husk_err_set(err, ENOTSUP,
				    "the systemd cgroup driver without root needs the user's "
				    "systemd, which is not running (%s is missing)",
				    buf);
	return 0;
}

int cg_systemd_check(bool user, struct husk_err *err)
{
	char sock[512];
	return manager_socket(user, sock, sizeof(sock), err);
}

static int connect_manager(bool user, struct dbus_conn *c, struct husk_err *err)
{
	char sock[512];
	if (manager_socket(user, sock, sizeof(sock), err) < 0)
		return -1;
	return dbus_open(c, sock, err);
}

/* The reply names a job: wait for it to finish, "done" being success. */
static bool dir_gone(void *dir)
{
	return dir && access(dir, F_OK) < 0 && errno == ENOENT;
}

static int wait_reply_job(struct dbus_conn *c, struct dbus_msg *reply, const char *what,
			  const char *unit, const char *gone_dir, struct husk_err *err)
{
	const char *job = dbus_get_str(&reply->body);
	_cleanup_free_ char *result = NULL;

	if (!job)
		return husk_err_set(err, EPROTO, "systemd: %s %s: no job in the reply", what, unit);
	if (dbus_wait_job(c, job, JOB_TIMEOUT_MS, gone_dir ? dir_gone : NULL, (void *)gone_dir,
			  &result, err) < 0)
		return -1;
	if (strcmp(result, "done") != 0)
		return husk_err_set(err, EIO, "systemd: %s %s: the job ended %s", what, unit,
				    result);
	return 0;
}

int cg_systemd_start_body(struct dbus_buf *b, const char *unit, const char *slice, pid_t pid,
			  const struct husk_resources *res, struct husk_err *err)
{
	char desc[300];
	size_t props, pids, aux;

	dbus_put_str(b, unit);
	dbus_put_str(b, "fail");
	props = dbus_array_begin(b, 8);
	snprintf(desc, sizeof(desc), "husk container %s", unit);
	dbus_prop_begin(b, "Description", "s");
	dbus_put_str(b, desc);
	dbus_prop_begin(b, "Slice", "s");
	dbus_put_str(b, slice);
	dbus_prop_begin(b, "Delegate", "b");
	dbus_put_bool(b, true);
	dbus_prop_begin(b, "DefaultDependencies", "b");
	dbus_put_bool(b, false);
	dbus_prop_begin(b, "PIDs", "au");
	pids = dbus_array_begin(b, 4);
	dbus_put_u32(b, (uint32_t)pid);
	dbus_array_end(b, pids, 4);
	if (cg_systemd_resource_props(b, res, err) < 0)
		return -1;
	dbus_array_end(b, props, 8);
	aux = dbus_array_begin(b, 8);
	dbus_array_end(b, aux, 8);
	if (b->oom)
		return husk_err_set(err, ENOMEM, "systemd: StartTransientUnit");
	return 0;
}

int cg_systemd_start(const char *unit, const char *slice, bool user,
		     const struct husk_resources *res, struct husk_err *err)
{
	struct dbus_buf b = {0};
	struct dbus_conn c;
	struct dbus_msg reply = {0};
	int r = -1;

	/* The scope starts with husk itself in it (systemd refuses an empty
	 * scope); the container's process is made in its cgroup and husk
	 * leaves again (husk_cgroup_runtime_leave). */
	if (cg_systemd_start_body(&b, unit, slice, getpid(), res, err) < 0)
		goto out;
	if (connect_manager(user, &c, err) < 0)
		goto out;
	if (dbus_call_manager(&c, "StartTransientUnit", "ssa(sv)a(sa(sv))", &b, &reply, NULL,
			      err) == 0)
		r = wait_reply_job(&c, &reply, "start", unit, NULL, err);
	dbus_msg_free(&reply);
	dbus_close(&c);
out:
	dbus_buf_free(&b);
	return r;
}

int cg_systemd_set(const char *unit, bool user, const struct husk_resources *res,
		   struct husk_err *err)
{
	struct dbus_buf b = {0};
	struct dbus_conn c;
	struct dbus_msg reply = {0};
	size_t props;
	int r = -1;

	dbus_put_str(&b, unit);
	dbus_put_bool(&b, true); /* runtime: not written to /etc */
	props = dbus_array_begin(&b, 8);
	if (cg_systemd_resource_props(&b, res, err) < 0)
		goto out;
	dbus_array_end(&b, props, 8);
	if (b.oom) {
		husk_err_set(err, ENOMEM, "systemd: SetUnitProperties");
		goto out;
	}
	if (b.len == props + 4 + 4) { /* nothing systemd knows of: files only */
		r = 0;
		goto out;
	}
	if (connect_manager(user, &c, err) < 0)
		goto out;
	r = dbus_call_manager(&c, "SetUnitProperties", "sba(sv)", &b, &reply, NULL, err);
	dbus_msg_free(&reply);
	dbus_close(&c);
out:
	dbus_buf_free(&b);
	return r;
}

int cg_systemd_stop(const char *unit, bool user, const char *dir, struct husk_err *err)
{
	struct dbus_buf b = {0};
	struct dbus_conn c;
	struct dbus_msg reply = {0};
	_cleanup_free_ char *error_name = NULL;
	int r;

	dbus_put_str(&b, unit);
	dbus_put_str(&b, "replace");
	if (b.oom) {
		dbus_buf_free(&b);
		return husk_err_set(err, ENOMEM, "systemd: StopUnit");
	}
	if (connect_manager(user, &c, err) < 0) {
		dbus_buf_free(&b);
		return -1;
	}
	r = dbus_call_manager(&c, "StopUnit", "ss", &b, &reply, &error_name, err);
	if (r == 0)
		r = wait_reply_job(&c, &reply, "stop", unit, dir, err);
	else if (error_name && strcmp(error_name, "org.freedesktop.systemd1.NoSuchUnit") == 0)
		r = 0; /* gone already: systemd stops a scope once it is empty */
	dbus_msg_free(&reply);
	if (r == 0) {
		/* A scope that ended "failed" (an OOM kill) stays loaded, and
		 * would refuse the next container of the same name (as runc). */
		struct dbus_buf one = {0};
		husk_err_clear(err);
		dbus_put_str(&one, unit);
		if (!one.oom && dbus_call_manager(&c, "ResetFailedUnit", "s", &one, &reply, NULL,
						  &(struct husk_err){0}) == 0)
			dbus_msg_free(&reply);
		dbus_buf_free(&one);
	}
	dbus_close(&c);
	dbus_buf_free(&b);
	return r;
}
