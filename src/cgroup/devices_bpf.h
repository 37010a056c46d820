/* Builds the BPF_PROG_TYPE_CGROUP_DEVICE program that enforces a list of
 * devices-cgroup rules on cgroup v2. Pure: no syscalls, unit-tested by
 * interpreting the instructions. */
#pragma once
#include <linux/bpf.h>
#include <stddef.h>

#include "spec/spec.h"
#include "util/err.h"

/* Semantics match the v1 devices cgroup as runc and crun apply it: access
 * is denied unless a rule allows it; rules are applied in order, so the last
 * rule matching an access decides. An allow rule matches when it grants
 * every requested access bit; a deny rule when it names any of them. Type
 * 'a' matches every device whatever its major/minor. Caller frees *insns. */
int husk_devices_bpf_build(const struct husk_device_rule *rules, size_t n, struct bpf_insn **insns,
			   size_t *n_insns, struct husk_err *err);
