#include "util/ids.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#define SHOWN_MAX 32 /* digits of a huge number shown in an error */

int husk_id_check(int64_t v, uint32_t *out, struct husk_err *err)
{
	if (v < 0 || v > HUSK_ID_MAX)
		return husk_err_set(err, 0, "%" PRId64 " is out of range (0..%d)", v, HUSK_ID_MAX);
	*out = (uint32_t)v;
	return 0;
}

/* Parse the n bytes at s (not NUL terminated: a part of "UID:GID"). */
static int parse_part(const char *s, size_t n, uint32_t *out, struct husk_err *err)
{
	uint64_t v = 0;

	if (n == 0)
		return husk_err_set(err, 0, "\"\" is not a decimal id");
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return husk_err_set(err, 0, "\"%.*s\" is not a decimal id",
					    (int)(n < SHOWN_MAX ? n : SHOWN_MAX), s);
	/* Stop adding digits once past the limit: no overflow, however long. */
	for (size_t i = 0; i < n && v <= HUSK_ID_MAX; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > HUSK_ID_MAX)
		return husk_err_set(err, 0, "%.*s%s is out of range (0..%d)",
				    (int)(n < SHOWN_MAX ? n : SHOWN_MAX), s,
				    n > SHOWN_MAX ? "..." : "", HUSK_ID_MAX);
	*out = (uint32_t)v;
	return 0;
}

int husk_id_parse(const char *s, uint32_t *out, struct husk_err *err)
{
	return parse_part(s, strlen(s), out, err);
}

int husk_user_parse(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
		    struct husk_err *err)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (parse_part(s, n, uid, err) < 0)
		return husk_err_prefix(err, "uid");
	*has_gid = colon != NULL;
	if (colon && husk_id_parse(colon + 1, gid, err) < 0)
		return husk_err_prefix(err, "gid");
	return 0;
}
