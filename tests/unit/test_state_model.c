/* The state model: one field table, one encoder, one decoder. Every field
 * round-trips in every form; the output is jansson's, byte for byte (older
 * builds and other tools read it with jansson); the OCI forms hold exactly
 * the spec's fields (and runc's three extra for `state`); records written
 * by older builds still load; hostile or cut input is refused with an error
 * that names the member and the byte, and leaves the container as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "runtime/runtime.h"
#include "spec/spec.h"
#include "state/state.h"

static struct husk_kv ann[] = {{"k\"1", "v\\1"},
			       {"ctl", "a\x01\b\f\n\r\tb\x1f/"},
			       {"utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}};

static struct husk_container full(void)
{
	return (struct husk_container){.id = "c1",
				       .pid = 4242,
				       .pid_start = 18446744073709551615ull,
				       .bundle = "/b/\"x\"",
				       .rootfs = "/b/rootfs",
				       .created = "2026-01-01T00:00:00.000000000Z",
				       .owner = "root",
				       .cgroup_path = "/a\nb\tc",
				       .hook_kinds = 0xffffffffu,
				       .status = HUSK_STATUS_CREATING,
				       .annotations = {ann, 3},
				       .dir_fd = -1};
}

static void free_fields(struct husk_container *c)
{
	free(c->id);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroup_path);
	husk_kvv_free(&c->annotations);
	memset(c, 0, sizeof(*c));
}

static void same_annotations(const struct husk_kvv *a, const struct husk_kvv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].key, b->v[i].key);
		assert_string_equal(a->v[i].value, b->v[i].value);
	}
}

static struct husk_container decoded(const char *text, enum husk_state_form form)
{
	struct husk_container d = {0};
	struct husk_err err = {0};
	if (husk_state_decode(text, form, &d, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return d;
}

/* Every field of the record comes back as it went in. */
static void record_round_trips_every_field(void **state)
{
	struct husk_container c = full();
	for (int creating = 0; creating < 2; creating++) {
		c.status = creating ? HUSK_STATUS_CREATING : HUSK_STATUS_STOPPED;
		char *text = husk_state_encode(&c, HUSK_STATE_RECORD, false);
		assert_non_null(text);
		struct husk_container d = decoded(text, HUSK_STATE_RECORD);
		assert_non_null(strstr(text, "{\"id\":\"c1\","));
		assert_null(d.id); /* the store's directory names it */
		assert_int_equal(d.pid, c.pid);
		assert_true(d.pid_start == c.pid_start);
		assert_string_equal(d.bundle, c.bundle);
		assert_string_equal(d.rootfs, c.rootfs);
		assert_string_equal(d.created, c.created);
		assert_string_equal(d.owner, c.owner);
		assert_string_equal(d.cgroup_path, c.cgroup_path);
		assert_int_equal(d.hook_kinds, c.hook_kinds);
		assert_int_equal(d.status, c.status);
		same_annotations(&d.annotations, &c.annotations);
		free_fields(&d);
		free(text);
	}
	/* left out: no cgroup, no annotations, no owner (written as "") */
	c.cgroup_path = NULL;
	c.annotations.n = 0;
	c.owner = NULL;
	char *text = husk_state_encode(&c, HUSK_STATE_RECORD, false);
	struct husk_container d = decoded(text, HUSK_STATE_RECORD);
	assert_null(d.cgroup_path);
	assert_int_equal(d.annotations.n, 0);
	assert_string_equal(d.owner, "");
	assert_null(strstr(text, "cgroup_path"));
	free_fields(&d);
	free(text);
}

/* The OCI forms decode to what they showed: status by name, pid, strings. */
static void oci_forms_round_trip(void **state)
{
	struct husk_container c = full();
	for (int form = HUSK_STATE_OCI; form <= HUSK_STATE_SPEC; form++)
		for (enum husk_status s = HUSK_STATUS_CREATING; s <= HUSK_STATUS_STOPPED; s++) {
			c.status = s;
			char *text = husk_state_encode(&c, form, form == HUSK_STATE_OCI);
			struct husk_container d = decoded(text, form);
			assert_int_equal(d.status, s);
			assert_int_equal(d.pid, s == HUSK_STATUS_STOPPED ? 0 : c.pid);
			assert_string_equal(d.id, c.id);
			assert_string_equal(d.bundle, c.bundle);
			same_annotations(&d.annotations, &c.annotations);
			if (form == HUSK_STATE_OCI) {
				assert_string_equal(d.rootfs, c.rootfs);
				assert_string_equal(d.created, c.created);
				assert_string_equal(d.owner, c.owner);
			} else {
				assert_null(d.rootfs);
			}
			assert_null(d.cgroup_path);
			free_fields(&d);
			free(text);
		}
}

static json_t *ann_object(const struct husk_kvv *m)
{
	json_t *o = json_object();
	for (size_t i = 0; i < m->n; i++)
		json_object_set_new(o, m->v[i].key, json_string(m->v[i].value));
	return o;
}

/* What `state` printed when jansson wrote it, and what runc prints. */
static void same_bytes_as_jansson(void **state)
{
	struct husk_container c = full();
	c.status = HUSK_STATUS_RUNNING;
	json_t *o =
	    json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "ociVersion", HUSK_OCI_VERSION,
		      "id", c.id, "pid", (json_int_t)c.pid, "status", "running", "bundle", c.bundle,
		      "rootfs", c.rootfs, "created", c.created, "owner", c.owner);
	json_object_set_new(o, "annotations", ann_object(&c.annotations));
	for (int pretty = 0; pretty < 2; pretty++) {
		char *want = json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT);
		char *got = husk_state_encode(&c, HUSK_STATE_OCI, pretty);
		assert_string_equal(got, want);
		free(want);
		free(got);
	}
	json_decref(o);
}

static void expect_keys(const char *text, const char *const *want)
{
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	size_t n = 0;

	if (!o)
		fail_msg("%s: %s", text, jerr.text);
	for (; want[n]; n++)
		if (!json_object_get(o, want[n]))
			fail_msg("%s: no %s", text, want[n]);
	if (json_object_size(o) != n)
		fail_msg("%s: %zu members, want %zu", text, json_object_size(o), n);
	json_decref(o);
}

/* The spec's state: ociVersion, id, status, pid, bundle, annotations (left
 * out when empty, as runc does); `state` adds runc's rootfs, created, owner. */
static void oci_state_has_exactly_the_spec_fields(void **state)
{
	static const char *const spec[] = {"ociVersion", "id",		"status", "pid",
					   "bundle",	 "annotations", NULL};
	static const char *const spec_no_ann[] = {"ociVersion", "id",	  "status",
						  "pid",	"bundle", NULL};
	static const char *const oci[] = {"ociVersion",	 "id",	   "status",  "pid",
					  "bundle",	 "rootfs", "created", "owner",
					  "annotations", NULL};
	struct husk_container c = full();
	char *text;

	expect_keys(text = husk_state_encode(&c, HUSK_STATE_SPEC, false), spec);
	free(text);
	expect_keys(text = husk_state_encode(&c, HUSK_STATE_OCI, true), oci);
	free(text);
	c.annotations.n = 0;
	expect_keys(text = husk_state_encode(&c, HUSK_STATE_SPEC, false), spec_no_ann);
	free(text);
}

/* The seccomp listener's container process state (runtime spec). */
static void listener_state_follows_the_spec(void **state)
{
	static const char *const outer[] = {"ociVersion", "fds", "pid", "metadata", "state", NULL};
	struct husk_container c = full();
	char *text = husk_state_listener_json(&c, 77, "m=1");
	json_t *o = json_loads(text, 0, NULL);

	expect_keys(text, outer);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "fds"), 0)),
			    "seccompFd");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 77);
	assert_string_equal(json_string_value(json_object_get(o, "metadata")), "m=1");
	char *inner = json_dumps(json_object_get(o, "state"), JSON_COMPACT);
	char *spec = husk_state_encode(&c, HUSK_STATE_SPEC, false);
	assert_string_equal(inner, spec);
	free(inner);
	free(spec);
	json_decref(o);
	free(text);
}

/* Records as older builds wrote them: by the hand encoder (annotations
 * always there, creating false), and by jansson (indented, escapes, \u,
 * "\/"), with members this build does not know. */
static void old_records_load(void **state)
{
	struct husk_container d;
	d = decoded("{\"id\":\"c1\",\"pid\":77,\"pid_start\":99,\"bundle\":\"/b\",\"rootfs\":"
		    "\"/b/rootfs\",\"created\":\"2026-11-22T00:00:00Z\",\"owner\":\"\","
		    "\"cgroup_path\":\"/husk/c1\",\"hook_kinds\":3,\"creating\":false,"
		    "\"annotations\":{}}",
		    HUSK_STATE_RECORD);
	assert_int_equal(d.pid, 77);
	assert_int_equal(d.pid_start, 99);
	assert_int_equal(d.hook_kinds, 3);
	assert_int_equal(d.status, HUSK_STATUS_STOPPED);
	assert_string_equal(d.cgroup_path, "/husk/c1");
	free_fields(&d);
	d = decoded(" {\n  \"zzz\": [1, -2.5e3, {\"x\": [null, true]}],\n  \"rootfs\" : "
		    "\"\\/r\\u00e9\\ud83d\\ude00\",\n  \"creating\": true, \"bundle\": \"/b\\n\","
		    "\"cgroup_path\": null, \"created\": \"t\", \"owner\": \"u\", \"pid\": 0,"
		    "\"annotations\": {\"a\": \"\\\"q\\\"\"}, \"x\": {} }\n",
		    HUSK_STATE_RECORD);
	assert_string_equal(d.rootfs, "/r\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(d.bundle, "/b\n");
	assert_null(d.cgroup_path);
	assert_int_equal(d.status, HUSK_STATUS_CREATING);
	assert_int_equal(d.annotations.n, 1);
	assert_string_equal(d.annotations.v[0].value, "\"q\"");
	free_fields(&d);
}

/* A container already named keeps its id (the store's directory names it). */
static void decode_keeps_the_callers_id(void **state)
{
	struct husk_container d = {.id = strdup("dir-name")};
	struct husk_err err = {0};
	for (int form = HUSK_STATE_RECORD; form <= HUSK_STATE_SPEC; form++) {
		assert_int_equal(
		    husk_state_decode("{\"id\":\"other\",\"bundle\":\"/b\","
				      "\"rootfs\":\"r\",\"created\":\"t\",\"owner\":\"\"}",
				      form, &d, &err),
		    0);
		assert_string_equal(d.id, "dir-name");
		char *id = d.id;
		d.id = NULL;
		free_fields(&d);
		d.id = id;
	}
	free_fields(&d);
}

#define OK_TAIL "\"bundle\":\"/b\",\"rootfs\":\"r\",\"created\":\"t\",\"owner\":\"\""

/* Hostile input: refused, with the member and the byte named; c untouched. */
static void hostile_input_is_refused_clearly(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"", "cut short at byte 0"},
	    {"[]", "want an object at byte 0"},
	    {"{\"pid\":\"1\"," OK_TAIL "}", "\"pid\": want an integer at byte 7"},
	    {"{\"pid\":1.5," OK_TAIL "}", "\"pid\": want an integer at byte 8"},
	    {"{\"pid\":-1," OK_TAIL "}", "\"pid\": a number out of range at byte 7"},
	    {"{\"pid\":2147483648," OK_TAIL "}", "\"pid\": a number out of range at byte 7"},
	    {"{\"pid_start\":18446744073709551616," OK_TAIL "}",
	     "\"pid_start\": a number out of range"},
	    {"{\"pid\":012," OK_TAIL "}", "\"pid\": a leading zero at byte 7"},
	    {"{\"bundle\":\"/a\"," OK_TAIL "}", "a repeated member at byte 15"},
	    {"{\"bundle\":1,\"x\":0}", "\"bundle\": want a string at byte 10"},
	    {"{\"bundle\":\"/\xc3\x28\"}", "\"bundle\": text that is not UTF-8 at byte 12"},
	    {"{\"bundle\":\"/\xed\xa0\x80\"}", "\"bundle\": text that is not UTF-8"},
	    {"{\"bundle\":\"a\x01\"}", "\"bundle\": a control character in a string"},
	    {"{\"bundle\":\"a\\u0000b\"}", "\"bundle\": a NUL in a string"},
	    {"{\"bundle\":\"\\ud800x\"}", "\"bundle\": lone high surrogate"},
	    {"{\"bundle\":\"\\udc00\"}", "\"bundle\": lone low surrogate"},
	    {"{\"bundle\":\"\\q\"}", "\"bundle\": bad escape"},
	    {"{\"bundle\":\"\\u12g4\"}", "\"bundle\": bad \\u escape"},
	    {"{\"creating\":1," OK_TAIL "}", "\"creating\": want true or false"},
	    {"{\"creating\":truex," OK_TAIL "}", "want ',' or '}' at byte 16"},
	    {"{\"annotations\":{\"k\":1}," OK_TAIL "}", "\"annotations\": want a string"},
	    {"{\"annotations\":{\"k\":\"1\",\"k\":\"2\"}}", "\"annotations\": a repeated key"},
	    {"{\"annotations\":[]}", "\"annotations\": want an object"},
	    {"{" OK_TAIL ",}", "want a string at byte"},
	    {"{" OK_TAIL "} x", "text after the object at byte"},
	    {"{\"rootfs\":\"r\",\"created\":\"t\",\"owner\":\"\"}", "\"bundle\" is missing"},
	    {"{\"zzz\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]"
	     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	     "nesting too deep"},
	    {"{\"zzz\":-}", "want a value"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_container d = {.bundle = "kept", .pid = 9};
		struct husk_err err = {0};
		if (husk_state_decode(cases[i].text, HUSK_STATE_RECORD, &d, &err) == 0)
			fail_msg("loaded %s", cases[i].text);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: said \"%s\", want \"%s\"", cases[i].text, err.msg,
				 cases[i].msg);
		assert_int_equal(err.code, EINVAL);
		assert_string_equal(d.bundle, "kept");
		assert_int_equal(d.pid, 9);
	}
	/* an unknown status, in the forms that have one */
	struct husk_container d = {0};
	struct husk_err err = {0};
	assert_int_equal(husk_state_decode("{\"status\":\"dancing\",\"bundle\":\"/b\"}",
					   HUSK_STATE_SPEC, &d, &err),
			 -1);
	assert_string_equal(err.msg, "\"status\": an unknown status at byte 10");
}

/* Every prefix of a good record is refused, none read past its end. */
static void every_cut_is_refused(void **state)
{
	struct husk_container c = full();
	char *text = husk_state_encode(&c, HUSK_STATE_RECORD, false);
	size_t n = strlen(text);

	for (size_t cut = 0; cut < n; cut++) {
		char *part = strndup(text, cut);
		struct husk_container d = {0};
		struct husk_err err = {0};
		if (husk_state_decode(part, HUSK_STATE_RECORD, &d, &err) == 0)
			fail_msg("loaded %s", part);
		if (err.code != EINVAL || !*err.msg)
			fail_msg("%s: no clear error", part);
		free(part);
	}
	free(text);
}

/* Text that is not UTF-8 is refused, as json_string() refuses it. */
static void encode_refuses_what_is_not_utf8(void **state)
{
	const char *bad[] = {"/b/\x80", "/b/\xc0\xaf", "/b/\xed\xa0\x80", "/b/\xf4\x90\x80\x80",
			     "/b/\xe2\x82"};
	struct husk_container c = full();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.bundle = (char *)bad[i];
		for (int form = HUSK_STATE_RECORD; form <= HUSK_STATE_SPEC; form++) {
			errno = 0;
			assert_null(husk_state_encode(&c, form, false));
			assert_int_equal(errno, EILSEQ);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(record_round_trips_every_field),
	    cmocka_unit_test(oci_forms_round_trip),
	    cmocka_unit_test(same_bytes_as_jansson),
	    cmocka_unit_test(oci_state_has_exactly_the_spec_fields),
	    cmocka_unit_test(listener_state_follows_the_spec),
	    cmocka_unit_test(old_records_load),
	    cmocka_unit_test(decode_keeps_the_callers_id),
	    cmocka_unit_test(hostile_input_is_refused_clearly),
	    cmocka_unit_test(every_cut_is_refused),
	    cmocka_unit_test(encode_refuses_what_is_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
