"""The VM is sized from the config, and the container's cgroup bounds all of
it: guest memory is the memory limit less what the VM's host processes need,
vCPUs follow the cpu quota, and QEMU, virtiofsd and the monitor are in the
container's cgroup under that limit."""

import os

from conftest import wait_until

MIB = 1 << 20
OVERHEAD_MIB = 128  # src/vm/host/plan.c VMM_OVERHEAD_MIB


def memory_cgroup_limit(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                with open(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes") as g:
                    return int(g.read())
            if controllers == "" and os.path.exists(f"/sys/fs/cgroup{path}/memory.max"):
                with open(f"/sys/fs/cgroup{path}/memory.max") as g:
                    return int(g.read())
    raise AssertionError(f"no memory cgroup for {pid}")


def test_memory_limit_sizes_guest_and_bounds_vm(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 512 * MIB},
                                           "cpu": {"quota": 200000, "period": 100000}}
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; "
        "grep -c ^processor /proc/cpuinfo; touch /tmp/ready; sleep 600"]
    out = husk.run_detached(bundle, cid)
    for pid in husk.vm_pids(cid):
        assert memory_cgroup_limit(pid) == 512 * MIB
    ready = os.path.join(bundle.rootfs, "tmp", "ready")
    assert wait_until(lambda: os.path.exists(ready), 60), "the guest never got that far"
    memtotal_kib, cpus = open(out).read().split()[:2]
    guest_mib = 512 - OVERHEAD_MIB
    assert (guest_mib - 64) * 1024 < int(memtotal_kib) <= guest_mib * 1024, memtotal_kib
    assert cpus == "2"
    assert husk("delete", "--force", cid).returncode == 0


def test_memory_limit_too_small_for_a_vm(husk, bundle):
    cid = husk.new_id()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 100 * MIB}}
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode != 0
    assert "linux.resources.memory.limit: 100 MiB is too little for a VM" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(husk.root, cid))
