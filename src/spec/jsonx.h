/* Typed access to jansson values for the spec parser. Every getter knows the
 * JSON path of the value it reads, so an error says exactly which field of
 * config.json is wrong: "process.rlimits[0].type: must be a string". */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "spec/spec.h"

/* Numbers jansson cannot hold, carried by jload() as strings that start
 * with a marker byte (only when jctx.big_numbers is set): */
#define BIG_MARK  '\x01' /* an integer in (INT64_MAX, UINT64_MAX]: its digits */
#define HUGE_MARK '\x02' /* any other that fits no C type: its literal */

struct jctx {
	struct husk_err *err;
	bool big_numbers; /* jload() carried some numbers as marked strings */
	bool arena;	  /* the tree lives in jload()'s arena (see jload.c) */
	size_t len;
	char path[512];
};

/* Path building: push returns the old length, pop restores it. */
size_t jp_key(struct jctx *c, const char *key);
size_t jp_idx(struct jctx *c, size_t i);
void jp_pop(struct jctx *c, size_t old);

/* Record "<path>: <message>" (or just the message at the root); returns -1. */
int jfail(struct jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Out of memory while parsing; returns -1. */
int jnomem(struct jctx *c);

/* Parse text into a JSON object; what names the document in syntax errors
 * ("config.json: line 3 column 5: ..."). Sets c->big_numbers. Release the
 * tree with jdone(), never json_decref(): no other jansson values may be
 * made or kept between the two. */
json_t *jload(struct jctx *c, const char *json, size_t len, const char *what);
void jdone(struct jctx *c, json_t *root);

/* Is v a JSON string (and not a number jload() carried as one)? */
bool jis_str(const struct jctx *c, json_t *v);

/* Value getters: the path of v is already pushed. */
int jv_str(struct jctx *c, json_t *v, char **out);
int jv_bool(struct jctx *c, json_t *v, bool *out);
int jv_i64(struct jctx *c, json_t *v, int64_t *out);
int jv_u64(struct jctx *c, json_t *v, uint64_t *out);
int jv_range(struct jctx *c, json_t *v, int64_t min, int64_t max, int64_t *out);
int jv_u32(struct jctx *c, json_t *v, uint32_t *out);
/* A uid or gid: 0..HUSK_ID_MAX (util/ids.h). */
int jv_id(struct jctx *c, json_t *v, uint32_t *out);
int jv_strv(struct jctx *c, json_t *v, struct husk_strv *out);
int jv_kvv(struct jctx *c, json_t *v, struct husk_kvv *out);

/* Member getters: return 1 when the member is present (and not null), 0 when
 * absent, -1 on a type error. The member's name is pushed while it is read. */
int jm_str(struct jctx *c, json_t *obj, const char *key, char **out);
int jm_bool(struct jctx *c, json_t *obj, const char *key, bool *out);
int jm_i64(struct jctx *c, json_t *obj, const char *key, int64_t *out);
int jm_u64(struct jctx *c, json_t *obj, const char *key, uint64_t *out);
int jm_u32(struct jctx *c, json_t *obj, const char *key, uint32_t *out);
int jm_id(struct jctx *c, json_t *obj, const char *key, uint32_t *out);
int jm_range(struct jctx *c, json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int jm_strv(struct jctx *c, json_t *obj, const char *key, struct husk_strv *out);
int jm_kvv(struct jctx *c, json_t *obj, const char *key, struct husk_kvv *out);
int jm_obj(struct jctx *c, json_t *obj, const char *key, json_t **out);
int jm_arr(struct jctx *c, json_t *obj, const char *key, json_t **out);
/* A member that must be present: "<path>.<key>: missing" otherwise. */
int jm_need(struct jctx *c, json_t *obj, const char *key);

/* Optional numbers straight into the header's option structs. */
int jm_opt_i64(struct jctx *c, json_t *obj, const char *key, struct husk_opt_i64 *out);
int jm_opt_u64(struct jctx *c, json_t *obj, const char *key, struct husk_opt_u64 *out);

/* Allocate n zeroed elements (n may be 0: returns NULL with no error). */
void *jcalloc(struct jctx *c, size_t n, size_t size, int *rc);

void husk_strv_free(struct husk_strv *v);
