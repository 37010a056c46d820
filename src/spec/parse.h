/* Internal: the section parsers of config.json. Each fills a zeroed struct,
 * returns negative with the error naming the JSON path, and leaves what it
 * allocated in the struct for the matching free function. */
#pragma once
#include "spec/jsonx.h"

int husk_parse_process(struct jctx *c, json_t *obj, struct husk_process *p);
int husk_parse_linux(struct jctx *c, json_t *obj, struct husk_linux *l);
int husk_parse_resources(struct jctx *c, json_t *obj, struct husk_resources *r);
/* memoryPolicy and netDevices (runtime spec 1.3). */
int husk_parse_linux13(struct jctx *c, json_t *obj, struct husk_linux *l);
void husk_linux13_clear(struct husk_linux *l);
int husk_parse_seccomp(struct jctx *c, json_t *obj, struct husk_seccomp *s);
int husk_parse_id_maps(struct jctx *c, json_t *obj, const char *key, struct husk_id_map **out,
		       size_t *n);
/* Clean an absolute path in place (filepath.Clean); false when a ".."
 * would climb above "/". */
bool husk_path_clean(char *path);
/* A container path: absolute, no ".." above "/", not "/" itself; cleaned
 * in place. The error names the path already pushed. */
int husk_check_abs_path(struct jctx *c, char *path);
/* Cross-field rules (namespaces vs. mappings, sysctl, hostname...). */
int husk_validate_spec(struct jctx *c, const struct husk_spec *s);

void husk_process_clear(struct husk_process *p);
void husk_resources_clear(struct husk_resources *r);
void husk_linux_clear(struct husk_linux *l);
