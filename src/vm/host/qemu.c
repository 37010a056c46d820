/* The QEMU driver: -machine microvm booting the guest kernel directly (PVH),
 * the agent on a virtio-serial port over an inherited socket, the share
 * over vhost-user-fs (all guest RAM in a shared memfd, which virtiofsd
 * maps), the console to a file, and QEMU's own seccomp sandbox on. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/host/vm.h"
#include "vm/proto.h"

struct argv_builder {
	char **v;
	size_t n, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void add(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (b->failed)
		return;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char **v = realloc(b->v, cap * sizeof(*v));
		if (!v) {
			b->failed = true;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		b->failed = true;
	else {
		b->v[b->n++] = s;
		b->v[b->n] = NULL;
	}
	va_end(ap);
}

static char **qemu_argv(const struct husk_vm_plan *p, int agent_fd, const struct husk_vm_net *net,
			struct husk_err *err)
{
	struct argv_builder b = {0};

	add(&b, "%s", p->hypervisor);
	add(&b, "-machine");
	add(&b, "microvm,accel=%s,acpi=off,memory-backend=mem", p->kvm ? "kvm" : "tcg");
	if (p->kvm) {
		add(&b, "-cpu");
		add(&b, "host");
	}
	add(&b, "-m");
	add(&b, "%uM", p->memory_mib);
	add(&b, "-smp");
	add(&b, "%u", p->cpus);
	/* Every device below is asked for; none comes by default. */
	add(&b, "-nodefaults");
	add(&b, "-no-user-config");
	add(&b, "-display");
	add(&b, "none");
	add(&b, "-no-reboot");
	add(&b, "-object");
	add(&b, "memory-backend-memfd,id=mem,size=%uM,share=on", p->memory_mib);
	/* vhost-user-fs needs modern virtio-mmio. */
	add(&b, "-global");
	add(&b, "virtio-mmio.force-legacy=false");
	add(&b, "-kernel");
	add(&b, "%s", p->kernel);
	add(&b, "-initrd");
	add(&b, "%s", p->initrd);
	add(&b, "-append");
	add(&b, "%s", p->kernel_params);
	add(&b, "-serial");
	add(&b, "file:%s", HUSK_VM_CONSOLE_LOG);
	add(&b, "-chardev");
	add(&b, "socket,id=agent,fd=%d", agent_fd);
	add(&b, "-device");
	add(&b, "virtio-serial-device");
	add(&b, "-device");
	add(&b, "virtserialport,chardev=agent,name=%s", HUSK_VM_PORT_NAME);
	/* Entropy from the host: without it the guest's first read of
	 * /dev/urandom (jansson's hash seed in the agent, any program in the
	 * container) waits about a second for the kernel's jitter entropy. */
	add(&b, "-device");
	add(&b, "virtio-rng-device");
	add(&b, "-chardev");
	add(&b, "socket,id=vfs,path=%s", HUSK_VM_VFS_SOCK);
	add(&b, "-device");
	add(&b, "vhost-user-fs-device,chardev=vfs,tag=%s", HUSK_VM_FS_TAG);
	/* the taps the monitor made: QEMU only reads and writes them */
	for (size_t i = 0; net && i < net->n; i++) {
		add(&b, "-netdev");
		add(&b, "tap,id=net%zu,fd=%d", i, net->nic[i].tap_fd);
		add(&b, "-device");
		add(&b, "virtio-net-device,netdev=net%zu,mac=%s", i, net->nic[i].mac);
	}
	add(&b, "-sandbox");
	add(&b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	for (size_t i = 0; p->hv_params && p->hv_params[i]; i++)
		add(&b, "%s", p->hv_params[i]);
	if (b.failed) {
		husk_vm_argv_free(b.v);
		husk_err_set(err, ENOMEM, "hypervisor command line");
		return NULL;
	}
	return b.v;
}

const struct husk_vmm husk_vmm_qemu = {
    .name = "qemu",
    .build_argv = qemu_argv,
};
