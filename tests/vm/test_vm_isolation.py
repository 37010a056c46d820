"""What makes the vm backend worth having, and its failure paths: the
container meets the guest's kernel, not the host's; host directories come in
only as the config binds them; signals reach the guest process; a crashed
hypervisor leaves nothing behind."""

import os
import platform
import signal

from conftest import alive, wait_until
from test_vm_backend import assert_nothing_left


def host_boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def test_guest_kernel_not_host_kernel(vm_ready, husk, bundle):
    """Kernel-wide objects the container reads are the guest's: another
    kernel release, another boot, the guest's memory size, the guest's
    command line."""
    cid = husk.new_id()
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "uname -r; cat /proc/sys/kernel/random/boot_id; "
        "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; cat /proc/cmdline"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p.stderr
    release, boot_id, memtotal, cmdline = p.stdout.splitlines()[:4]
    assert release != platform.release()
    assert boot_id != host_boot_id()
    # 256 MiB of guest RAM (the default), less what the kernel keeps
    assert 150 * 1024 < int(memtotal) <= 256 * 1024, memtotal
    with open("/proc/cmdline") as f:
        assert cmdline != f.read().strip()


def test_bind_mount_from_host(vm_ready, husk, bundle, workdir):
    """A host directory bound into the container: readable and writable in
    the guest, the writes on the host; a read-only bind refuses writes."""
    cid = husk.new_id()
    src = os.path.join(workdir, "data")
    os.makedirs(src)
    with open(os.path.join(src, "from-host"), "w") as f:
        f.write("host says hi\n")
    ro = os.path.join(workdir, "ro")
    os.makedirs(ro)
    bundle.config["mounts"] += [
        {"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "rw"]},
        {"destination": "/ro", "type": "bind", "source": ro, "options": ["rbind", "ro"]},
    ]
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "cat /data/from-host; echo guest wrote > /data/from-guest; "
        "touch /ro/x 2>/dev/null && echo ro-writable || echo ro-refused"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["host says hi", "ro-refused"]
    with open(os.path.join(src, "from-guest")) as f:
        assert f.read() == "guest wrote\n"
    assert not os.path.exists(os.path.join(ro, "x"))


def wait_for(path, timeout=60):
    return wait_until(lambda: os.path.exists(path), timeout)


def test_signals_reach_the_guest_process(vm_ready, husk, bundle):
    """`kill` through husk, and a signal sent straight to the state's pid
    (as an engine may), both reach the process in the guest."""
    cid = husk.new_id()
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "trap 'echo got-USR1 > /tmp/usr1' USR1; trap 'echo got-HUP > /tmp/hup' HUP; "
        "trap 'exit 7' TERM; touch /tmp/ready; while :; do sleep 0.2; done"]
    husk.run_detached(bundle, cid)
    tmp = os.path.join(bundle.rootfs, "tmp")
    assert wait_for(os.path.join(tmp, "ready")), "the init never set its traps"
    assert husk("kill", cid, "USR1").returncode == 0
    assert wait_for(os.path.join(tmp, "usr1"), 30)
    os.kill(husk.state(cid)["pid"], signal.SIGHUP)
    assert wait_for(os.path.join(tmp, "hup"), 30)
    assert husk("kill", cid, "TERM").returncode == 0
    assert husk.wait_stopped(cid)
    assert husk("delete", cid).returncode == 0


def sleeping_vm(husk, bundle):
    """A running vm container whose init sleeps; its id and host processes."""
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/sleep", "600"]
    husk.run_detached(bundle, cid)
    pids = husk.vm_pids(cid)
    assert all(alive(p) for p in pids)
    return cid, pids


def assert_gone_then_deleted(husk, cid, pids):
    assert wait_until(lambda: not any(alive(p) for p in pids), 5), \
        [p for p in pids if alive(p)]
    assert husk("delete", cid).returncode == 0
    assert_nothing_left(husk, cid, pids)


def test_hypervisor_crash_leaves_nothing(vm_ready, husk, bundle):
    """QEMU killed under a running container: the monitor notices, the
    container is stopped, virtiofsd goes too, and delete leaves nothing."""
    cid, pids = sleeping_vm(husk, bundle)
    os.kill(pids[1], signal.SIGKILL)  # the hypervisor
    assert husk.wait_stopped(cid, 10)
    assert_gone_then_deleted(husk, cid, pids)


def test_monitor_killed_leaves_nothing(vm_ready, husk, bundle):
    """SIGKILL of the state's pid (an engine's last resort): the hypervisor
    and virtiofsd die with it."""
    cid, pids = sleeping_vm(husk, bundle)
    os.kill(pids[0], signal.SIGKILL)
    assert_gone_then_deleted(husk, cid, pids)


def test_without_pid_namespace(vm_ready, husk, bundle):
    """No pid namespace in the config: on the linux backend husk would first
    re-exec itself from a sealed copy (CVE-2019-5736); no host process meets
    a vm container's, so the vm backend runs as it is and still finds its
    kernel beside the binary."""
    cid = husk.new_id()
    bundle.config["linux"]["namespaces"] = [{"type": "mount"}, {"type": "uts"}]
    bundle.config["process"]["args"] = ["/bin/sh", "-c", "echo pid $$"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p.stderr
    # the guest's agent is PID 1 there: the container's shell is not
    assert p.stdout.startswith("pid ") and p.stdout.strip() != "pid 1", p.stdout


def test_guest_gets_entropy_from_the_host(vm_ready, husk, bundle):
    """The VM has a virtio-rng device feeding the guest kernel: without one
    its first /dev/urandom read waits for jitter entropy (about a second
    under TCG, for the agent and for the container's programs alike)."""
    cid = husk.new_id()
    bundle.config["mounts"].append({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                                    "options": ["ro", "nosuid", "noexec", "nodev"]})
    bundle.config["process"]["args"] = ["/bin/cat", "/sys/class/misc/hw_random/rng_current"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().startswith("virtio_rng"), p.stdout
