/* config.json "linux.seccomp": names are checked here so a typo fails at
 * parse time with its JSON path, not later inside the container setup. */
#include <stdlib.h>
#include <string.h>

#include "spec/parse.h"
#include "spec/tables.h"
#include "util/cleanup.h"

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static int jm_action(struct jctx *c, json_t *obj, const char *key, enum husk_seccomp_action *out)
{
	_cleanup_free_ char *s = NULL;
	long v;

	if (jm_need(c, obj, key) < 0 || jm_str(c, obj, key, &s) < 0)
		return -1;
	v = husk_lookup(husk_seccomp_action_names, husk_n_seccomp_action_names, s);
	if (v < 0) {
		size_t old = jp_key(c, key);
		jfail(c, "unknown seccomp action \"%s\"", s);
		jp_pop(c, old);
		return -1;
	}
	*out = (enum husk_seccomp_action)v;
	return 0;
}

static int check_names(struct jctx *c, json_t *obj, const char *key, struct husk_strv *v,
		       const char *const *list, size_t n, const char *what)
{
	if (jm_strv(c, obj, key, v) < 0)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		if (!in_list(list, n, v->v[i])) {
			jp_key(c, key);
			jp_idx(c, i);
			return jfail(c, "unknown seccomp %s \"%s\"", what, v->v[i]);
		}
	}
	return 0;
}

static int parse_arg(struct jctx *c, json_t *item, struct husk_seccomp_arg *a)
{
	_cleanup_free_ char *op = NULL;
	int64_t index;
	long v;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "index") < 0 || jm_need(c, item, "value") < 0 ||
	    jm_need(c, item, "op") < 0)
		return -1;
	/* A syscall has at most six arguments. */
	if (jm_range(c, item, "index", 0, 5, &index) < 0 ||
	    jm_u64(c, item, "value", &a->value) < 0 ||
	    jm_u64(c, item, "valueTwo", &a->value_two) < 0 || jm_str(c, item, "op", &op) < 0)
		return -1;
	a->index = (unsigned int)index;
	v = husk_lookup(husk_seccomp_op_names, husk_n_seccomp_op_names, op);
	if (v < 0) {
		jp_key(c, "op");
		return jfail(c, "unknown seccomp operator \"%s\"", op);
	}
	a->op = (enum husk_seccomp_op)v;
	return 0;
}

static int parse_rule(struct jctx *c, json_t *item, struct husk_seccomp_rule *r)
{
	json_t *arr, *arg;
	size_t i;
	int rc;

	if (!json_is_object(item))
		return jfail(c, "must be an object");
	if (jm_need(c, item, "names") < 0 || jm_strv(c, item, "names", &r->names) < 0)
		return -1;
	if (r->names.n == 0) {
		jp_key(c, "names");
		return jfail(c, "must not be empty");
	}
	if (jm_action(c, item, "action", &r->action) < 0)
		return -1;
	if ((rc = jm_u32(c, item, "errnoRet", &r->errno_ret)) < 0)
		return -1;
	r->has_errno_ret = rc > 0;
	if ((rc = jm_arr(c, item, "args", &arr)) <= 0)
		return rc;
	jp_key(c, "args");
	r->args = jcalloc(c, json_array_size(arr), sizeof(*r->args), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, arg)
	{
		size_t old = jp_idx(c, i);
		if (parse_arg(c, arg, &r->args[i]) < 0)
			return -1;
		r->n_args = i + 1;
		jp_pop(c, old);
	}
	return 0;
}

static int parse_rules(struct jctx *c, json_t *obj, struct husk_seccomp *s)
{
	json_t *arr, *item;
	size_t i, old;
	int rc;

	if ((rc = jm_arr(c, obj, "syscalls", &arr)) <= 0)
		return rc;
	old = jp_key(c, "syscalls");
	s->rules = jcalloc(c, json_array_size(arr), sizeof(*s->rules), &rc);
	if (rc < 0)
		return -1;
	json_array_foreach(arr, i, item)
	{
		size_t o2 = jp_idx(c, i);
		s->n_rules = i + 1;
		if (parse_rule(c, item, &s->rules[i]) < 0)
			return -1;
		/* The listener socket is where notifications go; without it the
		 * filter could not be installed. */
		if (s->rules[i].action == HUSK_SCMP_NOTIFY && !s->listener_path) {
			jp_key(c, "action");
			return jfail(c, "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
		}
		jp_pop(c, o2);
	}
	jp_pop(c, old);
	return 0;
}

int husk_parse_seccomp(struct jctx *c, json_t *obj, struct husk_seccomp *s)
{
	int rc;

	if (jm_action(c, obj, "defaultAction", &s->default_action) < 0)
		return -1;
	if (s->default_action == HUSK_SCMP_NOTIFY) {
		jp_key(c, "defaultAction");
		return jfail(c, "SCMP_ACT_NOTIFY cannot be the default action");
	}
	if ((rc = jm_u32(c, obj, "defaultErrnoRet", &s->default_errno_ret)) < 0)
		return -1;
	s->has_default_errno_ret = rc > 0;
	if (check_names(c, obj, "architectures", &s->architectures, husk_seccomp_arch_names,
			husk_n_seccomp_arch_names, "architecture") < 0 ||
	    check_names(c, obj, "flags", &s->flags, husk_seccomp_flag_names,
			husk_n_seccomp_flag_names, "flag") < 0)
		return -1;
	if (jm_str(c, obj, "listenerPath", &s->listener_path) < 0 ||
	    jm_str(c, obj, "listenerMetadata", &s->listener_metadata) < 0)
		return -1;
	if (s->listener_path && s->listener_path[0] == '\0') {
		free(s->listener_path);
		s->listener_path = NULL;
	}
	return parse_rules(c, obj, s);
}
