/* The QEMU driver: -machine microvm booting the guest kernel directly (PVH),
 * the agent on a virtio-serial port over an inherited socket, the share
 * over vhost-user-fs (all guest RAM in a shared memfd, which virtiofsd
 * maps), the console to a file, and QEMU's own seccomp sandbox on. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "vm/host/vm.h"
#include "vm/proto.h"

static char **qemu_argv(const struct husk_vm_plan *p, int agent_fd, const struct husk_vm_net *net,
			struct husk_err *err)
{
	struct husk_argv b = {0};

	husk_argv_add(&b, "%s", p->hypervisor);
	husk_argv_add(&b, "-machine");
	husk_argv_add(&b, "microvm,accel=%s,acpi=off,memory-backend=mem", p->kvm ? "kvm" : "tcg");
	if (p->kvm) {
		husk_argv_add(&b, "-cpu");
		husk_argv_add(&b, "host");
	}
	husk_argv_add(&b, "-m");
	husk_argv_add(&b, "%uM", p->memory_mib);
	husk_argv_add(&b, "-smp");
	husk_argv_add(&b, "%u", p->cpus);
	/* Every device below is asked for; none comes by default. */
	husk_argv_add(&b, "-nodefaults");
	husk_argv_add(&b, "-no-user-config");
	husk_argv_add(&b, "-display");
	husk_argv_add(&b, "none");
	husk_argv_add(&b, "-no-reboot");
	husk_argv_add(&b, "-object");
	husk_argv_add(&b, "memory-backend-memfd,id=mem,size=%uM,share=on", p->memory_mib);
	/* vhost-user-fs needs modern virtio-mmio. */
	husk_argv_add(&b, "-global");
	husk_argv_add(&b, "virtio-mmio.force-legacy=false");
	husk_argv_add(&b, "-kernel");
	husk_argv_add(&b, "%s", p->kernel);
	husk_argv_add(&b, "-initrd");
	husk_argv_add(&b, "%s", p->initrd);
	husk_argv_add(&b, "-append");
	husk_argv_add(&b, "%s", p->kernel_params);
	husk_argv_add(&b, "-serial");
	husk_argv_add(&b, "file:%s", HUSK_VM_CONSOLE_LOG);
	husk_argv_add(&b, "-chardev");
	husk_argv_add(&b, "socket,id=agent,fd=%d", agent_fd);
	husk_argv_add(&b, "-device");
	husk_argv_add(&b, "virtio-serial-device");
	husk_argv_add(&b, "-device");
	husk_argv_add(&b, "virtserialport,chardev=agent,name=%s", HUSK_VM_PORT_NAME);
	/* Entropy from the host: without it the guest's first read of
	 * /dev/urandom (jansson's hash seed in the agent, any program in the
	 * container) waits about a second for the kernel's jitter entropy. */
	husk_argv_add(&b, "-device");
	husk_argv_add(&b, "virtio-rng-device");
	husk_argv_add(&b, "-chardev");
	husk_argv_add(&b, "socket,id=vfs,path=%s", HUSK_VM_VFS_SOCK);
	husk_argv_add(&b, "-device");
	husk_argv_add(&b, "vhost-user-fs-device,chardev=vfs,tag=%s", HUSK_VM_FS_TAG);
	/* the taps the monitor made: QEMU only reads and writes them */
	for (size_t i = 0; net && i < net->n; i++) {
		husk_argv_add(&b, "-netdev");
		husk_argv_add(&b, "tap,id=net%zu,fd=%d", i, net->nic[i].tap_fd);
		husk_argv_add(&b, "-device");
		husk_argv_add(&b, "virtio-net-device,netdev=net%zu,mac=%s", i, net->nic[i].mac);
	}
	husk_argv_add(&b, "-sandbox");
	husk_argv_add(&b,
		      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	for (size_t i = 0; p->hv_params && p->hv_params[i]; i++)
		husk_argv_add(&b, "%s", p->hv_params[i]);
	return husk_argv_finish(&b, "hypervisor command line", err);
}

const struct husk_vmm husk_vmm_qemu = {
    .name = "qemu",
    .build_argv = qemu_argv,
};
