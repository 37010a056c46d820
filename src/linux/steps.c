/* The runner of the child's set-up recipes (child.c's tables): each step
 * in order, skipped where it does not apply, traced under --debug, and its
 * name put before any error, so the runtime's message says which step of
 * the container process failed. */
#include "linux/internal.h"
#include "util/log.h"

int husk_steps_run(const struct husk_step *steps, size_t n, struct husk_child *c,
		   struct husk_err *err)
{
	char buf[160];

	for (size_t i = 0; i < n; i++) {
		const struct husk_step *s = &steps[i];
		if (s->applies && !s->applies(c))
			continue;
		uint64_t t0 = husk_trace_begin();
		int rc = s->run(c, err);
		if (t0)
			husk_trace_end(t0, s->name,
				       s->object ? s->object(c, buf, sizeof(buf)) : s->what,
				       rc < 0);
		if (rc < 0)
			return husk_err_prefix(err, "%s", s->name);
	}
	return 0;
}
