/* linux.cgroupsPath handling and the encoding of the resolved paths that the
 * state store keeps between commands. Pure string work: no syscalls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"

/* The systemd driver's "slice:prefix:name" form: no leading '/', two ':'. */
static bool is_systemd_form(const char *p)
{
	const char *c1 = strchr(p, ':');
	return p[0] != '/' && c1 && strchr(c1 + 1, ':') && !strchr(strchr(c1 + 1, ':') + 1, ':');
}

int cg_path_normalize(const char *cgroups_path, const char *id, char **out, bool *absolute,
		      struct husk_err *err)
{
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : id;
	size_t len = strlen(p);
	char *res, *w;

	if (is_systemd_form(p))
		return husk_err_set(
		    err, 0,
		    "linux.cgroupsPath %s is the systemd driver's \"slice:prefix:name\": it "
		    "needs --systemd-cgroup (or a plain path such as /husk/%s)",
		    p, id);
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return husk_err_set(
			    err, 0, "linux.cgroupsPath: control characters are not allowed");
	*absolute = p[0] == '/';
	res = malloc(len + 2);
	if (!res)
		return husk_err_set(err, ENOMEM, "linux.cgroupsPath");
	w = res;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			free(res);
			return husk_err_set(err, 0, "linux.cgroupsPath %s: \"..\" is not allowed",
					    p);
		}
		if (n > 0 && !(n == 1 && s[0] == '.')) {
			*w++ = '/';
			memcpy(w, s, n);
			w += n;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	*w = '\0';
	if (w == res) {
		/* "/" alone would be the root cgroup itself: never the container's. */
		free(res);
		return husk_err_set(err, 0, "linux.cgroupsPath %s: names no cgroup below the root",
				    p);
	}
	if (!*absolute)
		memmove(res, res + 1, strlen(res)); /* relative: drop the leading '/' */
	*out = res;
	return 0;
}

char *cg_path_resolve(const char *norm, bool absolute, const char *own, bool unified)
{
	_cleanup_free_ char *base = NULL;
	char *out = NULL;

	if (absolute)
		return strdup(norm);
	base = strdup(own && *own ? own : "/");
	if (!base)
		return NULL;
	if (unified) {
		char *slash = strrchr(base, '/');
		if (slash)
			slash[slash == base ? 1 : 0] = '\0';
	}
	size_t blen = strlen(base);
	if (blen > 0 && base[blen - 1] == '/')
		base[blen - 1] = '\0';
	if (asprintf(&out, "%s/%s", base, norm) < 0)
		return NULL;
	return out;
}

/* Saved form. Usually just the path ("/husk/c1"): every hierarchy uses it
 * and created none of its parents. Otherwise lines follow: "*\t<parents>\t
 * <path>" when parents were created, then "<controllers or 0>\t<parents>\t
 * <path or ->[\t<mount point>]" for each hierarchy that differs ("-": not
 * joined; a mount point when not the standard one), as relative paths on v1
 * resolve per hierarchy. The systemd driver adds "@systemd\t<user 0|1>\t
 * <unit>". */
#define SYSTEMD_KEY "@systemd" /* no hierarchy's key starts with '@' */

static const char *key_of(const struct cg_mount *m)
{
	return m->unified ? "0" : m->controllers;
}

char *cg_saved_encode(const struct husk_cgroup *cg)
{
	const char *def = cg->n ? cg->h[0].path : "-";
	unsigned def_parents = cg->n ? cg->h[0].parents : 0;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fputs(def, f);
	if (def_parents) /* "*": the default for every hierarchy not listed */
		fprintf(f, "\n*\t%u\t%s", def_parents, def);
	for (size_t i = 0; i < cg->layout->n; i++) {
		const struct cg_mount *m = &cg->layout->m[i];
		const struct cg_hier *h = NULL;
		for (size_t j = 0; j < cg->n; j++)
			if (cg->h[j].mount == m)
				h = &cg->h[j];
		bool standard = cg_mount_is_standard(m);
		if (h && h->parents == def_parents && strcmp(h->path, def) == 0 && standard)
			continue;
		fprintf(f, "\n%s\t%u\t%s", key_of(m), h ? h->parents : 0, h ? h->path : "-");
		if (h && !standard) /* mounted elsewhere: later commands skip the lookup */
			fprintf(f, "\t%s", m->dir);
	}
	/* The systemd driver's scope, and whether the user's manager runs it. */
	if (cg->unit)
		fprintf(f, "\n%s\t%d\t%s", SYSTEMD_KEY, cg->user_manager ? 1 : 0, cg->unit);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* a followed by b, in a new string (asprintf costs ten times as much, for
 * every hierarchy of every command). */
char *cg_concat(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	char *s = malloc(al + bl + 1);
	if (s) {
		memcpy(s, a, al);
		memcpy(s + al, b, bl + 1);
	}
	return s;
}

static int add_hier(struct husk_cgroup *cg, const struct cg_mount *m, const char *path,
		    const char *mount_dir, unsigned parents, struct husk_err *err)
{
	struct cg_hier *h = &cg->h[cg->n];
	h->mount = m;
	h->parents = parents;
	h->path = strdup(path);
	h->dir = h->path ? cg_concat(mount_dir ? mount_dir : m->dir, path) : NULL;
	if (!h->dir)
		return husk_err_set(err, ENOMEM, "cgroup path");
	cg->n++;
	return 0;
}

/* Finds the saved line for hierarchy `key`: fills path (NULL for "-") and parents. */
static bool find_line(char *rest, const char *key, char **path, unsigned *parents)
{
	size_t klen = strlen(key);
	for (char *line = rest; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char *tab;
		if (strncmp(line, key, klen) != 0 || line[klen] != '\t')
			continue;
		*parents = (unsigned)strtoul(line + klen + 1, &tab, 10);
		if (*tab != '\t')
			return false;
		*path = tab + 1;
		return true;
	}
	return false;
}

/* Hierarchies mounted now but not named in the saved lines use the first
 * line's path; lines for hierarchies no longer mounted are ignored. */
int cg_saved_decode(struct husk_cgroup *cg, const char *saved, struct husk_err *err)
{
	_cleanup_free_ char *copy = strdup(saved);
	const struct cg_layout *l = cg->layout;
	char *rest;

	if (!copy)
		return husk_err_set(err, ENOMEM, "cgroup path");
	if (!cg->h) /* husk_cgroup_open() allocates it; tests may not */
		cg->h = calloc(l->n, sizeof(*cg->h));
	if (!cg->h)
		return husk_err_set(err, ENOMEM, "cgroup path");
	rest = strchr(copy, '\n');
	if (rest)
		*rest++ = '\0';
	if (copy[0] != '/' && strcmp(copy, "-") != 0)
		return husk_err_set(err, 0, "saved cgroup path %s is not absolute", copy);
	char *unit;
	unsigned user;
	if (find_line(rest, SYSTEMD_KEY, &unit, &user)) {
		cg->unit = strndup(unit, strcspn(unit, "\n"));
		cg->user_manager = user != 0;
		cg->unit_ours = true;
		if (!cg->unit)
			return husk_err_set(err, ENOMEM, "cgroup path");
	}
	for (size_t i = 0; i < l->n; i++) {
		char *path = copy;
		unsigned parents = 0;
		if (find_line(rest, key_of(&l->m[i]), &path, &parents) ||
		    find_line(rest, "*", &path, &parents)) {
			size_t len = strcspn(path, "\n");
			_cleanup_free_ char *one = strndup(path, len);
			if (!one)
				return husk_err_set(err, ENOMEM, "cgroup path");
			if (one[0] != '/')
				continue; /* "-": not joined */
			char *mount_dir = strchr(one, '\t');
			if (mount_dir)
				*mount_dir++ = '\0';
			if (add_hier(cg, &l->m[i], one, mount_dir, parents, err) < 0)
				return -1;
		} else if (path[0] == '/' && add_hier(cg, &l->m[i], path, NULL, 0, err) < 0) {
			return -1;
		}
	}
	return 0;
}
