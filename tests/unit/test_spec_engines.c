/* config.json files written by real engines (recorded from Podman 4.3 and
 * Docker 20.10 on Debian 12) must parse, with the values they carry. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec_test.h"

static const char *data_dir;

static struct husk_spec *load(const char *name)
{
	char path[4096];
	struct stat st;
	struct husk_err err = {0};
	struct husk_spec *s;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	s = husk_spec_parse(buf, (size_t)st.st_size, &err);
	free(buf);
	if (!s)
		fail_msg("%s: %s", name, err.msg);
	return s;
}

static const struct husk_rlimit *rlimit(const struct husk_process *p, int resource)
{
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].resource == resource)
			return &p->rlimits[i];
	return NULL;
}

static void podman(void **state)
{
	struct husk_spec *s = load("podman-4.3.json");
	const struct husk_rlimit *core = rlimit(s->process, RLIMIT_CORE);
	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_int_equal(s->n_mounts, 11);
	assert_non_null(core);
	assert_true(core->hard == UINT64_MAX); /* --ulimit core=-1 */
	assert_int_equal(s->linux.n_devices, 1);
	assert_int_equal(s->linux.devices[0].file_mode, 0600); /* written as S_IFCHR|0600 */
	assert_non_null(s->linux.resources);
	assert_int_equal(s->linux.resources->memory.limit.v, 64 << 20);
	assert_int_equal(s->linux.resources->pids_limit.v, 10);
	assert_non_null(s->linux.seccomp);
	assert_int_equal(s->linux.seccomp->default_action, HUSK_SCMP_ERRNO);
	husk_spec_free(s);
}

static void docker(void **state)
{
	struct husk_spec *s = load("docker-20.10.json");
	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_int_equal(s->n_mounts, 10);
	assert_non_null(s->linux.seccomp);
	assert_true(s->linux.seccomp->n_rules >= 10);
	assert_int_equal(s->linux.seccomp->default_action, HUSK_SCMP_ERRNO);
	assert_true(s->process->has_caps);
	assert_true(s->linux.masked_paths.n > 0);
	husk_spec_free(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(podman), cmocka_unit_test(docker)};
	data_dir = argc > 1 ? argv[1] : "tests/unit/data";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
