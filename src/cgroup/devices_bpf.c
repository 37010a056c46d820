/* Hand-assembled cgroup device filter (see devices_bpf.h). The program gets
 * struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } with
 * access_type = (access << 16) | type, and returns 1 to allow, 0 to deny.
 * Rules are emitted last first, each a block of compare-and-skip jumps ending
 * in "return decision"; a rule that matches everything ends the program. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/devices_bpf.h"

enum { R_ACCESS_TYPE = 2, R_TYPE = 3, R_ACCESS = 4, R_MAJOR = 5, R_MINOR = 6, R_TMP = 7 };

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV32_REG(dst, src)  INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define AND32_K(dst, imm)    INSN(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH32_K(dst, imm)    INSN(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define MOV64_K(dst, imm)    INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_K(dst, imm)	     INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm)
#define JEQ_K(dst, imm)	     INSN(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, imm)
#define EXIT()		     INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static int access_bits(const char *access)
{
	int bits = 0;
	if (!access[0])
		return ACC_ALL; /* OCI: absent access means "rwm" */
	for (const char *c = access; *c; c++) {
		switch (*c) {
		case 'r':
			bits |= BPF_DEVCG_ACC_READ;
			break;
		case 'w':
			bits |= BPF_DEVCG_ACC_WRITE;
			break;
		case 'm':
			bits |= BPF_DEVCG_ACC_MKNOD;
			break;
		default:
			return -1;
		}
	}
	return bits;
}

/* Emits one rule's block into out (room for 8); returns its length and
 * whether it matches every access (so nothing before it matters). */
static size_t emit_rule(const struct husk_device_rule *r, int acc, struct bpf_insn *out,
			bool *match_all)
{
	size_t n = 0;
	bool any_type = r->type == 'a';

	if (!any_type)
		out[n++] = JNE_K(R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	if (acc != ACC_ALL) {
		out[n++] = MOV32_REG(R_TMP, R_ACCESS);
		if (r->allow) { /* every requested bit granted */
			out[n++] = AND32_K(R_TMP, ~acc & ACC_ALL);
			out[n++] = JNE_K(R_TMP, 0);
		} else { /* any requested bit denied */
			out[n++] = AND32_K(R_TMP, acc);
			out[n++] = JEQ_K(R_TMP, 0);
		}
	}
	if (!any_type && r->major >= 0)
		out[n++] = JNE_K(R_MAJOR, (int32_t)r->major);
	if (!any_type && r->minor >= 0)
		out[n++] = JNE_K(R_MINOR, (int32_t)r->minor);
	*match_all = n == 0;
	/* Conditional jumps so far skip the rest of the block. */
	for (size_t i = 0; i < n; i++)
		if (BPF_CLASS(out[i].code) == BPF_JMP)
			out[i].off = (int16_t)(n + 2 - i - 1);
	out[n++] = MOV64_K(0, r->allow ? 1 : 0);
	out[n++] = EXIT();
	return n;
}

int husk_devices_bpf_build(const struct husk_device_rule *rules, size_t n, struct bpf_insn **insns,
			   size_t *n_insns, struct husk_err *err)
{
	static const struct bpf_insn prologue[] = {
	    LDX_W(R_ACCESS_TYPE, 1, 0), MOV32_REG(R_TYPE, R_ACCESS_TYPE),
	    AND32_K(R_TYPE, 0xffff),	MOV32_REG(R_ACCESS, R_ACCESS_TYPE),
	    RSH32_K(R_ACCESS, 16),	LDX_W(R_MAJOR, 1, 4),
	    LDX_W(R_MINOR, 1, 8),
	};
	size_t np = sizeof(prologue) / sizeof(prologue[0]);
	size_t cap = np + 8 * n + 2, len = np;
	struct bpf_insn *p = calloc(cap, sizeof(*p));
	bool match_all = false;

	if (!p)
		return husk_err_set(err, ENOMEM, "device filter");
	memcpy(p, prologue, sizeof(prologue));
	for (size_t i = n; i-- > 0 && !match_all;) {
		const struct husk_device_rule *r = &rules[i];
		int acc = access_bits(r->access);
		if (acc < 0 || (r->type != 'a' && r->type != 'b' && r->type != 'c') ||
		    r->major > INT32_MAX || r->minor > INT32_MAX) {
			free(p);
			return husk_err_set(err, 0,
					    "linux.resources.devices[%zu]: invalid rule (type %c, "
					    "access \"%s\")",
					    i, r->type ? r->type : '?', r->access);
		}
		len += emit_rule(r, acc, p + len, &match_all);
	}
	if (!match_all) { /* nothing matched: deny */
		p[len++] = MOV64_K(0, 0);
		p[len++] = EXIT();
	}
	*insns = p;
	*n_insns = len;
	return 0;
}
