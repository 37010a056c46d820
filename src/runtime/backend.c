/* Choosing a container's backend, and finding it again later. */
#include "runtime/backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct husk_backend *const husk_backends[] = {&husk_backend_linux, &husk_backend_vm};
const size_t husk_n_backends = sizeof(husk_backends) / sizeof(husk_backends[0]);

/* Program names that ask for a backend: an engine registers husk under
 * the second name as a runtime of its own. */
static const struct {
	const char *program, *backend;
} program_backends[] = {
    {"husk-vm", "vm"},
};

const struct husk_backend *husk_backend_find(const char *name)
{
	for (size_t i = 0; i < husk_n_backends; i++)
		if (strcmp(husk_backends[i]->name, name) == 0)
			return husk_backends[i];
	return NULL;
}

static const char *annotation(const struct husk_kvv *ann, const char *key)
{
	for (size_t i = 0; ann && i < ann->n; i++)
		if (strcmp(ann->v[i].key, key) == 0)
			return ann->v[i].value;
	return NULL;
}

static const char *program_backend(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	for (size_t i = 0; base && i < sizeof(program_backends) / sizeof(program_backends[0]); i++)
		if (strcmp(base, program_backends[i].program) == 0)
			return program_backends[i].backend;
	return NULL;
}

static int unknown(const char *name, const char *where, const char *what, struct husk_err *err)
{
	char known[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < husk_n_backends && used < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
					 husk_backends[i]->name);
	return husk_err_plain(err, ENOTSUP,
			      "%s %s asks for backend \"%s\": this husk has no such "
			      "backend (it has: %s)",
			      where, what, name, known);
}

int husk_backend_select(const struct husk_kvv *annotations, const char *argv0,
			const struct husk_backend **out, bool *asked, struct husk_err *err)
{
	const char *name = annotation(annotations, HUSK_HANDLER_ANNOTATION);
	const char *where = "annotation", *what = HUSK_HANDLER_ANNOTATION;

	if (!name) {
		name = program_backend(argv0);
		where = "program name";
		what = argv0;
	}
	*asked = name != NULL;
	if (!name)
		name = HUSK_BACKEND_DEFAULT;
	*out = husk_backend_find(name);
	return *out ? 0 : unknown(name, where, what, err);
}

int husk_backend_of(const struct husk_container *c, const struct husk_backend **out,
		    struct husk_err *err)
{
	const char *name = annotation(&c->annotations, HUSK_BACKEND_ANNOTATION);

	*out = husk_backend_find(name ? name : HUSK_BACKEND_DEFAULT);
	if (!*out)
		return husk_err_plain(err, ENOTSUP,
				      "container %s uses backend \"%s\", which this husk does not "
				      "have",
				      c->id, name);
	return 0;
}

static int set_annotation(struct husk_kvv *ann, const char *key, const char *value,
			  struct husk_err *err)
{
	char *copy = strdup(value);
	struct husk_kv *bigger;

	if (!copy)
		return husk_err_set(err, ENOMEM, "annotation %s", key);
	for (size_t i = 0; i < ann->n; i++)
		if (strcmp(ann->v[i].key, key) == 0) {
			free(ann->v[i].value);
			ann->v[i].value = copy;
			return 0;
		}
	bigger = realloc(ann->v, (ann->n + 1) * sizeof(*ann->v));
	if (!bigger || !(bigger[ann->n].key = strdup(key))) {
		if (bigger)
			ann->v = bigger;
		free(copy);
		return husk_err_set(err, ENOMEM, "annotation %s", key);
	}
	ann->v = bigger;
	ann->v[ann->n++].value = copy;
	return 0;
}

int husk_backend_record(const struct husk_backend *b, bool named, const struct husk_spec *spec,
			struct husk_kvv *annotations, struct husk_err *err)
{
	if (named && set_annotation(annotations, HUSK_BACKEND_ANNOTATION, b->name, err) < 0)
		return -1;
	return b->state_extras ? b->state_extras(spec, annotations, err) : 0;
}

char *husk_features(struct husk_err *err)
{
	char names[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < husk_n_backends && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? "," : "",
					 husk_backends[i]->name);
	struct husk_kv kv[] = {
	    {.key = (char *)"org.husk.backends", .value = names},
	    {.key = (char *)"org.husk.backend.default", .value = (char *)HUSK_BACKEND_DEFAULT},
	};
	struct husk_kvv extra = {.v = kv, .n = sizeof(kv) / sizeof(kv[0])};
	return husk_features_json(&extra, err);
}
