/* User and group ids from untrusted text: one strict parser for every place
 * an id comes in (config.json, exec's process.json, command-line flags).
 *
 * The kernel takes uid_t/gid_t (uint32_t), where (uid_t)-1 = 4294967295
 * means "leave unchanged": a config asking for it would keep the runtime's
 * own id (root). As runc does, ids above 2^31 - 1 are refused, so neither
 * -1 nor any value that wraps or truncates to it can get through. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

#define HUSK_ID_MAX 2147483647 /* 2^31 - 1, runc's limit */

/* Check a number read elsewhere (a JSON integer). 0 with *out set, or -1
 * with err "<v> is out of range (0..2147483647)" (no errno). */
int husk_id_check(int64_t v, uint32_t *out, struct husk_err *err);

/* husk_id_parse (a decimal id) and husk_user_parse ("UID" or "UID:GID"):
 * in husk/husk.h, which util/err.h includes. */
