/* exec's default process: the container's own with exec's flags applied.
 * In the library so an embedder gets runc's behaviour without writing it
 * again; the CLI only parses the flags into husk_exec_process_opts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

/* The config's environment with each KEY=VALUE of `extra` replacing the
 * same KEY, or added after it. */
static int merge_env(const struct husk_strv *base, char *const *extra, size_t n_extra,
		     struct husk_strv *out)
{
	out->v = calloc(base->n + n_extra + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (size_t i = 0; i < base->n; i++)
		out->v[out->n++] = base->v[i];
	for (size_t i = 0; i < n_extra; i++) {
		const char *eq = strchr(extra[i], '=');
		size_t klen = eq ? (size_t)(eq - extra[i]) : strlen(extra[i]);
		size_t j;
		for (j = 0; j < out->n; j++)
			if (strncmp(out->v[j], extra[i], klen) == 0 && out->v[j][klen] == '=')
				break;
		out->v[j] = extra[i];
		if (j == out->n)
			out->n++;
	}
	return 0;
}

/* The config's additional gids, then the flags'. Always a fresh array, so
 * release can free it. */
static int merge_gids(const struct husk_process *base, const struct husk_exec_process_opts *o,
		      struct husk_process *p)
{
	size_t n = base->user.n_additional_gids;
	gid_t *gids = calloc(n + o->n_gids + 1, sizeof(*gids));

	if (!gids)
		return -1;
	if (n) /* additional_gids is NULL when the config lists none */
		memcpy(gids, base->user.additional_gids, n * sizeof(*gids));
	for (size_t i = 0; i < o->n_gids; i++)
		gids[n + i] = o->gids[i];
	p->user.additional_gids = gids;
	p->user.n_additional_gids = n + o->n_gids;
	return 0;
}

int husk_exec_process_from_opts(const struct husk_process *base,
				const struct husk_exec_process_opts *o, struct husk_process *p,
				struct husk_err *err)
{
	*p = *base;
	p->env = (struct husk_strv){0};
	p->user.additional_gids = NULL;
	if (o->n_args == 0)
		return husk_err_plain(err, EINVAL, "exec: no command to run");
	p->args.v = o->args;
	p->args.n = o->n_args;
	p->terminal = o->tty;
	if (o->cwd)
		p->cwd = (char *)o->cwd;
	if (merge_env(&base->env, o->env, o->n_env, &p->env) < 0 || merge_gids(base, o, p) < 0) {
		husk_exec_process_release(p);
		return husk_err_set(err, ENOMEM, "build process");
	}
	if (o->set_user) {
		p->user.uid = o->uid;
		p->user.gid = o->has_gid ? o->gid : 0;
	}
	/* As runc: --cap widens bounding, effective and permitted; inheritable
	 * and ambient stay what the config says. */
	if (o->caps) {
		p->has_caps = true;
		p->caps.bounding |= o->caps;
		p->caps.effective |= o->caps;
		p->caps.permitted |= o->caps;
	}
	if (o->no_new_privs)
		p->no_new_privileges = true;
	if (o->apparmor)
		p->apparmor_profile = (char *)o->apparmor;
	if (o->label)
		p->selinux_label = (char *)o->label;
	return 0;
}

void husk_exec_process_release(struct husk_process *p)
{
	free(p->env.v);
	free(p->user.additional_gids);
	p->env = (struct husk_strv){0};
	p->user.additional_gids = NULL;
	p->user.n_additional_gids = 0;
}
