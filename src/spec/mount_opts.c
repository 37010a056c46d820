/* OCI mount options -> mount(2) flags, propagation, mount_setattr(2)
 * attributes for the recursive ("r"-prefixed) variants, and the data string
 * for everything the filesystem itself interprets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "spec/spec.h"
#include "spec/tables.h"
#include "util/cleanup.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

enum opt_kind {
	OPT_NONE,  /* accepted, means nothing ("defaults") */
	OPT_SET,   /* set an MS_* flag */
	OPT_CLEAR, /* clear an MS_* flag */
	OPT_PROPAGATION,
	OPT_ATTR_SET,	/* recursive: set MOUNT_ATTR_* */
	OPT_ATTR_CLEAR, /* recursive: clear MOUNT_ATTR_* */
	OPT_ATIME,	/* recursive: replace the atime mode */
	OPT_BIND,
	OPT_RBIND,
	OPT_IDMAP,
	OPT_RIDMAP,
	OPT_TMPCOPYUP,
};

struct mount_opt {
	const char *name;
	enum opt_kind kind;
	unsigned long value;
};

static const struct mount_opt mount_opts[] = {
    {"ro", OPT_SET, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nosuid", OPT_SET, MS_NOSUID},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"nodev", OPT_SET, MS_NODEV},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"noexec", OPT_SET, MS_NOEXEC},
    {"sync", OPT_SET, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_SET, MS_DIRSYNC},
    {"remount", OPT_SET, MS_REMOUNT},
    {"mand", OPT_SET, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"noatime", OPT_SET, MS_NOATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"nodiratime", OPT_SET, MS_NODIRATIME},
    {"relatime", OPT_SET, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_SET, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"lazytime", OPT_SET, MS_LAZYTIME},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
    {"nosymfollow", OPT_SET, MS_NOSYMFOLLOW},
    {"acl", OPT_SET, MS_POSIXACL},
    {"noacl", OPT_CLEAR, MS_POSIXACL},
    {"iversion", OPT_SET, MS_I_VERSION},
    {"noiversion", OPT_CLEAR, MS_I_VERSION},
    {"silent", OPT_SET, MS_SILENT},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"defaults", OPT_NONE, 0},
    {"bind", OPT_BIND, 0},
    {"rbind", OPT_RBIND, 0},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", OPT_ATIME, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rrelatime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rstrictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_RIDMAP, 0},
    {"tmpcopyup", OPT_TMPCOPYUP, 0},
};

/* For `husk features`: the option names in table order, NULL past the end. */
const char *husk_mount_option_at(size_t i)
{
	return i < HUSK_ARRAY_SIZE(mount_opts) ? mount_opts[i].name : NULL;
}

static const struct mount_opt *find_opt(const char *name)
{
	for (size_t i = 0; i < HUSK_ARRAY_SIZE(mount_opts); i++)
		if (strcmp(mount_opts[i].name, name) == 0)
			return &mount_opts[i];
	return NULL;
}

/* Later options override earlier ones, as with mount(8). */
static void apply_opt(const struct mount_opt *o, struct husk_mount_opts *out)
{
	switch (o->kind) {
	case OPT_NONE:
		break;
	case OPT_SET:
		out->flags |= o->value;
		out->clear_flags &= ~o->value;
		break;
	case OPT_CLEAR:
		out->clear_flags |= o->value;
		out->flags &= ~o->value;
		break;
	case OPT_PROPAGATION:
		out->propagation = o->value;
		break;
	case OPT_ATTR_SET:
		out->attr_set |= o->value;
		out->attr_clr &= ~(uint64_t)o->value;
		break;
	case OPT_ATTR_CLEAR:
		out->attr_clr |= o->value;
		out->attr_set &= ~(uint64_t)o->value;
		break;
	case OPT_ATIME:
		/* The atime modes share one field: clear it, then pick a mode. */
		out->attr_clr |= MOUNT_ATTR__ATIME;
		out->attr_set = (out->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->value;
		break;
	case OPT_BIND:
		out->bind = true;
		out->flags |= MS_BIND;
		break;
	case OPT_RBIND:
		out->bind = true;
		out->recursive = true;
		out->flags |= MS_BIND | MS_REC;
		break;
	case OPT_IDMAP:
		out->idmap = true;
		break;
	case OPT_RIDMAP:
		out->idmap = true;
		out->idmap_recursive = true;
		break;
	case OPT_TMPCOPYUP:
		out->tmpcopyup = true;
		break;
	}
}

static int append_data(char **data, size_t *len, const char *opt)
{
	size_t n = strlen(opt);
	char *p = realloc(*data, *len + n + 2);
	if (!p)
		return -1;
	if (*len)
		p[(*len)++] = ',';
	memcpy(p + *len, opt, n + 1);
	*len += n;
	*data = p;
	return 0;
}

int husk_mount_options_parse(const struct husk_strv *options, struct husk_mount_opts *out,
			     struct husk_err *err)
{
	size_t data_len = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; options && i < options->n; i++) {
		const char *name = options->v[i];
		const struct mount_opt *o;
		if (!name || !*name)
			continue;
		o = find_opt(name);
		if (o) {
			apply_opt(o, out);
		} else if (append_data(&out->data, &data_len, name) < 0) {
			free(out->data);
			out->data = NULL;
			return husk_err_set(err, ENOMEM, "mount option %s", name);
		}
	}
	return 0;
}
