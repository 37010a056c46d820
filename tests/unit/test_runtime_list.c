/* husk_list on a state root in a temporary directory: every container's
 * summary sorted by id, an unreadable record listed with its error, the
 * state JSON only when asked for. No root needed: the records' pids are
 * 0 (stopped). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "husk/husk.h"
#include "state/state.h"

#include "state_root.h"

static void save(const char *id, const char *bundle)
{
	struct husk_err err = {0};
	struct husk_container c = {.id = (char *)id,
				   .bundle = (char *)bundle,
				   .rootfs = "/r",
				   .created = "2026-01-02T03:04:05.000000006Z",
				   .owner = "",
				   .status = HUSK_STATUS_STOPPED};
	int fd = husk_state_dir_create(root, id, &err);

	assert_true(fd >= 0);
	assert_int_equal(husk_state_save(fd, &c, &err), 0);
	close(fd);
}

static void empty_root_lists_nothing(void **state)
{
	struct husk_ctx ctx = {.root = root};
	struct husk_container_summary *list = NULL;
	struct husk_err err = {0};
	size_t n = 99;

	assert_int_equal(husk_list(&ctx, true, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	husk_list_free(list, n);
}

static void summaries_sorted_with_errors_and_json(void **state)
{
	struct husk_ctx ctx = {.root = root};
	struct husk_container_summary *list;
	struct husk_err err = {0};
	char path[160];
	FILE *f;
	size_t n;

	save("b", "/bundle-b");
	save("a", "/bundle-a");
	save("c", "/bundle-c");
	snprintf(path, sizeof(path), "%s/c/state.json", root);
	assert_non_null(f = fopen(path, "w"));
	fputs("garbage", f);
	fclose(f);

	assert_int_equal(husk_list(&ctx, false, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, "a");
	assert_null(list[0].error);
	assert_string_equal(list[0].bundle, "/bundle-a");
	assert_string_equal(list[0].created, "2026-01-02T03:04:05.000000006Z");
	assert_int_equal(list[0].status, HUSK_STATUS_STOPPED);
	assert_int_equal(list[0].pid, 0);
	assert_non_null(list[0].owner);
	assert_null(list[0].state_json); /* not asked for */
	assert_string_equal(list[1].id, "b");
	assert_string_equal(list[2].id, "c");
	assert_non_null(list[2].error);
	assert_non_null(strstr(list[2].error, "state.json"));
	assert_null(list[2].bundle);
	husk_list_free(list, n);

	assert_int_equal(husk_list(&ctx, true, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_non_null(list[1].state_json);
	assert_non_null(strstr(list[1].state_json, "\"id\":\"b\""));
	assert_non_null(strstr(list[1].state_json, "\"status\":\"stopped\""));
	char owner[96];
	snprintf(owner, sizeof(owner), "\"owner\":\"%s\"", list[1].owner);
	assert_non_null(strstr(list[1].state_json, owner)); /* the table's owner */
	assert_null(list[2].state_json);
	husk_list_free(list, n);
}

/* No state root yet (nothing was ever created): an empty list, as runc's. */
static void missing_root_is_an_empty_list(void **state)
{
	struct husk_ctx ctx = {.root = "/nonexistent/husk-list-root"};
	struct husk_container_summary *list = NULL;
	struct husk_err err = {0};
	size_t n = 99;

	assert_int_equal(husk_list(&ctx, false, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	husk_list_free(list, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_root_lists_nothing),
	    cmocka_unit_test(summaries_sorted_with_errors_and_json),
	    cmocka_unit_test(missing_root_is_an_empty_list),
	};
	return cmocka_run_group_tests(tests, make_root, remove_root);
}
