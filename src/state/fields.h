/* The field table of the state model (model.c), shared by its encoder
 * (model.c) and its decoder (decode.c); private to src/state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "runtime/runtime.h"
#include "state/state.h"

enum type {
	T_VERSION,  /* the spec version husk's state complies with (a constant) */
	T_STR,	    /* char * */
	T_PID,	    /* pid_t; 0 in the oci and spec forms once stopped */
	T_U64,	    /* uint64_t */
	T_UINT,	    /* unsigned int */
	T_STATUS,   /* enum husk_status, by name */
	T_CREATING, /* enum husk_status, as a boolean: creating or not */
	T_MAP,	    /* struct husk_kvv of strings */
};

#define IN_RECORD (1u << HUSK_STATE_RECORD)
#define IN_OCI	  (1u << HUSK_STATE_OCI)
#define IN_SPEC	  (1u << HUSK_STATE_SPEC)
#define IN_ALL	  (IN_RECORD | IN_OCI | IN_SPEC)

#define OPTIONAL 1u /* left out when NULL or empty */
#define REQUIRED 2u /* a document without it does not load */

struct husk_state_field {
	const char *key;
	unsigned char type, forms, flags;
	unsigned short off;
};

#define HUSK_STATE_N_FIELDS 13
extern const struct husk_state_field husk_state_fields[HUSK_STATE_N_FIELDS];

/* Where field f lives in c. */
static inline void *husk_state_at(const struct husk_container *c, const struct husk_state_field *f)
{
	return (char *)c + f->off;
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when it is not one. s is NUL
 * terminated, and a NUL fails every test before the next byte is read. */
size_t husk_utf8_seq(const unsigned char *s);

/* The status called `s` ("created", ...); false when there is none. */
bool husk_status_from_name(const char *s, enum husk_status *out);
