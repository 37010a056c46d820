#include <limits.h>
#include <errno.h>
#include <string.h>

#include "spec/spec.h"

/* The id is the name of the state directory under --root and of the
 * container's cgroup directory: one file name, at most NAME_MAX bytes. */
#define ID_MAX NAME_MAX

/* Container ids name state directories and cgroups, so they must stay one
 * harmless path component. */
int husk_id_validate(const char *id, struct husk_err *err)
{
	size_t n;

	if (!id || !*id)
		return husk_err_plain(err, EINVAL, "invalid container id: must not be empty");
	n = strlen(id);
	if (n > ID_MAX)
		return husk_err_plain(err, EINVAL,
				      "invalid container id: %zu bytes, longer than %d (the "
				      "limit of a file name)",
				      n, ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return husk_err_plain(err, EINVAL, "invalid container id: not a valid name");
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '+' ||
			  ch == '-';
		if (!ok)
			return husk_err_plain(err, EINVAL,
					      "invalid container id: only letters, digits and "
					      "_ . + - are allowed");
	}
	return 0;
}
