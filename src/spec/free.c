#include <stdlib.h>

#include "spec/parse.h"

static void hook_list_clear(struct husk_hook_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].path);
		husk_strv_free(&list->v[i].args);
		husk_strv_free(&list->v[i].env);
	}
	free(list->v);
}

void husk_spec_free(struct husk_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	husk_process_free(s->process);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct husk_mount *m = &s->mounts[i];
		free(m->destination);
		free(m->type);
		free(m->source);
		husk_strv_free(&m->options);
		free(m->opts.data);
		free(m->uid_mappings);
		free(m->gid_mappings);
	}
	free(s->mounts);
	for (int k = 0; k < HUSK_HOOK_KIND_COUNT; k++)
		hook_list_clear(&s->hooks[k]);
	husk_kvv_free(&s->annotations);
	husk_linux_clear(&s->linux);
	free(s);
}
