/* Choosing a container's backend: annotation, program name, default, and
 * a backend this husk does not have. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/backend.h"

static struct husk_kvv one(const char *key, const char *value)
{
	static struct husk_kv kv;
	kv = (struct husk_kv){.key = (char *)key, .value = (char *)value};
	return (struct husk_kvv){.v = &kv, .n = 1};
}

static void default_is_linux_and_not_asked(void **state)
{
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};
	struct husk_kvv none = {0};
	bool asked = true;

	assert_int_equal(husk_backend_select(&none, "/usr/bin/husk", &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	assert_false(asked);
	assert_int_equal(husk_backend_select(NULL, NULL, &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	/* a copy under another name is still plain husk */
	assert_int_equal(husk_backend_select(NULL, "husk-old", &b, &asked, &err), 0);
	assert_false(asked);
}

static void annotation_asks(void **state)
{
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};
	struct husk_kvv ann = one("run.oci.handler", "linux");
	bool asked = false;

	assert_int_equal(husk_backend_select(&ann, "husk", &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	assert_true(asked);
}

static void unknown_annotation_names_where(void **state)
{
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};
	struct husk_kvv ann = one("run.oci.handler", "krun");
	bool asked;

	assert_int_equal(husk_backend_select(&ann, "husk", &b, &asked, &err), -1);
	assert_int_equal(err.code, ENOTSUP);
	assert_non_null(strstr(err.msg, "annotation run.oci.handler"));
	assert_non_null(strstr(err.msg, "\"krun\""));
	assert_non_null(strstr(err.msg, "it has: linux, vm"));
}

static void program_name_asks(void **state)
{
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};
	bool asked;

	assert_int_equal(husk_backend_select(NULL, "/usr/local/bin/husk-vm", &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_vm);
	assert_true(asked);
	/* any other name asks for nothing */
	assert_int_equal(husk_backend_select(NULL, "/usr/local/bin/husk-vmx", &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	assert_false(asked);
}

static void annotation_wins_over_program_name(void **state)
{
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};
	struct husk_kvv ann = one("run.oci.handler", "linux");
	bool asked;

	assert_int_equal(husk_backend_select(&ann, "husk-vm", &b, &asked, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
}

static void recorded_backend_is_found_again(void **state)
{
	struct husk_container c = {.id = (char *)"c1"};
	const struct husk_backend *b = NULL;
	struct husk_err err = {0};

	/* none recorded (the default, or an older husk's container): linux */
	assert_int_equal(husk_backend_of(&c, &b, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	assert_int_equal(husk_backend_record(&husk_backend_linux, true, NULL, &c.annotations, &err),
			 0);
	assert_int_equal(c.annotations.n, 1);
	assert_string_equal(c.annotations.v[0].key, HUSK_BACKEND_ANNOTATION);
	assert_string_equal(c.annotations.v[0].value, "linux");
	assert_int_equal(husk_backend_of(&c, &b, &err), 0);
	assert_ptr_equal(b, &husk_backend_linux);
	free(c.annotations.v[0].value);
	c.annotations.v[0].value = strdup("vm");
	assert_int_equal(husk_backend_of(&c, &b, &err), 0);
	assert_ptr_equal(b, &husk_backend_vm);
	/* a container of a backend this husk lacks is refused, by name */
	free(c.annotations.v[0].value);
	c.annotations.v[0].value = strdup("krun");
	assert_int_equal(husk_backend_of(&c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "container c1 uses backend \"krun\""));
	husk_kvv_free(&c.annotations);
}

static void default_is_not_recorded(void **state)
{
	struct husk_kvv ann = {0};
	struct husk_err err = {0};

	assert_int_equal(husk_backend_record(&husk_backend_linux, false, NULL, &ann, &err), 0);
	assert_int_equal(ann.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_is_linux_and_not_asked),
	    cmocka_unit_test(annotation_asks),
	    cmocka_unit_test(unknown_annotation_names_where),
	    cmocka_unit_test(program_name_asks),
	    cmocka_unit_test(annotation_wins_over_program_name),
	    cmocka_unit_test(recorded_backend_is_found_again),
	    cmocka_unit_test(default_is_not_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
