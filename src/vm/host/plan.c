/* The VM plan: which hypervisor, kernel, initrd, memory and vCPUs a
 * container's VM gets, from its config's `vm` section (OCI runtime-spec
 * config-vm.md), its annotations and what this host has. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm/host/vm.h"

#define MEMORY_DEFAULT_MIB 256u
#define MEMORY_MIN_MIB	   64u
#define MEMORY_MAX_MIB	   (1u << 20)
/* What the VM's host processes (QEMU's own memory under TCG ~85 MiB, virtiofsd
 * ~9 MiB, the monitor ~1 MiB, bench/vm.py measures them) need beside the
 * guest's RAM. The container's memory limit bounds the whole VM in its
 * cgroup, so the guest gets the limit less this: guest RAM the host cannot
 * back would get QEMU, not the guest's process, killed by the host. */
#define VMM_OVERHEAD_MIB 128u
#define CPUS_MAX	 64u

bool husk_vm_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	bool ok = fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;

	if (fd >= 0)
		close(fd);
	return ok;
}

int husk_vm_annotation_uint(const struct husk_kvv *ann, const char *key, unsigned int def,
			    unsigned int min, unsigned int max, unsigned int *out,
			    struct husk_err *err)
{
	const char *v = NULL;
	char *end;
	unsigned long n;

	for (size_t i = 0; ann && i < ann->n; i++)
		if (strcmp(ann->v[i].key, key) == 0)
			v = ann->v[i].value;
	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || n < min || n > max)
		return husk_err_plain(err, EINVAL,
				      "annotations.%s: \"%s\" is not a whole number from %u to %u",
				      key, v, min, max);
	*out = (unsigned int)n;
	return 0;
}

/* The directory husk runs from: a build tree or an installed prefix keeps
 * the guest kernel and agent beside it, in vm/. */
static char *exe_dir_file(const char *name)
{
	char exe[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return asprintf(&out, "%s/vm/%s", exe, name) < 0 ? NULL : out;
}

/* The file the config names (it must exist), else the first default that
 * exists, else an error naming every place looked and how to get one. */
static int pick_file(const char *given, const char *field, const char *name, const char *how,
		     char **out, struct husk_err *err)
{
	char *beside = NULL, sys[PATH_MAX];

	if (given) {
		if (access(given, R_OK) < 0)
			return husk_err_sys(err, "%s %s", field, given);
		*out = strdup(given);
		return *out ? 0 : husk_err_set(err, ENOMEM, "%s", field);
	}
	beside = exe_dir_file(name);
	if (beside && access(beside, R_OK) == 0) {
		*out = beside;
		return 0;
	}
	snprintf(sys, sizeof(sys), "/usr/lib/husk/vm/%s", name);
	if (access(sys, R_OK) == 0) {
		free(beside);
		*out = strdup(sys);
		return *out ? 0 : husk_err_set(err, ENOMEM, "%s", field);
	}
	husk_err_plain(err, ENOENT, "no guest %s: %s not set, and neither %s nor %s exists (%s)",
		       name, field, beside ? beside : "<husk's dir>/vm/", sys, how);
	free(beside);
	return -1;
}

static int find_hypervisor(const char *given, char **out, struct husk_err *err)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (given) {
		if (given[0] != '/')
			return husk_err_plain(err, EINVAL,
					      "vm.hypervisor.path: \"%s\" is not absolute", given);
		if (access(given, X_OK) < 0)
			return husk_err_sys(err, "vm.hypervisor.path %s", given);
		*out = strdup(given);
		return *out ? 0 : husk_err_set(err, ENOMEM, "hypervisor");
	}
	for (const char *p = path ? path : ""; *p; p += strcspn(p, ":"), p += *p == ':') {
		int len = (int)strcspn(p, ":");
		if (len == 0)
			continue;
		snprintf(buf, sizeof(buf), "%.*s/qemu-system-x86_64", len, p);
		if (buf[0] == '/' && access(buf, X_OK) == 0)
			return (*out = strdup(buf)) ? 0 : husk_err_set(err, ENOMEM, "hypervisor");
	}
	if (access("/usr/bin/qemu-system-x86_64", X_OK) == 0)
		return (*out = strdup("/usr/bin/qemu-system-x86_64"))
			   ? 0
			   : husk_err_set(err, ENOMEM, "hypervisor");
	return husk_err_plain(err, ENOENT,
			      "no hypervisor: qemu-system-x86_64 is not in PATH or /usr/bin "
			      "(install Debian's qemu-system-x86, or set vm.hypervisor.path)");
}

/* A string field of an object, or NULL; a present field of another type is
 * an error naming it. */
static int opt_string(const json_t *obj, const char *key, const char *where, const char **out,
		      struct husk_err *err)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return husk_err_plain(err, EINVAL, "%s.%s: must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

static int opt_object(const json_t *obj, const char *key, const char *where, json_t **out,
		      struct husk_err *err)
{
	*out = obj ? json_object_get(obj, key) : NULL;
	if (*out && !json_is_object(*out))
		return husk_err_plain(err, EINVAL, "%s%s%s: must be an object", where,
				      *where ? "." : "", key);
	return 0;
}

static int string_array(const json_t *obj, const char *key, const char *where, char ***out,
			struct husk_err *err)
{
	json_t *a = obj ? json_object_get(obj, key) : NULL, *v;
	size_t i;

	*out = calloc(a ? json_array_size(a) + 1 : 1, sizeof(char *));
	if (!*out)
		return husk_err_set(err, ENOMEM, "%s.%s", where, key);
	if (!a)
		return 0;
	if (!json_is_array(a))
		return husk_err_plain(err, EINVAL, "%s.%s: must be an array of strings", where,
				      key);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return husk_err_plain(err, EINVAL, "%s.%s[%zu]: must be a string", where,
					      key, i);
		if (!((*out)[i] = strdup(json_string_value(v))))
			return husk_err_set(err, ENOMEM, "%s.%s", where, key);
	}
	return 0;
}

/* Under TCG the guest cannot calibrate its TSC in reasonable time: it is
 * told the host's frequency. */
static unsigned long host_tsc_khz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	if (f)
		fclose(f);
	return mhz > 0 ? (unsigned long)(mhz * 1000) : 1000000;
}

static int kernel_cmdline(struct husk_vm_plan *plan, const json_t *kernel, struct husk_err *err)
{
	char **extra = NULL;
	size_t len;
	char *s;
	int rc = string_array(kernel, "parameters", "vm.kernel", &extra, err);

	if (rc == 0 &&
	    asprintf(&plan->kernel_params,
		     "console=ttyS0 quiet reboot=t panic=-1 tsc_early_khz=%lu", host_tsc_khz()) < 0)
		rc = husk_err_set(err, ENOMEM, "kernel parameters");
	for (size_t i = 0; rc == 0 && extra[i]; i++) {
		len = strlen(plan->kernel_params) + strlen(extra[i]) + 2;
		s = realloc(plan->kernel_params, len);
		if (!s) {
			rc = husk_err_set(err, ENOMEM, "kernel parameters");
			break;
		}
		strcat(strcat(s, " "), extra[i]);
		plan->kernel_params = s;
	}
	husk_argv_free(extra);
	return rc;
}

static json_t *resource(const json_t *config, const char *group, const char *key)
{
	return json_object_get(
	    json_object_get(json_object_get(json_object_get(config, "linux"), "resources"), group),
	    key);
}

/* The guest's memory from linux.resources.memory.limit (0: none set). */
static int memory_from_limit(const json_t *config, unsigned int *out, struct husk_err *err)
{
	json_t *v = resource(config, "memory", "limit");
	json_int_t b = json_is_integer(v) ? json_integer_value(v) : 0;

	*out = 0;
	if (b <= 0)
		return 0;
	b >>= 20;
	if (b < VMM_OVERHEAD_MIB + MEMORY_MIN_MIB)
		return husk_err_plain(err, EINVAL,
				      "linux.resources.memory.limit: %lld MiB is too little for a "
				      "VM: its host processes need about %u MiB beside at least %u "
				      "MiB of guest memory (give at least %u MiB)",
				      (long long)b, VMM_OVERHEAD_MIB, MEMORY_MIN_MIB,
				      VMM_OVERHEAD_MIB + MEMORY_MIN_MIB);
	b -= VMM_OVERHEAD_MIB;
	*out = b > MEMORY_MAX_MIB ? MEMORY_MAX_MIB : (unsigned int)b;
	return 0;
}

/* vCPUs from linux.resources.cpu quota/period, rounded up (0: none set). */
static unsigned int cpus_from_quota(const json_t *config)
{
	json_t *q = resource(config, "cpu", "quota"), *p = resource(config, "cpu", "period");
	json_int_t quota = json_is_integer(q) ? json_integer_value(q) : 0;
	json_int_t period = json_is_integer(p) ? json_integer_value(p) : 100000;

	if (quota <= 0 || period <= 0)
		return 0;
	quota = (quota + period - 1) / period;
	return quota > CPUS_MAX ? CPUS_MAX : (unsigned int)quota;
}

int husk_vm_plan_make(const json_t *config, const struct husk_kvv *annotations,
		      struct husk_vm_plan *plan, struct husk_err *err)
{
	json_t *vm, *hv, *kernel, *image;
	const char *hv_path, *k_path, *initrd;
	unsigned int limit, quota_cpus = cpus_from_quota(config);

	*plan = (struct husk_vm_plan){0};
	if (memory_from_limit(config, &limit, err) < 0)
		return -1;
	if (opt_object(config, "vm", "", &vm, err) < 0 ||
	    opt_object(vm, "hypervisor", "vm", &hv, err) < 0 ||
	    opt_object(vm, "kernel", "vm", &kernel, err) < 0 ||
	    opt_object(vm, "image", "vm", &image, err) < 0)
		return -1;
	if (image)
		return husk_err_plain(err, ENOTSUP,
				      "vm.image: not supported (the vm backend shares the bundle's "
				      "rootfs over virtio-fs; remove vm.image)");
	if (opt_string(hv, "path", "vm.hypervisor", &hv_path, err) < 0 ||
	    opt_string(kernel, "path", "vm.kernel", &k_path, err) < 0 ||
	    opt_string(kernel, "initrd", "vm.kernel", &initrd, err) < 0)
		return -1;
	if (husk_vm_annotation_uint(annotations, HUSK_VM_ANN_MEMORY,
				    limit ? (limit < MEMORY_MIN_MIB ? MEMORY_MIN_MIB : limit)
					  : MEMORY_DEFAULT_MIB,
				    MEMORY_MIN_MIB, MEMORY_MAX_MIB, &plan->memory_mib, err) < 0 ||
	    husk_vm_annotation_uint(annotations, HUSK_VM_ANN_CPUS, quota_cpus ? quota_cpus : 1, 1,
				    CPUS_MAX, &plan->cpus, err) < 0)
		return -1;
	if (find_hypervisor(hv_path, &plan->hypervisor, err) < 0 ||
	    pick_file(k_path, "vm.kernel.path", "vmlinux",
		      "build one with `make vm-kernel`, or install husk's vm package",
		      &plan->kernel, err) < 0 ||
	    pick_file(initrd, "vm.kernel.initrd", "husk-agent.cpio",
		      "build husk, which makes it, or install husk's vm package", &plan->initrd,
		      err) < 0 ||
	    kernel_cmdline(plan, kernel, err) < 0 ||
	    string_array(hv, "parameters", "vm.hypervisor", &plan->hv_params, err) < 0) {
		husk_vm_plan_free(plan);
		return -1;
	}
	plan->kvm = husk_vm_kvm_usable();
	return 0;
}

void husk_vm_plan_free(struct husk_vm_plan *plan)
{
	free(plan->hypervisor);
	free(plan->kernel);
	free(plan->initrd);
	free(plan->kernel_params);
	husk_argv_free(plan->hv_params);
	*plan = (struct husk_vm_plan){0};
}
