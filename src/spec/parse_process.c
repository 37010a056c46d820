/* config.json "process": the program, its identity, capabilities, limits
 * and scheduling. Also the whole of `exec --process` files. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "spec/parse.h"
#include "spec/tables.h"
#include "util/cleanup.h"

/* Linux uapi values (linux/sched.h, linux/ioprio.h) without their headers,
 * which clash with glibc's. */
#define SCHED_FLAG_RESET_ON_FORK  0x01
#define SCHED_FLAG_RECLAIM	  0x02
#define SCHED_FLAG_DL_OVERRUN	  0x04
#define SCHED_FLAG_KEEP_POLICY	  0x08
#define SCHED_FLAG_KEEP_PARAMS	  0x10
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#define IOPRIO_CLASS_RT		  1
#define IOPRIO_CLASS_BE		  2
#define IOPRIO_CLASS_IDLE	  3

static const struct husk_name_value sched_policies[] = {
    {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", 4},	      {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", 6},
};

static const struct husk_name_value sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

static const struct husk_name_value ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
};

/* Read a string member and map it through a table; "what" names the kind
 * of value in the error ("unknown scheduler policy \"X\""). */
static int jm_enum(struct jctx *c, json_t *obj, const char *key, const struct husk_name_value *t,
		   size_t n, const char *what, long *out)
{
	_cleanup_free_ char *s = NULL;
	int rc = jm_str(c, obj, key, &s);
	if (rc <= 0)
		return rc;
	*out = husk_lookup(t, n, s);
	if (*out < 0) {
		size_t old = jp_key(c, key);
		jfail(c, "unknown %s \"%s\"", what, s);
		jp_pop(c, old);
		return -1;
	}
	return 1;
}

static int parse_cap_set(struct jctx *c, json_t *caps, const char *key, uint64_t *set)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, caps, key, &arr)) <= 0)
		return rc;
	old = jp_key(c, key);
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		int cap;
		if (!jis_str(c, item))
			return jfail(c, "must be a string");
		cap = husk_cap_from_name(json_string_value(item));
		if (cap < 0)
			return jfail(c, "unknown capability \"%s\"", json_string_value(item));
		*set |= UINT64_C(1) << cap;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_caps(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *caps;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, proc, "capabilities", &caps)) <= 0)
		return rc;
	p->has_caps = true;
	old = jp_key(c, "capabilities");
	if (parse_cap_set(c, caps, "bounding", &p->caps.bounding) < 0 ||
	    parse_cap_set(c, caps, "effective", &p->caps.effective) < 0 ||
	    parse_cap_set(c, caps, "inheritable", &p->caps.inheritable) < 0 ||
	    parse_cap_set(c, caps, "permitted", &p->caps.permitted) < 0 ||
	    parse_cap_set(c, caps, "ambient", &p->caps.ambient) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

static int parse_rlimit(struct jctx *c, json_t *item, struct husk_process *p, size_t i)
{
	struct husk_rlimit *r = &p->rlimits[i];
	long type;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "type") < 0 || jm_need(c, item, "soft") < 0 ||
	    jm_need(c, item, "hard") < 0)
		return -1;
	if (jm_enum(c, item, "type", husk_rlimit_names, husk_n_rlimit_names, "rlimit", &type) < 0)
		return -1;
	r->resource = (int)type;
	if (jm_u64(c, item, "soft", &r->soft) < 0 || jm_u64(c, item, "hard", &r->hard) < 0)
		return -1;
	if (r->soft > r->hard)
		return jfail(c, "soft limit above hard limit");
	for (size_t j = 0; j < i; j++)
		if (p->rlimits[j].resource == r->resource)
			return jfail(
			    c, "duplicate rlimit \"%s\"",
			    husk_lookup_name(husk_rlimit_names, husk_n_rlimit_names, type));
	return 0;
}

static int parse_rlimits(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, proc, "rlimits", &arr)) <= 0)
		return rc;
	old = jp_key(c, "rlimits");
	p->rlimits = jcalloc(c, json_array_size(arr), sizeof(*p->rlimits), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		if (parse_rlimit(c, item, p, i) < 0)
			return -1;
		p->n_rlimits = i + 1;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_user(struct jctx *c, json_t *proc, struct husk_user *u)
{
	json_t *obj, *arr, *item;
	int64_t umask;
	uint32_t v;
	size_t i, old;
	int rc;

	if ((rc = jm_obj(c, proc, "user", &obj)) <= 0)
		return rc;
	old = jp_key(c, "user");
	if (jm_id(c, obj, "uid", &v) < 0)
		return -1;
	u->uid = v;
	v = 0;
	if (jm_id(c, obj, "gid", &v) < 0)
		return -1;
	u->gid = v;
	if ((rc = jm_range(c, obj, "umask", 0, 0777, &umask)) < 0)
		return -1;
	if (rc > 0) {
		u->has_umask = true;
		u->umask = (mode_t)umask;
	}
	if (jm_str(c, obj, "username", &u->username) < 0)
		return -1;
	if ((rc = jm_arr(c, obj, "additionalGids", &arr)) < 0)
		return -1;
	if (rc > 0) {
		size_t o2 = jp_key(c, "additionalGids");
		u->additional_gids = jcalloc(c, json_array_size(arr), sizeof(gid_t), &rc);
		if (rc < 0)
			return -1;
		json_array_foreach(arr, i, item)
		{
			size_t o3 = jp_idx(c, i);
			if (jv_id(c, item, &v) < 0)
				return -1;
			u->additional_gids[i] = v;
			u->n_additional_gids = i + 1;
			jp_pop(c, o3);
		}
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_scheduler(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *obj, *arr, *item;
	struct husk_scheduler *s;
	int64_t x;
	long v;
	size_t i, old;
	int rc;

	if ((rc = jm_obj(c, proc, "scheduler", &obj)) <= 0)
		return rc;
	old = jp_key(c, "scheduler");
	s = p->scheduler = calloc(1, sizeof(*s));
	if (!s)
		return jnomem(c);
	if (jm_need(c, obj, "policy") < 0 ||
	    jm_enum(c, obj, "policy", sched_policies, HUSK_ARRAY_SIZE(sched_policies),
		    "scheduler policy", &v) < 0)
		return -1;
	s->policy = (int)v;
	if ((rc = jm_range(c, obj, "nice", -20, 19, &x)) < 0)
		return -1;
	s->nice = rc > 0 ? (int)x : 0;
	if ((rc = jm_range(c, obj, "priority", INT32_MIN, INT32_MAX, &x)) < 0)
		return -1;
	s->priority = rc > 0 ? (int)x : 0;
	if (jm_u64(c, obj, "runtime", &s->runtime) < 0 ||
	    jm_u64(c, obj, "deadline", &s->deadline) < 0 ||
	    jm_u64(c, obj, "period", &s->period) < 0)
		return -1;
	if ((rc = jm_arr(c, obj, "flags", &arr)) < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_key(c, "flags");
		jp_idx(c, i);
		if (!jis_str(c, item))
			return jfail(c, "must be a string");
		v = husk_lookup(sched_flags, HUSK_ARRAY_SIZE(sched_flags), json_string_value(item));
		if (v < 0)
			return jfail(c, "unknown scheduler flag \"%s\"", json_string_value(item));
		s->flags |= (uint64_t)v;
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

static int parse_io_priority(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *obj;
	int64_t prio = 0;
	long cls;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, proc, "ioPriority", &obj)) <= 0)
		return rc;
	old = jp_key(c, "ioPriority");
	if (jm_need(c, obj, "class") < 0 ||
	    jm_enum(c, obj, "class", ioprio_classes, HUSK_ARRAY_SIZE(ioprio_classes),
		    "I/O priority class", &cls) < 0)
		return -1;
	if (jm_range(c, obj, "priority", 0, 7, &prio) < 0)
		return -1;
	p->has_io_priority = true;
	p->io_priority_class = (int)cls;
	p->io_priority = (int)prio;
	jp_pop(c, old);
	return 0;
}

/* "0-3,7": digits, commas and ranges; the kernel judges the numbers. */
static int check_cpu_list(struct jctx *c, const char *key, const char *list)
{
	bool digit = false;
	for (const char *s = list; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
			continue;
		}
		if ((*s == ',' || *s == '-') && digit) {
			digit = false;
			continue;
		}
		digit = false;
		break;
	}
	if (!digit) {
		size_t old = jp_key(c, key);
		jfail(c, "invalid CPU list \"%s\"", list);
		jp_pop(c, old);
		return -1;
	}
	return 0;
}

static int parse_cpu_affinity(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *obj;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, proc, "execCPUAffinity", &obj)) <= 0)
		return rc;
	old = jp_key(c, "execCPUAffinity");
	if (jm_str(c, obj, "initial", &p->exec_cpu_affinity_initial) < 0 ||
	    jm_str(c, obj, "final", &p->exec_cpu_affinity_final) < 0)
		return -1;
	if (p->exec_cpu_affinity_initial &&
	    check_cpu_list(c, "initial", p->exec_cpu_affinity_initial) < 0)
		return -1;
	if (p->exec_cpu_affinity_final &&
	    check_cpu_list(c, "final", p->exec_cpu_affinity_final) < 0)
		return -1;
	jp_pop(c, old);
	return 0;
}

static int parse_console_size(struct jctx *c, json_t *proc, struct husk_process *p)
{
	json_t *obj;
	uint32_t h = 0, w = 0;
	size_t old;
	int rc;

	if ((rc = jm_obj(c, proc, "consoleSize", &obj)) <= 0)
		return rc;
	old = jp_key(c, "consoleSize");
	if (jm_need(c, obj, "height") < 0 || jm_need(c, obj, "width") < 0 ||
	    jm_u32(c, obj, "height", &h) < 0 || jm_u32(c, obj, "width", &w) < 0)
		return -1;
	p->has_console_size = true;
	p->console_height = h;
	p->console_width = w;
	jp_pop(c, old);
	return 0;
}

/* The program's environment is handed to execve as is: every entry must
 * name a variable, as runc requires. */
static int check_env(struct jctx *c, const struct husk_strv *env)
{
	for (size_t i = 0; i < env->n; i++) {
		const char *eq = strchr(env->v[i], '=');
		if (!eq || eq == env->v[i]) {
			jp_key(c, "env");
			jp_idx(c, i);
			return jfail(c, "must be KEY=value, got \"%s\"", env->v[i]);
		}
	}
	return 0;
}

static int parse_identity(struct jctx *c, json_t *proc, struct husk_process *p)
{
	int64_t adj;
	int rc;

	if (jm_bool(c, proc, "terminal", &p->terminal) < 0 || parse_console_size(c, proc, p) < 0)
		return -1;
	if (jm_need(c, proc, "cwd") < 0 || jm_str(c, proc, "cwd", &p->cwd) < 0)
		return -1;
	if (p->cwd[0] != '/') {
		size_t old = jp_key(c, "cwd");
		jfail(c, "must be absolute");
		jp_pop(c, old);
		return -1;
	}
	if (jm_strv(c, proc, "args", &p->args) < 0 || jm_strv(c, proc, "env", &p->env) < 0 ||
	    jm_str(c, proc, "commandLine", &p->command_line) < 0)
		return -1;
	if (check_env(c, &p->env) < 0)
		return -1;
	if (p->args.n == 0) {
		size_t old = jp_key(c, "args");
		jfail(c, "must not be empty");
		jp_pop(c, old);
		return -1;
	}
	if ((rc = jm_range(c, proc, "oomScoreAdj", -1000, 1000, &adj)) < 0)
		return -1;
	if (rc > 0) {
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)adj;
	}
	return 0;
}

int husk_parse_process(struct jctx *c, json_t *proc, struct husk_process *p)
{
	if (parse_identity(c, proc, p) < 0 || parse_user(c, proc, &p->user) < 0 ||
	    parse_caps(c, proc, p) < 0 || parse_rlimits(c, proc, p) < 0)
		return -1;
	if (jm_bool(c, proc, "noNewPrivileges", &p->no_new_privileges) < 0 ||
	    jm_str(c, proc, "apparmorProfile", &p->apparmor_profile) < 0 ||
	    jm_str(c, proc, "selinuxLabel", &p->selinux_label) < 0)
		return -1;
	if (parse_scheduler(c, proc, p) < 0 || parse_io_priority(c, proc, p) < 0 ||
	    parse_cpu_affinity(c, proc, p) < 0)
		return -1;
	return 0;
}

void husk_process_clear(struct husk_process *p)
{
	free(p->cwd);
	husk_strv_free(&p->args);
	husk_strv_free(&p->env);
	free(p->command_line);
	free(p->user.additional_gids);
	free(p->user.username);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->scheduler);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	memset(p, 0, sizeof(*p));
}

void husk_process_free(struct husk_process *p)
{
	if (!p)
		return;
	husk_process_clear(p);
	free(p);
}
