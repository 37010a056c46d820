/* The isolation backend of a container: what turns its spec into running
 * processes and acts on them. The lifecycle layer (state, cgroups, hooks,
 * locking) is the same for every backend; the steps below are what differ
 * between the linux backend (namespaces on the host kernel) and a backend
 * that runs the container elsewhere (the vm backend: its own guest kernel).
 *
 * A container's backend is chosen at create (husk_backend_select) and
 * recorded in its state as the annotation HUSK_BACKEND_ANNOTATION, so every
 * later command acts through the same one (husk_backend_of). A container
 * that asked for no backend gets the default, linux, and no annotation: its
 * state then says exactly what runc's would (engines compare them). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "linux/linux.h"
#include "runtime/runtime.h"
#include "spec/spec.h"
#include "util/err.h"

/* The state annotation that names a container's backend. */
#define HUSK_BACKEND_ANNOTATION "org.husk.backend"
/* The annotation that asks for a backend (crun's name for it, which
 * podman --annotation and Kubernetes pod annotations can set). */
#define HUSK_HANDLER_ANNOTATION "run.oci.handler"
#define HUSK_BACKEND_DEFAULT	"linux"

struct husk_backend {
	const char *name;
	/* Its containers' processes run on this host's kernel, so a husk process
	 * that meets them must first be a sealed copy (CVE-2019-5736, guard.c).
	 * The vm backend's run in a guest: no host process of husk meets them. */
	bool host_processes;
	/* Make the container's process, stopped before the user program until
	 * start; p and out as for husk_linux_spawn. */
	int (*create)(const struct husk_spawn_params *p, struct husk_spawn_result *out,
		      struct husk_err *err);
	/* Let a created container's process run its program; `wait_exec`:
	 * return only once it has (poststart hooks follow). */
	int (*start)(struct husk_container *c, bool wait_exec, struct husk_err *err);
	/* Signal the init (all = false) or every process of the container. */
	int (*kill)(struct husk_container *c, int sig, bool all, struct husk_err *err);
	/* A new process in a running container; p and out as for husk_linux_exec. */
	int (*exec)(const struct husk_exec_params *p, struct husk_spawn_result *out,
		    struct husk_err *err);
	/* Freeze / thaw every process of the container. */
	int (*pause)(struct husk_container *c, struct husk_err *err);
	int (*resume)(struct husk_container *c, struct husk_err *err);
	/* The "data" object of an events stats line, as JSON text (caller frees). */
	char *(*stats)(struct husk_container *c, struct husk_err *err);
	/* Stop whatever still runs (delete --force, a failed start): SIGKILL
	 * and wait. The lifecycle layer then removes cgroups and state. */
	int (*delete)(struct husk_container *c, struct husk_err *err);
	/* At delete, whatever the state: undo what the container's processes
	 * set up outside themselves and could not undo (killed). May be NULL. */
	void (*release)(struct husk_container *c);
	/* Annotations of its own the backend adds to the container's state at
	 * create (beside HUSK_BACKEND_ANNOTATION): appended to `ann`. May be NULL. */
	int (*state_extras)(const struct husk_spec *spec, struct husk_kvv *ann,
			    struct husk_err *err);
};

/* The backends this husk has, in the order `features` lists them. */
extern const struct husk_backend *const husk_backends[];
extern const size_t husk_n_backends;

/* The backend called `name`, or NULL when this husk has none by that name. */
const struct husk_backend *husk_backend_find(const char *name);

/* The backend a new container asks for: the annotation run.oci.handler of
 * its config, else the name husk was run under (argv0: "husk-vm" asks for
 * vm; any other name for nothing), else linux. *asked: whether the config
 * or argv0 asked (false for the default). A backend asked for that this
 * husk does not have is an error naming where it was asked. */
int husk_backend_select(const struct husk_kvv *annotations, const char *argv0,
			const struct husk_backend **out, bool *asked, struct husk_err *err);

/* The backend recorded in a container's state (linux when none is, as for
 * a container created before backends were recorded). */
int husk_backend_of(const struct husk_container *c, const struct husk_backend **out,
		    struct husk_err *err);

/* Record `b` in the annotations (replacing any value the config gave; only
 * when `named`, see above) and add b's state extras. */
int husk_backend_record(const struct husk_backend *b, bool named, const struct husk_spec *spec,
			struct husk_kvv *annotations, struct husk_err *err);

/* The linux backend (backend_linux.c). */
extern const struct husk_backend husk_backend_linux;
/* The vm backend (src/vm/host/backend_vm.c). */
extern const struct husk_backend husk_backend_vm;
