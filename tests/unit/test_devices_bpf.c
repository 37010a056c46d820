/* The cgroup v2 device filter builder. A small interpreter runs the
 * generated instructions against sample device accesses, so these tests
 * check behaviour (what is allowed) as well as the instruction set used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/devices_bpf.h"
#include "cgroup/internal.h"

/* Runs the program on one access; fails the test on any instruction this
 * interpreter (and therefore the builder) is not meant to use. */
static int run(const struct bpf_insn *p, size_t n, char type, uint32_t major, uint32_t minor,
	       const char *access)
{
	uint32_t ctx[3];
	uint64_t r[11] = {0};
	uint32_t acc = 0;
	for (const char *c = access; *c; c++)
		acc |= *c == 'r'   ? BPF_DEVCG_ACC_READ
		       : *c == 'w' ? BPF_DEVCG_ACC_WRITE
				   : BPF_DEVCG_ACC_MKNOD;
	ctx[0] = (acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	ctx[1] = major;
	ctx[2] = minor;
	for (size_t pc = 0, steps = 0; pc < n; pc++, steps++) {
		const struct bpf_insn *i = &p[pc];
		assert_true(steps < 10000);
		assert_true(i->dst_reg <= 10 && i->src_reg <= 10);
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			assert_int_equal(i->src_reg, 1); /* only from the context */
			assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			r[i->dst_reg] = (uint32_t)r[i->src_reg];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			fail_msg("unexpected opcode 0x%x at %zu", i->code, pc);
		}
		assert_true(pc + 1 <= n); /* jumps stay inside the program */
	}
	fail_msg("fell off the end of the program");
	return -1;
}

struct prog {
	struct bpf_insn *insns;
	size_t n;
};

static struct prog build(const struct husk_device_rule *rules, size_t n)
{
	struct husk_err err = {0};
	struct prog p = {0};
	if (husk_devices_bpf_build(rules, n, &p.insns, &p.n, &err) < 0)
		fail_msg("build: %s", err.msg);
	return p;
}

#define DENY_ALL                                                                                   \
	{                                                                                          \
		.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"             \
	}

static void empty_list_denies(void **state)
{
	struct prog p = build(NULL, 0);
	assert_int_equal(run(p.insns, p.n, 'c', 1, 3, "r"), 0);
	assert_int_equal(run(p.insns, p.n, 'b', 8, 0, "m"), 0);
	free(p.insns);
}

static void runc_defaults(void **state)
{
	struct husk_device_rule rules[32] = {DENY_ALL};
	memcpy(rules + 1, cg_default_device_rules,
	       cg_n_default_device_rules * sizeof(struct husk_device_rule));
	struct prog p = build(rules, 1 + cg_n_default_device_rules);
	assert_int_equal(run(p.insns, p.n, 'c', 1, 3, "rw"), 1);   /* null */
	assert_int_equal(run(p.insns, p.n, 'c', 1, 9, "r"), 1);	   /* urandom */
	assert_int_equal(run(p.insns, p.n, 'c', 136, 7, "rw"), 1); /* pts */
	assert_int_equal(run(p.insns, p.n, 'c', 5, 2, "rw"), 1);   /* ptmx */
	assert_int_equal(run(p.insns, p.n, 'c', 1, 1, "r"), 0);	   /* mem */
	assert_int_equal(run(p.insns, p.n, 'c', 1, 11, "w"), 0);   /* kmsg */
	assert_int_equal(run(p.insns, p.n, 'b', 8, 0, "r"), 0);	   /* sda */
	assert_int_equal(run(p.insns, p.n, 'b', 8, 0, "m"), 1);	   /* mknod any */
	assert_int_equal(run(p.insns, p.n, 'c', 4, 1, "m"), 1);
	assert_int_equal(run(p.insns, p.n, 'c', 4, 1, "rm"), 0);
	free(p.insns);
}

static void allow_all_short_circuits(void **state)
{
	struct husk_device_rule rules[] = {
	    DENY_ALL,
	    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	    {.allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	};
	struct prog p = build(rules, 3);
	/* prologue (7) + "return 1": rules before a match-all rule are dead */
	assert_int_equal(p.n, 9);
	assert_int_equal(run(p.insns, p.n, 'b', 8, 0, "rwm"), 1);
	free(p.insns);
}

static void last_rule_wins(void **state)
{
	struct husk_device_rule rules[] = {
	    DENY_ALL,
	    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "w"},
	    {.allow = true, .type = 'c', .major = 10, .minor = -1, .access = "r"},
	};
	struct prog p = build(rules, 4);
	assert_int_equal(run(p.insns, p.n, 'c', 1, 3, "r"), 1);
	assert_int_equal(run(p.insns, p.n, 'c', 1, 3, "w"), 0);
	assert_int_equal(run(p.insns, p.n, 'c', 1, 3, "rw"), 0);    /* any denied bit denies */
	assert_int_equal(run(p.insns, p.n, 'c', 10, 200, "r"), 1);  /* minor wildcard */
	assert_int_equal(run(p.insns, p.n, 'c', 10, 200, "rw"), 0); /* allow needs every bit */
	assert_int_equal(run(p.insns, p.n, 'b', 10, 200, "r"), 0);  /* type must match */
	assert_int_equal(run(p.insns, p.n, 'c', 11, 200, "r"), 0);
	free(p.insns);
}

static void wildcard_major(void **state)
{
	struct husk_device_rule rules[] = {
	    DENY_ALL,
	    {.allow = true, .type = 'b', .major = -1, .minor = 0, .access = "r"},
	};
	struct prog p = build(rules, 2);
	assert_int_equal(run(p.insns, p.n, 'b', 8, 0, "r"), 1);
	assert_int_equal(run(p.insns, p.n, 'b', 259, 0, "r"), 1);
	assert_int_equal(run(p.insns, p.n, 'b', 8, 1, "r"), 0);
	free(p.insns);
}

static void invalid_rules(void **state)
{
	struct husk_err err = {0};
	struct bpf_insn *insns = NULL;
	size_t n;
	struct husk_device_rule bad_type[] = {{.allow = true, .type = 'x', .access = "r"}};
	struct husk_device_rule bad_access[] = {{.allow = true, .type = 'c', .access = "rq"}};
	assert_int_equal(husk_devices_bpf_build(bad_type, 1, &insns, &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.devices[0]"));
	assert_int_equal(husk_devices_bpf_build(bad_access, 1, &insns, &n, &err), -1);
	assert_null(insns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_list_denies),	cmocka_unit_test(runc_defaults),
	    cmocka_unit_test(allow_all_short_circuits), cmocka_unit_test(last_rule_wins),
	    cmocka_unit_test(wildcard_major),		cmocka_unit_test(invalid_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
