/* Paths in config.json that name places inside the container: cleaned
 * lexically once here, so the code that mounts and creates nodes sees one
 * spelling ("/a/./b//" is "/a/b") and never a ".." that climbs. */
#include <string.h>

#include "spec/parse.h"

/* Go's filepath.Clean for an absolute path, in place: collapse repeated
 * slashes, drop "." and let ".." remove the component before it. Each byte
 * is written once and removed at most once, so this is linear whatever the
 * input (a config may hold thousands of long paths). */
bool husk_path_clean(char *path)
{
	char *w = path + 1; /* the output so far is [path, w): "/" or "/a/b" */
	const char *r = path + 1;

	while (*r) {
		const char *end;
		size_t n;

		if (*r == '/') {
			r++;
			continue;
		}
		end = strchrnul(r, '/');
		n = (size_t)(end - r);
		if (n == 2 && r[0] == '.' && r[1] == '.') {
			if (w == path + 1)
				return false; /* above the root */
			while (w[-1] != '/')
				w--;
			if (w > path + 1)
				w--; /* the slash before the removed component */
		} else if (n != 1 || r[0] != '.') {
			if (w > path + 1)
				*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r = end;
	}
	*w = '\0';
	return true;
}

int husk_check_abs_path(struct jctx *c, char *path)
{
	if (path[0] != '/')
		return jfail(c, "must be absolute");
	if (!husk_path_clean(path))
		return jfail(c, "must not climb above / with \"..\"");
	if (path[1] == '\0')
		return jfail(c, "must not be /");
	return 0;
}
