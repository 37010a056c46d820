/* Hostile config.json values (tests/security/corpus has the same shapes):
 * each is refused at parse time with an error naming the field, before any
 * side effect. */
#include <time.h>

#include "spec_test.h"

#define PROC(extra)  CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]" extra "}")
#define LINUX(body)  CONFIG(",\"linux\":{" body "}")
#define MEMORY(body) LINUX("\"resources\":{\"memory\":{" body "}}")
#define USERNS(maps) LINUX("\"namespaces\":[{\"type\":\"user\"}]," maps)
#define GIDMAP	     "\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]"
#define UIDMAP	     "\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]"
#define DEVICE(path)                                                                               \
	LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"" path "\",\"major\":1,\"minor\":3}]")
#define MOUNT(dest)                                                                                \
	CONFIG(                                                                                    \
	    ",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},{\"destination\":\"" dest  \
	    "\",\"type\":\"tmpfs\"}]")

static void resources_fails(const char *json, const char *msg)
{
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_parse(json, strlen(json), &err);
	husk_resources_free(r);
	assert_null(r);
	assert_string_equal(err.msg, msg);
}

/* The spec: "the limit in bytes, or -1 for unlimited memory". */
static void memory_below_minus_one(void **state)
{
	parse_fails(MEMORY("\"limit\":-12345"),
		    "linux.resources.memory.limit: -12345 out of range (want -1 for unlimited, or "
		    ">= 0)");
	parse_fails(MEMORY("\"reservation\":-2"),
		    "linux.resources.memory.reservation: -2 out of range (want -1 for unlimited, "
		    "or >= 0)");
	parse_fails(MEMORY("\"swap\":-9223372036854775807"),
		    "linux.resources.memory.swap: -9223372036854775807 out of range (want -1 for "
		    "unlimited, or >= 0)");
	parse_fails(MEMORY("\"kernel\":-3"), "linux.resources.memory.kernel: -3 out of range "
					     "(want -1 for unlimited, or >= 0)");
	parse_fails(MEMORY("\"kernelTCP\":-4"), "linux.resources.memory.kernelTCP: -4 out of "
						"range (want -1 for unlimited, or >= 0)");
	resources_fails("{\"memory\":{\"swap\":-2}}",
			"linux.resources.memory.swap: -2 out of range (want -1 for unlimited, or "
			">= 0)");
}

static void memory_minus_one_and_zero(void **state)
{
	struct husk_spec *s = parse_ok(MEMORY("\"limit\":-1,\"reservation\":0,\"swap\":-1,"
					      "\"kernel\":-1,\"kernelTCP\":0"));
	assert_int_equal(s->linux.resources->memory.limit.v, -1);
	assert_int_equal(s->linux.resources->memory.reservation.v, 0);
	assert_int_equal(s->linux.resources->memory.swap.v, -1);
	husk_spec_free(s);
}

/* runc: a pids limit of 0 or below is "unlimited"; the spec says int64. */
static void pids_any_int64(void **state)
{
	struct husk_spec *s = parse_ok(LINUX("\"resources\":{\"pids\":{\"limit\":-5}}"));
	assert_true(s->linux.resources->pids_limit.set);
	assert_int_equal(s->linux.resources->pids_limit.v, -5);
	husk_spec_free(s);
	parse_fails(LINUX("\"resources\":{\"pids\":{\"limit\":10000000000000000000000000}}"),
		    "linux.resources.pids.limit: 10000000000000000000000000 out of range");
}

static void too_big_for_the_field(void **state)
{
	parse_fails(MEMORY("\"limit\":1000000000000000000000000000000"),
		    "linux.resources.memory.limit: 1000000000000000000000000000000 out of range");
	parse_fails(MEMORY("\"limit\":18446744073709551615"),
		    "linux.resources.memory.limit: 18446744073709551615 out of range");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":1000000000000000000000000000000}"),
		    "process.user.gid: 1000000000000000000000000000000 is out of range "
		    "(0..2147483647)");
	parse_fails(PROC(",\"user\":{\"uid\":0,\"gid\":99999999999}"),
		    "process.user.gid: 99999999999 is out of range (0..2147483647)");
	parse_fails(PROC(",\"oomScoreAdj\":-18446744073709551615"),
		    "process.oomScoreAdj: -18446744073709551615 out of range (must be between "
		    "-1000 and 1000)");
	parse_fails(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":"
			 "18446744073709551616}]"),
		    "process.rlimits[0].hard: 18446744073709551616 out of range");
	parse_fails(LINUX("\"resources\":{\"cpu\":{\"shares\":1e400}}"),
		    "linux.resources.cpu.shares: 1e400 out of range");
	parse_fails(LINUX("\"resources\":{\"cpu\":{\"quota\":-1.5e999}}"),
		    "linux.resources.cpu.quota: -1.5e999 out of range");
	/* A long literal is cut in the message. */
	parse_fails(
	    MEMORY("\"limit\":123456789012345678901234567890123456789012345678901234567890"),
	    "linux.resources.memory.limit: 12345678901234567890123456789012... out of range");
}

static void big_numbers_elsewhere(void **state)
{
	/* A member husk does not read may hold any number. */
	struct husk_spec *s = parse_ok(CONFIG(",\"x-unknown\":[1e400,-99999999999999999999999,"
					      "100000000000000000000000000]"));
	husk_spec_free(s);
	parse_fails(PROC(",\"capabilities\":{\"bounding\":[18446744073709551615]}"),
		    "process.capabilities.bounding[0]: must be a string");
	parse_fails(PROC(",\"env\":[1e400]"), "process.env[0]: must be a string");
	parse_fails(LINUX("\"namespaces\":[{\"type\":10000000000000000000000}]"),
		    "linux.namespaces[0].type: must be a string");
	/* Malformed numbers stay syntax errors. */
	parse_fails(CONFIG(",\"x\":0123456789012345678901"),
		    "config.json: line 1 column 52: invalid token near '0'");
}

static void mount_destination_climbs(void **state)
{
	parse_fails(MOUNT("/../../../../tmp/husk-evil"),
		    "mounts[1].destination: must not climb above / with \"..\"");
	parse_fails(MOUNT("/a/../.."), "mounts[1].destination: must not climb above / with \"..\"");
	parse_fails(MOUNT("/.."), "mounts[1].destination: must not climb above / with \"..\"");
	parse_fails(MOUNT("/"), "mounts[1].destination: must not be /");
	parse_fails(MOUNT("//./"), "mounts[1].destination: must not be /");
	parse_fails(MOUNT("/a/.."), "mounts[1].destination: must not be /");
	parse_fails(MOUNT("a/../.."), "mounts[1].destination: must not climb above / with \"..\"");
}

static void mount_destination_cleaned(void **state)
{
	struct husk_spec *s = parse_ok(MOUNT("//a/./b/../c//d/."));
	assert_string_equal(s->mounts[1].destination, "/a/c/d");
	husk_spec_free(s);
	s = parse_ok(MOUNT("/..x/...y/.z"));
	assert_string_equal(s->mounts[1].destination, "/..x/...y/.z");
	husk_spec_free(s);
}

static char *many_mounts(size_t n, const char *prefix)
{
	size_t cap = 64 + n * 96, len = 0;
	char *json = malloc(cap);
	assert_non_null(json);
	len += (size_t)snprintf(json, cap,
				"{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
				"\"mounts\":[");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(json + len, cap - len, i ? "," : "");
		len +=
		    (size_t)snprintf(json + len, cap - len,
				     "{\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"destination\":\"");
		len += (size_t)snprintf(json + len, cap - len, "%s%zu", prefix, i);
		len += (size_t)snprintf(json + len, cap - len, "\"}");
	}
	snprintf(json + len, cap - len, "]}");
	return json;
}

/* tests/security's 2000 ".." mounts: refused at the first one. */
static void many_climbing_mounts(void **state)
{
	char *json = many_mounts(2000, "/../x");
	parse_fails(json, "mounts[0].destination: must not climb above / with \"..\"");
	free(json);
	json = many_mounts(2000, "/a/../x");
	struct husk_spec *s = parse_ok(json);
	assert_int_equal(s->n_mounts, 2000);
	assert_string_equal(s->mounts[1999].destination, "/x1999");
	husk_spec_free(s);
	free(json);
}

/* Cleaning is linear in the path: 200k components in well under a second
 * (a quadratic cleaner takes minutes). */
static void long_destination_is_linear(void **state)
{
	size_t n = 200000, len = 0;
	char *dest = malloc(n * 5 + 8), *json;
	struct timespec t0, t1;

	assert_non_null(dest);
	dest[len++] = '/';
	for (size_t i = 0; i < n; i++) {
		dest[len++] = 'a';
		dest[len++] = '/';
	}
	for (size_t i = 0; i < n; i++) {
		dest[len++] = '.';
		dest[len++] = '.';
		dest[len++] = '/';
	}
	dest[len++] = 'x';
	dest[len] = '\0';
	json = malloc(len + 128);
	assert_non_null(json);
	snprintf(json, len + 128,
		 "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":"
		 "\"%s\"}]}",
		 dest);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct husk_spec *s = parse_ok(json);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(s->mounts[0].destination, "/x");
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) <
		    1000000000L);
	husk_spec_free(s);
	free(json);
	free(dest);
}

static void masked_and_readonly_paths_absolute(void **state)
{
	parse_fails(LINUX("\"maskedPaths\":[\"proc/kcore\"]"),
		    "linux.maskedPaths[0]: must be an absolute path");
	parse_fails(LINUX("\"maskedPaths\":[\"/proc/kcore\",\"\"]"),
		    "linux.maskedPaths[1]: must be an absolute path");
	parse_fails(LINUX("\"readonlyPaths\":[\"/proc/sys\",\"proc/bus\"]"),
		    "linux.readonlyPaths[1]: must be an absolute path");
	struct husk_spec *s = parse_ok(LINUX("\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":"
					     "[\"/proc/sys\"]"));
	assert_string_equal(s->linux.masked_paths.v[0], "/proc/kcore");
	husk_spec_free(s);
}

/* An extent starts at an id (0..2^31 - 1) and its end never passes
 * 2^32 - 1, so no map reaches (uid_t)-1. */
static void id_mapping_overflow(void **state)
{
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":"
			   "1}]," GIDMAP),
		    "linux.uidMappings[0].hostID: 4294967295 is out of range (0..2147483647)");
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":-1,\"hostID\":0,\"size\":"
			   "10}]," GIDMAP),
		    "linux.uidMappings[0].containerID: -1 is out of range (0..2147483647)");
	parse_fails(USERNS(UIDMAP ",\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1},"
				  "{\"containerID\":2147483648,\"hostID\":5,\"size\":100}]"),
		    "linux.gidMappings[1].containerID: 2147483648 is out of range (0..2147483647)");
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":1,\"hostID\":0,\"size\":"
			   "4294967295}]," GIDMAP),
		    "linux.uidMappings[0]: range overflows: containerID + size = 4294967296 is "
		    "over 4294967295");
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":0,\"hostID\":2147483647,\"size\":"
			   "2147483649}]," GIDMAP),
		    "linux.uidMappings[0]: range overflows: hostID + size = 4294967296 is "
		    "over 4294967295");
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":"
			   "4294967296}]," GIDMAP),
		    "linux.uidMappings[0].size: 4294967296 out of range (must be between 0 and "
		    "4294967295)");
	parse_fails(USERNS("\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":0}]," GIDMAP),
		    "linux.uidMappings[0].size: must not be 0");
	parse_fails(CONFIG(",\"mounts\":[{\"destination\":\"/x\",\"uidMappings\":[{\"containerID\":"
			   "0,\"hostID\":4294967290,\"size\":6}]}]"),
		    "mounts[0].uidMappings[0].hostID: 4294967290 is out of range (0..2147483647)");
	/* The identity map of every id but (uid_t)-1, as `husk spec` writes. */
	husk_spec_free(parse_ok(USERNS("\"uidMappings\":[{\"containerID\":0,\"hostID\":0,"
				       "\"size\":4294967295}]," GIDMAP)));
	struct husk_spec *s = parse_ok(USERNS(
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":4294967295}]," GIDMAP));
	assert_int_equal(s->linux.uid_mappings[0].size, 4294967295u);
	husk_spec_free(s);
}

static void device_path_leaves_dev(void **state)
{
	parse_fails(DEVICE("/dev/../../etc/x"), "linux.devices[0].path: must be under /dev");
	parse_fails(DEVICE("/dev/../etc/x"), "linux.devices[0].path: must be under /dev");
	parse_fails(DEVICE("/dev/.."), "linux.devices[0].path: must be under /dev");
	parse_fails(DEVICE("/dev/"), "linux.devices[0].path: must be under /dev");
	parse_fails(DEVICE("/x/../../y"),
		    "linux.devices[0].path: must not climb above / with \"..\"");
	parse_fails(DEVICE("/"), "linux.devices[0].path: must not be /");
	struct husk_spec *s = parse_ok(DEVICE("/dev/./net/../tun"));
	assert_string_equal(s->linux.devices[0].path, "/dev/tun");
	husk_spec_free(s);
	/* Docker's --device /dev/sda:/xvdc puts the node outside /dev. */
	s = parse_ok(DEVICE("/xvdc"));
	assert_string_equal(s->linux.devices[0].path, "/xvdc");
	husk_spec_free(s);
}

RUN(cmocka_unit_test(memory_below_minus_one), cmocka_unit_test(memory_minus_one_and_zero),
    cmocka_unit_test(pids_any_int64), cmocka_unit_test(too_big_for_the_field),
    cmocka_unit_test(big_numbers_elsewhere), cmocka_unit_test(mount_destination_climbs),
    cmocka_unit_test(mount_destination_cleaned), cmocka_unit_test(many_climbing_mounts),
    cmocka_unit_test(long_destination_is_linear),
    cmocka_unit_test(masked_and_readonly_paths_absolute), cmocka_unit_test(id_mapping_overflow),
    cmocka_unit_test(device_path_leaves_dev))
