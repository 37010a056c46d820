/* The container record: what the state store keeps of a container, and
 * what the lifecycle layer (runtime/) loads and acts on. It lives here,
 * below runtime/, so the store needs nothing from the layer above it. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "husk/husk.h"
#include "spec/spec.h"

struct husk_cgroup;

/* A container as the state store knows it. */
struct husk_container {
	char *id;
	pid_t pid;	    /* init in the runtime's pid namespace; 0 when none */
	uint64_t pid_start; /* init's start time (proc stat field 22) to defeat pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 UTC */
	char *owner;
	char *cgroup_path; /* resolved cgroup path, NULL when none */
	struct husk_kvv annotations;
	enum husk_status status;    /* derived when loaded */
	struct husk_spec *spec;	    /* loaded lazily by husk_container_spec() */
	struct husk_cgroup *cgroup; /* opened lazily by husk_container_cgroup() */
	int dir_fd;		    /* the container's state directory */
	unsigned int hook_kinds;    /* bit k set when the spec has hooks of kind k */
};

/* Free what the record read from state.json (every string but the id, and
 * the annotations), leaving those fields NULL and empty. */
void husk_record_release(struct husk_container *c);
