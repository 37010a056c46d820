/* Top-level sections of config.json: version, root, hostname, mounts,
 * hooks, annotations, file loading and JSON syntax errors. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "spec_test.h"

static void minimal_config(void **state)
{
	struct husk_spec *s = parse_ok(CONFIG(""));
	assert_string_equal(s->oci_version, "1.2.0");
	assert_string_equal(s->root_path, "rootfs");
	assert_false(s->root_readonly);
	assert_null(s->process);
	assert_null(s->hostname);
	assert_int_equal(s->n_mounts, 0);
	assert_null(s->linux.resources);
	assert_null(s->linux.seccomp);
	husk_spec_free(s);
}

static void root_readonly(void **state)
{
	struct husk_spec *s =
	    parse_ok("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/r\",\"readonly\":true}}");
	assert_string_equal(s->root_path, "/r");
	assert_true(s->root_readonly);
	husk_spec_free(s);
}

static void unknown_members_ignored(void **state)
{
	struct husk_spec *s = parse_ok(CONFIG(",\"vm\":{\"x\":1},\"windows\":{},\"future\":[1,2]"));
	husk_spec_free(s);
}

static void null_is_absent(void **state)
{
	struct husk_spec *s = parse_ok(CONFIG(",\"hostname\":null,\"mounts\":null"));
	assert_null(s->hostname);
	husk_spec_free(s);
}

static void hostname_and_domainname(void **state)
{
	struct husk_spec *s =
	    parse_ok(CONFIG(",\"hostname\":\"box\",\"domainname\":\"example.org\","
			    "\"linux\":{\"namespaces\":[{\"type\":\"uts\"}]}"));
	assert_string_equal(s->hostname, "box");
	assert_string_equal(s->domainname, "example.org");
	husk_spec_free(s);
}

static void annotations(void **state)
{
	struct husk_spec *s = parse_ok(CONFIG(",\"annotations\":{\"a\":\"1\",\"b.c\":\"two\"}"));
	assert_int_equal(s->annotations.n, 2);
	assert_string_equal(s->annotations.v[0].key, "a");
	assert_string_equal(s->annotations.v[0].value, "1");
	assert_string_equal(s->annotations.v[1].key, "b.c");
	assert_string_equal(s->annotations.v[1].value, "two");
	husk_spec_free(s);
}

static void mounts(void **state)
{
	struct husk_spec *s = parse_ok(
	    CONFIG(",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		   "{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\"]},"
		   "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/x\"},"
		   "{\"destination\":\"/"
		   "t\",\"type\":\"tmpfs\",\"options\":[\"nosuid\",\"size=1m\",\"mode=755\"]}]"));
	assert_int_equal(s->n_mounts, 4);
	assert_string_equal(s->mounts[0].destination, "/proc");
	assert_string_equal(s->mounts[0].type, "proc");
	assert_string_equal(s->mounts[0].source, "proc");
	assert_false(s->mounts[0].opts.bind);
	assert_null(s->mounts[1].type);
	assert_true(s->mounts[1].opts.bind);
	assert_true(s->mounts[1].opts.recursive);
	assert_true(s->mounts[1].opts.flags & MS_RDONLY);
	assert_int_equal(s->mounts[1].options.n, 2);
	assert_true(s->mounts[2].opts.bind);
	assert_false(s->mounts[2].opts.recursive);
	assert_true(s->mounts[2].opts.flags & MS_BIND);
	assert_string_equal(s->mounts[3].opts.data, "size=1m,mode=755");
	assert_true(s->mounts[3].opts.flags & MS_NOSUID);
	husk_spec_free(s);
}

static void idmapped_mount(void **state)
{
	struct husk_spec *s = parse_ok(
	    CONFIG(",\"mounts\":[{\"destination\":\"/d\",\"source\":\"/s\",\"options\":[\"bind\"],"
		   "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
		   "\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":5}]}]"));
	assert_int_equal(s->mounts[0].n_uid_mappings, 1);
	assert_int_equal(s->mounts[0].uid_mappings[0].host_id, 1000);
	assert_int_equal(s->mounts[0].uid_mappings[0].size, 10);
	assert_int_equal(s->mounts[0].gid_mappings[0].host_id, 2000);
	assert_true(s->mounts[0].opts.idmap);
	husk_spec_free(s);
}

static void hooks(void **state)
{
	struct husk_spec *s = parse_ok(CONFIG(
	    ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/"
	    "a\",\"args\":[\"a\",\"x\"],\"env\":[\"K=V\"],"
	    "\"timeout\":5}],\"createRuntime\":[{\"path\":\"/bin/b\"},{\"path\":\"/bin/c\"}],"
	    "\"createContainer\":[{\"path\":\"/c\"}],\"startContainer\":[{\"path\":\"/s\"}],"
	    "\"poststart\":[{\"path\":\"/p\"}],\"poststop\":[{\"path\":\"/q\"}]}"));
	struct husk_hook *h = &s->hooks[HUSK_HOOK_PRESTART].v[0];
	assert_int_equal(s->hooks[HUSK_HOOK_PRESTART].n, 1);
	assert_string_equal(h->path, "/bin/a");
	assert_int_equal(h->args.n, 2);
	assert_string_equal(h->args.v[1], "x");
	assert_string_equal(h->env.v[0], "K=V");
	assert_true(h->has_timeout);
	assert_int_equal(h->timeout, 5);
	assert_int_equal(s->hooks[HUSK_HOOK_CREATE_RUNTIME].n, 2);
	assert_false(s->hooks[HUSK_HOOK_CREATE_RUNTIME].v[1].has_timeout);
	assert_string_equal(s->hooks[HUSK_HOOK_CREATE_CONTAINER].v[0].path, "/c");
	assert_string_equal(s->hooks[HUSK_HOOK_START_CONTAINER].v[0].path, "/s");
	assert_string_equal(s->hooks[HUSK_HOOK_POSTSTART].v[0].path, "/p");
	assert_string_equal(s->hooks[HUSK_HOOK_POSTSTOP].v[0].path, "/q");
	husk_spec_free(s);
}

static void malformed_json(void **state)
{
	parse_fails("{\"ociVersion\": \"1.0.0\",\n  \"root\": }",
		    "config.json: line 2 column 11: unexpected token near '}'");
}

static void not_an_object(void **state)
{
	parse_fails("[1,2]", "config.json: must be a JSON object");
}

static void empty_input(void **state)
{
	parse_fails("", "config.json: line 1 column 0: '[' or '{' expected near end of file");
}

static void load_from_bundle(void **state)
{
	char dir[] = "/tmp/husk-unit-XXXXXX", path[64];
	const char *json = CONFIG(",\"hostname\":\"\"");
	struct husk_err err = {0};
	struct husk_spec *s;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	s = husk_spec_load(dir, &err);
	assert_non_null(s);
	assert_string_equal(s->root_path, "rootfs");
	husk_spec_free(s);
	unlink(path);
	rmdir(dir);
}

static void load_missing(void **state)
{
	struct husk_err err = {0};
	assert_null(husk_spec_load("/nonexistent-bundle", &err));
	assert_string_equal(err.msg,
			    "open /nonexistent-bundle/config.json: No such file or directory");
}

/* A value that looks like the internal marker of big numbers is still an
 * ordinary string, and a big number is no string. */
static void marker_lookalike_string(void **state)
{
	struct husk_spec *s = parse_ok(
	    CONFIG(",\"hostname\":\"\\u00011\",\"linux\":{\"namespaces\":[{\"type\":\"uts\"}]}"));
	assert_string_equal(s->hostname, "\0011");
	husk_spec_free(s);
	parse_fails(CONFIG(",\"hostname\":18446744073709551615"), "hostname: must be a string");
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"rlimits\":[{\"type\":"
			   "\"RLIMIT_CORE\",\"soft\":1,\"hard\":\"\\u00011\"}]}"),
		    "process.rlimits[0].hard: must be an integer");
}

static void syntax_error_after_big_number(void **state)
{
	/* Reported where it is in the text as written, not in the rewritten one. */
	parse_fails(
	    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\","
	    "\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":"
	    "18446744073709551615}]}, ]",
	    "config.json: line 1 column 151: string or '}' expected near ']'");
	parse_fails("{\"a\":18446744073709551615,\"b\":18446744073709551614,\n"
		    "\"c\":18446744073709551613, ]",
		    "config.json: line 2 column 27: string or '}' expected near ']'");
}

static void too_big_numbers(void **state)
{
	/* Named by field, not jansson's "too big integer" at a position. */
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"rlimits\":[{\"type\":"
			   "\"RLIMIT_CORE\",\"soft\":1,\"hard\":18446744073709551616}]}"),
		    "process.rlimits[0].hard: 18446744073709551616 out of range");
	parse_fails(CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"oomScoreAdj\":"
			   "-18446744073709551615}"),
		    "process.oomScoreAdj: -18446744073709551615 out of range (must be between "
		    "-1000 and 1000)");
}

/* The parser lends jansson an arena (src/spec/jload.c) and gives the
 * process's allocator back after every parse, good or bad. */
static void allocator_given_back(void **state)
{
	json_malloc_t m0, m1;
	json_free_t f0, f1;
	json_t *j;

	json_get_alloc_funcs(&m0, &f0);
	husk_spec_free(parse_ok(CONFIG("")));
	parse_fails(CONFIG(",\"x\":1e400,\"hostname\":1"), "hostname: must be a string");
	parse_fails("[1]", "config.json: must be a JSON object");
	parse_fails("{", "config.json: line 1 column 1: string or '}' expected near end of file");
	json_get_alloc_funcs(&m1, &f1);
	assert_ptr_equal(m0, m1);
	assert_ptr_equal(f0, f1);
	j = json_pack("{s:[i]}", "a", 1);
	assert_non_null(j);
	json_decref(j);
}

RUN(cmocka_unit_test(allocator_given_back), cmocka_unit_test(marker_lookalike_string),
    cmocka_unit_test(syntax_error_after_big_number), cmocka_unit_test(too_big_numbers),
    cmocka_unit_test(minimal_config), cmocka_unit_test(root_readonly),
    cmocka_unit_test(unknown_members_ignored), cmocka_unit_test(null_is_absent),
    cmocka_unit_test(hostname_and_domainname), cmocka_unit_test(annotations),
    cmocka_unit_test(mounts), cmocka_unit_test(idmapped_mount), cmocka_unit_test(hooks),
    cmocka_unit_test(malformed_json), cmocka_unit_test(not_an_object),
    cmocka_unit_test(empty_input), cmocka_unit_test(load_from_bundle),
    cmocka_unit_test(load_missing))
