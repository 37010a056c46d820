/* linux.seccomp: actions, operators, architectures, flags, rules. */
#include "spec_test.h"

#define SECCOMP(body) CONFIG(",\"linux\":{\"seccomp\":{" body "}}")

static void full_profile(void **state)
{
	struct husk_spec *s = parse_ok(SECCOMP(
	    "\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
	    "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
	    "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"listenerPath\":\"/run/l.sock\","
	    "\"listenerMetadata\":\"meta\",\"syscalls\":[{\"names\":[\"read\",\"write\"],"
	    "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ERRNO\","
	    "\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":268435456,\"valueTwo\":268435456,"
	    "\"op\":\"SCMP_CMP_MASKED_EQ\"}]},{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_"
	    "NOTIFY\"}]"));
	const struct husk_seccomp *sc = s->linux.seccomp;
	assert_non_null(sc);
	assert_int_equal(sc->default_action, HUSK_SCMP_ERRNO);
	assert_true(sc->has_default_errno_ret);
	assert_int_equal(sc->default_errno_ret, 38);
	assert_int_equal(sc->architectures.n, 2);
	assert_string_equal(sc->architectures.v[1], "SCMP_ARCH_X86");
	assert_string_equal(sc->flags.v[0], "SECCOMP_FILTER_FLAG_LOG");
	assert_string_equal(sc->listener_path, "/run/l.sock");
	assert_string_equal(sc->listener_metadata, "meta");
	assert_int_equal(sc->n_rules, 3);
	assert_int_equal(sc->rules[0].names.n, 2);
	assert_int_equal(sc->rules[0].action, HUSK_SCMP_ALLOW);
	assert_false(sc->rules[0].has_errno_ret);
	assert_int_equal(sc->rules[1].action, HUSK_SCMP_ERRNO);
	assert_true(sc->rules[1].has_errno_ret);
	assert_int_equal(sc->rules[1].errno_ret, 1);
	assert_int_equal(sc->rules[1].n_args, 1);
	assert_int_equal(sc->rules[1].args[0].index, 0);
	assert_int_equal(sc->rules[1].args[0].value, 0x10000000);
	assert_int_equal(sc->rules[1].args[0].value_two, 0x10000000);
	assert_int_equal(sc->rules[1].args[0].op, HUSK_SCMP_CMP_MASKED_EQ);
	assert_int_equal(sc->rules[2].action, HUSK_SCMP_NOTIFY);
	husk_spec_free(s);
}

static void every_action(void **state)
{
	static const struct {
		const char *name;
		enum husk_seccomp_action action;
	} cases[] = {
	    {"SCMP_ACT_KILL", HUSK_SCMP_KILL},
	    {"SCMP_ACT_KILL_THREAD", HUSK_SCMP_KILL_THREAD},
	    {"SCMP_ACT_KILL_PROCESS", HUSK_SCMP_KILL_PROCESS},
	    {"SCMP_ACT_TRAP", HUSK_SCMP_TRAP},
	    {"SCMP_ACT_ERRNO", HUSK_SCMP_ERRNO},
	    {"SCMP_ACT_TRACE", HUSK_SCMP_TRACE},
	    {"SCMP_ACT_ALLOW", HUSK_SCMP_ALLOW},
	    {"SCMP_ACT_LOG", HUSK_SCMP_LOG},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[256];
		struct husk_spec *s;
		snprintf(json, sizeof(json), SECCOMP("\"defaultAction\":\"%s\""), cases[i].name);
		s = parse_ok(json);
		assert_int_equal(s->linux.seccomp->default_action, cases[i].action);
		husk_spec_free(s);
	}
}

static void every_operator(void **state)
{
	static const struct {
		const char *name;
		enum husk_seccomp_op op;
	} cases[] = {
	    {"SCMP_CMP_NE", HUSK_SCMP_CMP_NE},
	    {"SCMP_CMP_LT", HUSK_SCMP_CMP_LT},
	    {"SCMP_CMP_LE", HUSK_SCMP_CMP_LE},
	    {"SCMP_CMP_EQ", HUSK_SCMP_CMP_EQ},
	    {"SCMP_CMP_GE", HUSK_SCMP_CMP_GE},
	    {"SCMP_CMP_GT", HUSK_SCMP_CMP_GT},
	    {"SCMP_CMP_MASKED_EQ", HUSK_SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[512];
		struct husk_spec *s;
		snprintf(json, sizeof(json),
			 SECCOMP("\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":["
				 "\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":5,"
				 "\"value\":1,\"op\":\"%s\"}]}]"),
			 cases[i].name);
		s = parse_ok(json);
		assert_int_equal(s->linux.seccomp->rules[0].args[0].op, cases[i].op);
		assert_int_equal(s->linux.seccomp->rules[0].args[0].index, 5);
		husk_spec_free(s);
	}
}

static void big_argument_value(void **state)
{
	struct husk_spec *s = parse_ok(SECCOMP(
	    "\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"personality\"],"
	    "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":18446744073709551615,"
	    "\"op\":\"SCMP_CMP_EQ\"}]}]"));
	assert_true(s->linux.seccomp->rules[0].args[0].value == UINT64_MAX);
	husk_spec_free(s);
}

static void unknown_syscall_names_kept(void **state)
{
	/* Profiles list syscalls newer than the host; they are resolved later. */
	struct husk_spec *s =
	    parse_ok(SECCOMP("\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":["
			     "\"no_such_syscall\"],\"action\":\"SCMP_ACT_ALLOW\"}]"));
	assert_string_equal(s->linux.seccomp->rules[0].names.v[0], "no_such_syscall");
	husk_spec_free(s);
}

RUN(cmocka_unit_test(full_profile), cmocka_unit_test(every_action),
    cmocka_unit_test(every_operator), cmocka_unit_test(big_argument_value),
    cmocka_unit_test(unknown_syscall_names_kept))
