/* `list`: a summary of every container under the state root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

/* The name of `uid` from /etc/passwd, as runc looks it up (husk is linked
 * statically, where glibc's NSS lookups would need its shared libraries). */
static bool passwd_name(uid_t uid, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char *name = line, *colon = strchr(line, ':');
		char *uid_field = colon ? strchr(colon + 1, ':') : NULL;
		char *end;
		if (!uid_field)
			continue;
		*colon = '\0';
		unsigned long v = strtoul(uid_field + 1, &end, 10);
		if (end != uid_field + 1 && *end == ':' && v == uid) {
			snprintf(buf, size, "%s", name);
			return true;
		}
	}
	return false;
}

/* Who owns the state directory (the user who created the container). */
static void owner_name(const struct husk_container *c, char *buf, size_t size)
{
	struct stat st;

	if (fstat(c->dir_fd, &st) < 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (!passwd_name(st.st_uid, buf, size))
		snprintf(buf, size, "#%u", (unsigned)st.st_uid);
}

/* strdup that keeps NULL; false when out of memory. */
static bool dup_into(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	return !s || *out;
}

static int summarize(struct husk_container *c, bool with_state_json,
		     struct husk_container_summary *out)
{
	char owner[64];

	owner_name(c, owner, sizeof(owner));
	out->pid = c->status == HUSK_STATUS_STOPPED ? 0 : c->pid;
	out->status = c->status;
	if (!dup_into(&out->bundle, c->bundle) || !dup_into(&out->created, c->created) ||
	    !dup_into(&out->owner, owner))
		return -1;
	if (with_state_json) {
		/* The state's owner is the one the table shows, as runc's list. */
		struct husk_container shown = *c;
		shown.owner = owner;
		out->state_json = husk_container_state_json(&shown, false);
		out->state_json_errno = out->state_json ? 0 : errno;
	}
	return 0;
}

static void summary_clear(struct husk_container_summary *s)
{
	free(s->id);
	free(s->error);
	free(s->bundle);
	free(s->created);
	free(s->owner);
	free(s->state_json);
	memset(s, 0, sizeof(*s));
}

/* One entry: the container's summary or why its record cannot be read;
 * *skip for one deleted while we list. -1 when out of memory. */
static int list_one(const struct husk_ctx *ctx, const char *id, bool with_state_json,
		    struct husk_container_summary *out, bool *skip)
{
	struct husk_err load_err = {0};
	struct husk_container *c;
	int r;

	*skip = false;
	if (!dup_into(&out->id, id))
		return -1;
	if (husk_container_load(ctx, id, &c, &load_err) < 0) {
		*skip = load_err.code == ENOENT;
		out->error_code = load_err.code;
		return *skip || dup_into(&out->error, load_err.msg) ? 0 : -1;
	}
	r = summarize(c, with_state_json, out);
	husk_container_free(c);
	return r;
}

int husk_list(const struct husk_ctx *ctx, bool with_state_json,
	      struct husk_container_summary **list, size_t *n, struct husk_err *err)
{
	struct husk_container_summary *out;
	char **ids;
	size_t n_ids, used = 0;
	int r = 0;

	if (husk_list_ids(ctx, &ids, &n_ids, err) < 0)
		return husk_err_prefix(err, "list");
	out = calloc(n_ids ? n_ids : 1, sizeof(*out));
	for (size_t i = 0; out && i < n_ids; i++) {
		bool skip;
		r = list_one(ctx, ids[i], with_state_json, &out[used], &skip);
		if (r < 0 || skip)
			summary_clear(&out[used]);
		else
			used++;
		if (r < 0)
			break;
	}
	for (size_t i = 0; i < n_ids; i++)
		free(ids[i]);
	free(ids);
	if (!out || r < 0) {
		husk_list_free(out, used);
		return husk_err_set(err, ENOMEM, "list");
	}
	*list = out;
	*n = used;
	return 0;
}

void husk_list_free(struct husk_container_summary *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		summary_clear(&list[i]);
	free(list);
}
