/* Host cgroup layout: the mode (v1, v2, hybrid) from filesystem magics, and
 * the hierarchies from /proc/self/cgroup. Mount points are looked for at the
 * standard /sys/fs/cgroup/<name> first (one statfs each); /proc/self/mountinfo
 * is parsed only when a hierarchy is not there. Computed once per process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static struct cg_layout *cached;
static char test_root[PATH_MAX];
static char test_self[PATH_MAX];
static enum husk_cgroup_mode test_mode;

static const char *cg_root(void)
{
	return test_root[0] ? test_root : "/sys/fs/cgroup";
}

static void layout_free(struct cg_layout *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].controllers);
		free(l->m[i].dir);
		free(l->m[i].own);
	}
	free(l->m);
	free(l->unified_controllers);
	free(l);
}

void husk_cgroup_test_setup(const char *root, enum husk_cgroup_mode mode,
			    const char *self_cgroup_file)
{
	layout_free(cached);
	cached = NULL;
	snprintf(test_root, sizeof(test_root), "%s", root ? root : "");
	snprintf(test_self, sizeof(test_self), "%s",
		 root && self_cgroup_file ? self_cgroup_file : "");
	test_mode = mode;
}

bool cg_list_has(const char *list, char sep, const char *word)
{
	size_t len = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, sep);
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && memcmp(p, word, len) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static bool fs_magic_is(const char *path, long magic)
{
	struct statfs st;
	return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

static int detect_mode(enum husk_cgroup_mode *mode, struct husk_err *err)
{
	char unified[PATH_MAX];
	struct statfs st;

	if (test_root[0]) {
		*mode = test_mode;
		return 0;
	}
	if (statfs("/sys/fs/cgroup", &st) < 0)
		return husk_err_sys(err, "statfs /sys/fs/cgroup");
	if ((long)st.f_type == CGROUP2_SUPER_MAGIC) {
		*mode = HUSK_CGROUP_V2;
		return 0;
	}
	snprintf(unified, sizeof(unified), "%s/unified", cg_root());
	*mode = fs_magic_is(unified, CGROUP2_SUPER_MAGIC) ? HUSK_CGROUP_HYBRID : HUSK_CGROUP_V1;
	return 0;
}

/* Slow path: find the cgroup v1 mount whose super options name exactly the
 * controllers of a hierarchy (mountinfo field after " - cgroup cgroup "). */
static char *mountinfo_find(const char *controllers)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - cgroup ");
		char mnt[PATH_MAX], src[256], opts[1024];
		bool all = true;
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep, " - cgroup %255s %1023s", src, opts) != 2)
			continue;
		_cleanup_free_ char *want = strdup(controllers);
		if (!want)
			return NULL;
		for (char *save = NULL, *c = strtok_r(want, ",", &save); c;
		     c = strtok_r(NULL, ",", &save))
			all = all && cg_list_has(opts, ',', c);
		if (all)
			return strdup(mnt);
	}
	return NULL;
}

static const char *hierarchy_name(const char *controllers)
{
	return strncmp(controllers, "name=", 5) == 0 ? controllers + 5 : controllers;
}

/* <root>/<name>, without asprintf (this runs for every hierarchy of every
 * command). */
static char *standard_dir(const char *controllers)
{
	const char *root = cg_root(), *name = hierarchy_name(controllers);
	size_t rl = strlen(root), nl = strlen(name);
	char *dir = malloc(rl + nl + 2);

	if (!dir)
		return NULL;
	memcpy(dir, root, rl);
	dir[rl] = '/';
	memcpy(dir + rl + 1, name, nl + 1);
	return dir;
}

bool cg_mount_is_standard(const struct cg_mount *m)
{
	const char *root = cg_root();
	size_t rl = strlen(root);

	return m->unified || (strncmp(m->dir, root, rl) == 0 && m->dir[rl] == '/' &&
			      strcmp(m->dir + rl + 1, hierarchy_name(m->controllers)) == 0);
}

bool cg_mount_check(struct cg_mount *m)
{
	char *found;
	if (m->checked)
		return m->missing;
	m->checked = true;
	if (fs_magic_is(m->dir, CGROUP_SUPER_MAGIC))
		return false;
	found = mountinfo_find(m->controllers);
	if (found) {
		free(m->dir);
		m->dir = found;
		return false;
	}
	husk_debug("cgroup hierarchy %s is not mounted; not using it", m->controllers);
	m->missing = true;
	return true;
}

/* Only real controllers and the systemd named hierarchy are joined, like runc. */
static bool v1_wanted(const char *controllers)
{
	return controllers[0] &&
	       (strncmp(controllers, "name=", 5) != 0 || strcmp(controllers, "name=systemd") == 0);
}

static int add_mount(struct cg_layout *l, const char *controllers, const char *own, bool unified,
		     struct husk_err *err)
{
	struct cg_mount *m;
	char *dir;

	if (unified) {
		if (asprintf(&dir, "%s%s", cg_root(),
			     l->mode == HUSK_CGROUP_HYBRID ? "/unified" : "") < 0)
			dir = NULL;
	} else {
		dir = standard_dir(controllers);
	}
	m = realloc(l->m, (l->n + 1) * sizeof(*m));
	if (!m || !dir) {
		free(dir);
		return husk_err_set(err, ENOMEM, "cgroup layout");
	}
	l->m = m;
	m = &l->m[l->n];
	m->dir = dir;
	m->controllers = strdup(controllers);
	m->own = strdup(own);
	m->unified = unified;
	/* Detection already checked the unified mount; tests use plain dirs. */
	m->checked = unified || test_root[0];
	m->missing = false;
	l->n++;
	if (!m->controllers || !m->own)
		return husk_err_set(err, ENOMEM, "cgroup layout");
	return 0;
}

static int parse_self_cgroup(struct cg_layout *l, struct husk_err *err)
{
	const char *file = test_self[0] ? test_self : "/proc/self/cgroup";
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return husk_err_sys(err, "open %s", file);
	while ((len = getline(&line, &cap, f)) > 0) {
		char *ctrls, *own;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		ctrls = strchr(line, ':');
		own = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!own)
			continue;
		*ctrls++ = '\0';
		*own++ = '\0';
		bool unified = strcmp(line, "0") == 0 && ctrls[0] == '\0';
		if (unified ? l->mode == HUSK_CGROUP_V1
			    : l->mode == HUSK_CGROUP_V2 || !v1_wanted(ctrls))
			continue;
		if (add_mount(l, ctrls, own, unified, err) < 0)
			return -1;
	}
	return 0;
}

/* Read on first use: only cgroup2 controller lookups need it, and most
 * commands (state, kill, delete) never ask. "" when it cannot be read. */
const char *cg_unified_controllers(const struct cg_layout *l)
{
	struct cg_layout *w = (struct cg_layout *)l;
	char path[PATH_MAX], buf[512] = "";
	_cleanup_close_ int fd = -1;

	if (w->unified_controllers)
		return w->unified_controllers;
	for (size_t i = 0; i < w->n && fd < 0; i++) {
		if (!w->m[i].unified)
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.controllers", w->m[i].dir);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
	w->unified_controllers = strdup(buf);
	return w->unified_controllers ? w->unified_controllers : "";
}

const struct cg_layout *cg_layout_get(struct husk_err *err)
{
	struct cg_layout *l;

	if (cached)
		return cached;
	l = calloc(1, sizeof(*l));
	if (!l) {
		husk_err_set(err, ENOMEM, "cgroup layout");
		return NULL;
	}
	if (detect_mode(&l->mode, err) < 0 || parse_self_cgroup(l, err) < 0) {
		layout_free(l);
		return NULL;
	}
	if (l->n == 0) {
		layout_free(l);
		husk_err_set(err, ENOENT, "no cgroup hierarchy is mounted");
		return NULL;
	}
	cached = l;
	return l;
}

int husk_cgroup_mode(enum husk_cgroup_mode *out, struct husk_err *err)
{
	if (cached) {
		*out = cached->mode;
		return 0;
	}
	return detect_mode(out, err);
}
