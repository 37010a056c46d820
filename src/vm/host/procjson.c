/* An exec'd process back to its OCI JSON form, for the guest's agent: the
 * fields a process in a VM can have (no LSM labels: the guest has none). */
#include <stdio.h>

#include "spec/tables.h"
#include "vm/host/vm.h"

static json_t *strv(const struct husk_strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *cap_set(uint64_t set)
{
	json_t *a = json_array();

	for (int cap = 0; a && cap <= husk_cap_last() && cap < 64; cap++)
		if ((set & (1ull << cap)) && husk_cap_name(cap))
			json_array_append_new(a, json_string(husk_cap_name(cap)));
	return a;
}

static json_t *caps(const struct husk_caps *c)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "bounding", cap_set(c->bounding), "effective",
			 cap_set(c->effective), "inheritable", cap_set(c->inheritable), "permitted",
			 cap_set(c->permitted), "ambient", cap_set(c->ambient));
}

static json_t *user(const struct husk_user *u)
{
	json_t *o = json_pack("{s:I,s:I}", "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid);
	json_t *gids = json_array();

	for (size_t i = 0; gids && i < u->n_additional_gids; i++)
		json_array_append_new(gids, json_integer(u->additional_gids[i]));
	if (o && gids && u->n_additional_gids)
		json_object_set(o, "additionalGids", gids);
	json_decref(gids);
	if (o && u->has_umask)
		json_object_set_new(o, "umask", json_integer(u->umask));
	return o;
}

static const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < husk_n_rlimit_names; i++)
		if (husk_rlimit_names[i].value == resource)
			return husk_rlimit_names[i].name;
	return NULL;
}

static json_t *rlimits(const struct husk_process *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < p->n_rlimits; i++) {
		const char *name = rlimit_name(p->rlimits[i].resource);
		if (name)
			json_array_append_new(a, json_pack("{s:s,s:I,s:I}", "type", name, "soft",
							   (json_int_t)p->rlimits[i].soft, "hard",
							   (json_int_t)p->rlimits[i].hard));
	}
	return a;
}

json_t *husk_vm_process_json(const struct husk_process *p)
{
	json_t *o = json_pack("{s:b,s:s,s:o,s:o,s:o,s:b}", "terminal", p->terminal, "cwd",
			      p->cwd ? p->cwd : "/", "args", strv(&p->args), "env", strv(&p->env),
			      "user", user(&p->user), "noNewPrivileges", p->no_new_privileges);

	if (o && p->has_caps)
		json_object_set_new(o, "capabilities", caps(&p->caps));
	if (o && p->n_rlimits)
		json_object_set_new(o, "rlimits", rlimits(p));
	if (o && p->has_oom_score_adj)
		json_object_set_new(o, "oomScoreAdj", json_integer(p->oom_score_adj));
	return o;
}
