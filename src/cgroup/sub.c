/* exec --cgroup: run an exec'd process in an existing sub-cgroup of the
 * container's cgroup instead of the container's cgroup itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"

/* A sub-cgroup may not name the container's cgroup's parent or a sibling:
 * no ".." component at all (the path is then lexically inside). */
static bool stays_inside(const char *sub)
{
	for (const char *p = sub; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		p += strspn(p, "/");
	}
	return true;
}

static int enter_one(const struct cg_hier *h, const char *sub, const char *pid,
		     struct husk_err *err)
{
	struct cg_hier at = *h;
	_cleanup_free_ char *dir = NULL;

	if (asprintf(&dir, "%s/%s", h->dir, sub) < 0)
		return husk_err_sys(err, "allocate");
	at.dir = dir;
	return cg_write(&at, "cgroup.procs", pid, err);
}

int husk_cgroup_enter_sub(struct husk_cgroup *cg, pid_t pid, const char *controller,
			  const char *sub, struct husk_err *err)
{
	char val[32];

	if (!stays_inside(sub))
		return husk_err_plain(err, EINVAL,
				      "--cgroup %s: not a sub-cgroup of the container's", sub);
	snprintf(val, sizeof(val), "%d", (int)pid);
	if (controller) {
		const struct cg_hier *h = cg_find(cg, controller);
		if (!h)
			return husk_err_plain(err, EINVAL, "--cgroup %s:%s: unknown controller %s",
					      controller, sub, controller);
		if (enter_one(h, sub, val, err) < 0)
			return husk_err_prefix(err, "join sub-cgroup %s", sub);
		return 0;
	}
	for (size_t i = 0; i < cg->n; i++)
		if (enter_one(&cg->h[i], sub, val, err) < 0)
			return husk_err_prefix(err, "join sub-cgroup %s", sub);
	return 0;
}
