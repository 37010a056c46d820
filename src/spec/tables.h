/* Name tables shared by the parser, `husk spec` and `husk features`. */
#pragma once
#include <stddef.h>

struct husk_name_value {
	const char *name;
	long value;
};

extern const struct husk_name_value husk_rlimit_names[];
extern const size_t husk_n_rlimit_names;
extern const struct husk_name_value husk_propagation_names[];
extern const size_t husk_n_propagation_names;
extern const struct husk_name_value husk_seccomp_action_names[];
extern const size_t husk_n_seccomp_action_names;
extern const struct husk_name_value husk_seccomp_op_names[];
extern const size_t husk_n_seccomp_op_names;
extern const char *const husk_seccomp_arch_names[];
extern const size_t husk_n_seccomp_arch_names;
extern const char *const husk_seccomp_flag_names[];
extern const size_t husk_n_seccomp_flag_names;
extern const char *const husk_hook_names[];
const char *husk_mount_option_at(size_t i);

/* Linear lookup; returns -1 when the name is not in the table. */
long husk_lookup(const struct husk_name_value *table, size_t n, const char *name);
const char *husk_lookup_name(const struct husk_name_value *table, size_t n, long value);
