/* libFuzzer target: config.json parsing must never crash, leak or read out
 * of bounds, whatever the bytes. Also drives the process.json and
 * resources parsers, which share the same code paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct husk_err err;
	const char *json = (const char *)data;
	struct husk_spec *spec = husk_spec_parse(json, size, &err);
	struct husk_process *proc;
	struct husk_resources *res;

	husk_spec_free(spec);
	/* The same bytes as process.json and as an update --resources file. */
	proc = husk_process_parse(json, size, &err);
	husk_process_free(proc);
	res = husk_resources_parse(json, size, &err);
	husk_resources_free(res);
	return 0;
}
