/* Mount option strings -> flags, propagation, recursive attributes, data. */
#include <sys/mount.h>

#include "spec_test.h"

static struct husk_mount_opts parse(const char **opts, size_t n)
{
	struct husk_strv v = {(char **)opts, n};
	struct husk_mount_opts out;
	struct husk_err err = {0};
	assert_int_equal(husk_mount_options_parse(&v, &out, &err), 0);
	return out;
}

#define PARSE(...)                                                                                 \
	({                                                                                         \
		static const char *o_[] = {__VA_ARGS__};                                           \
		parse(o_, sizeof(o_) / sizeof(o_[0]));                                             \
	})

static void empty(void **state)
{
	struct husk_strv v = {0};
	struct husk_mount_opts out;
	struct husk_err err = {0};
	assert_int_equal(husk_mount_options_parse(&v, &out, &err), 0);
	assert_int_equal(out.flags, 0);
	assert_null(out.data);
	assert_false(out.bind);
}

static void set_flags(void **state)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} cases[] = {
	    {"ro", MS_RDONLY},	       {"nosuid", MS_NOSUID},
	    {"nodev", MS_NODEV},       {"noexec", MS_NOEXEC},
	    {"sync", MS_SYNCHRONOUS},  {"dirsync", MS_DIRSYNC},
	    {"remount", MS_REMOUNT},   {"mand", MS_MANDLOCK},
	    {"noatime", MS_NOATIME},   {"nodiratime", MS_NODIRATIME},
	    {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME},
	    {"lazytime", MS_LAZYTIME}, {"nosymfollow", MS_NOSYMFOLLOW},
	    {"acl", MS_POSIXACL},      {"iversion", MS_I_VERSION},
	    {"silent", MS_SILENT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *o[] = {cases[i].name};
		struct husk_mount_opts m = parse(o, 1);
		assert_int_equal(m.flags, cases[i].flag);
		assert_int_equal(m.clear_flags, 0);
		assert_null(m.data);
	}
}

static void clear_flags(void **state)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} cases[] = {
	    {"rw", MS_RDONLY},		 {"suid", MS_NOSUID},
	    {"dev", MS_NODEV},		 {"exec", MS_NOEXEC},
	    {"async", MS_SYNCHRONOUS},	 {"nomand", MS_MANDLOCK},
	    {"atime", MS_NOATIME},	 {"diratime", MS_NODIRATIME},
	    {"norelatime", MS_RELATIME}, {"nostrictatime", MS_STRICTATIME},
	    {"nolazytime", MS_LAZYTIME},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *o[] = {cases[i].name};
		struct husk_mount_opts m = parse(o, 1);
		assert_int_equal(m.flags, 0);
		assert_int_equal(m.clear_flags, cases[i].flag);
	}
}

static void defaults_is_a_no_op(void **state)
{
	struct husk_mount_opts m = PARSE("defaults");
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.clear_flags, 0);
	assert_null(m.data);
}

static void last_one_wins(void **state)
{
	struct husk_mount_opts m = PARSE("ro", "rw");
	assert_int_equal(m.flags & MS_RDONLY, 0);
	assert_true(m.clear_flags & MS_RDONLY);
	m = PARSE("rw", "ro");
	assert_true(m.flags & MS_RDONLY);
	assert_int_equal(m.clear_flags & MS_RDONLY, 0);
}

static void bind_and_rbind(void **state)
{
	struct husk_mount_opts m = PARSE("bind");
	assert_true(m.bind);
	assert_false(m.recursive);
	assert_int_equal(m.flags, MS_BIND);
	m = PARSE("rbind", "ro");
	assert_true(m.bind);
	assert_true(m.recursive);
	assert_int_equal(m.flags, MS_BIND | MS_REC | MS_RDONLY);
}

static void propagation(void **state)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} cases[] = {
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *o[] = {cases[i].name};
		struct husk_mount_opts m = parse(o, 1);
		assert_int_equal(m.propagation, cases[i].flags);
		assert_int_equal(m.flags, 0);
	}
}

static void recursive_attributes(void **state)
{
	struct husk_mount_opts m = PARSE("rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow");
	assert_int_equal(m.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					 MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(m.attr_clr, 0);
	assert_int_equal(m.flags, 0);
	m = PARSE("rrw", "rsuid", "rdev", "rexec");
	assert_int_equal(m.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					 MOUNT_ATTR_NOEXEC);
	assert_int_equal(m.attr_set, 0);
	m = PARSE("rro", "rrw");
	assert_int_equal(m.attr_set, 0);
	assert_int_equal(m.attr_clr, MOUNT_ATTR_RDONLY);
}

static void recursive_atime(void **state)
{
	struct husk_mount_opts m = PARSE("rnoatime");
	assert_int_equal(m.attr_set, MOUNT_ATTR_NOATIME);
	assert_int_equal(m.attr_clr, MOUNT_ATTR__ATIME);
	m = PARSE("rnoatime", "rstrictatime");
	assert_int_equal(m.attr_set, MOUNT_ATTR_STRICTATIME);
	m = PARSE("rnoatime", "rrelatime");
	assert_int_equal(m.attr_set, MOUNT_ATTR_RELATIME);
	assert_int_equal(m.attr_clr, MOUNT_ATTR__ATIME);
	m = PARSE("rnodiratime");
	assert_int_equal(m.attr_set, MOUNT_ATTR_NODIRATIME);
}

static void idmap_and_tmpcopyup(void **state)
{
	struct husk_mount_opts m = PARSE("idmap");
	assert_true(m.idmap);
	assert_false(m.idmap_recursive);
	m = PARSE("ridmap", "tmpcopyup");
	assert_true(m.idmap);
	assert_true(m.idmap_recursive);
	assert_true(m.tmpcopyup);
	assert_null(m.data);
}

static void data_joined(void **state)
{
	struct husk_mount_opts m =
	    PARSE("nosuid", "mode=755", "", "size=65536k", "noexec", "uid=5", "newinstance");
	assert_string_equal(m.data, "mode=755,size=65536k,uid=5,newinstance");
	assert_int_equal(m.flags, MS_NOSUID | MS_NOEXEC);
	free(m.data);
}

static void in_spec_every_mount_has_opts(void **state)
{
	struct husk_spec *s = parse_ok(
	    CONFIG(",\"mounts\":[{\"destination\":\"/dev/"
		   "pts\",\"type\":\"devpts\",\"options\":[\"nosuid\","
		   "\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{"
		   "\"destination\":"
		   "\"/m\",\"source\":\"/h\",\"options\":[\"rbind\",\"rro\",\"rprivate\"]}]"));
	assert_string_equal(s->mounts[0].opts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	assert_int_equal(s->mounts[0].opts.flags, MS_NOSUID | MS_NOEXEC);
	assert_int_equal(s->mounts[1].opts.propagation, MS_PRIVATE | MS_REC);
	assert_int_equal(s->mounts[1].opts.attr_set, MOUNT_ATTR_RDONLY);
	assert_true(s->mounts[1].opts.recursive);
	husk_spec_free(s);
}

RUN(cmocka_unit_test(empty), cmocka_unit_test(set_flags), cmocka_unit_test(clear_flags),
    cmocka_unit_test(defaults_is_a_no_op), cmocka_unit_test(last_one_wins),
    cmocka_unit_test(bind_and_rbind), cmocka_unit_test(propagation),
    cmocka_unit_test(recursive_attributes), cmocka_unit_test(recursive_atime),
    cmocka_unit_test(idmap_and_tmpcopyup), cmocka_unit_test(data_joined),
    cmocka_unit_test(in_spec_every_mount_has_opts))
