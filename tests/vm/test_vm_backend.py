"""The vm backend end to end: a bundle run in its own VM (QEMU microvm, the
guest kernel and husk-agent), and bad input refused before anything boots."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import alive, find_cgroups, mounts_mentioning, wait_until


def assert_nothing_left(husk, cid, pids=()):
    assert not os.path.exists(os.path.join(husk.root, cid)), "state directory left"
    assert not find_cgroups(cid), f"cgroups left: {find_cgroups(cid)}"
    assert not mounts_mentioning(cid), f"mounts left: {mounts_mentioning(cid)}"
    for pid in pids:
        assert not alive(pid), f"process {pid} left"


# ---- bad input: refused before any VM starts, nothing left ---------------

def test_missing_kernel_is_named(husk, bundle):
    cid = husk.new_id()
    bundle.config["vm"] = {"kernel": {"path": "/nonexistent/vmlinux-husk-test"}}
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode != 0
    assert "vm.kernel.path /nonexistent/vmlinux-husk-test" in p.stderr, p.stderr
    assert_nothing_left(husk, cid)


def test_vm_image_refused(husk, bundle):
    cid = husk.new_id()
    bundle.config["vm"] = {"image": {"path": "/x.img", "format": "raw"}}
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode != 0
    assert "vm.image: not supported" in p.stderr, p.stderr
    assert_nothing_left(husk, cid)


@pytest.mark.parametrize("key,value", [("org.husk.vm.memory_mib", "lots"),
                                       ("org.husk.vm.memory_mib", "8"),
                                       ("org.husk.vm.cpus", "0")])
def test_bad_annotation_refused(husk, bundle, key, value):
    cid = husk.new_id()
    bundle.config["annotations"] = {key: value}
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode != 0
    assert f"annotations.{key}: \"{value}\"" in p.stderr, p.stderr
    assert_nothing_left(husk, cid)


# ---- in a VM -------------------------------------------------------------

def test_run_echo_and_exit_code(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/sh", "-c", "echo hi from $(hostname); exit 7"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 7, p
    assert p.stdout == "hi from vmtest\n", p


def test_run_stdin_relayed(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/cat"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle, input="through the vm\n")
    assert p.returncode == 0, p
    assert p.stdout == "through the vm\n", p


def test_rootfs_write_visible_on_host(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/sh", "-c", "echo written > /tmp/from-guest"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p
    with open(os.path.join(bundle.rootfs, "tmp", "from-guest")) as f:
        assert f.read() == "written\n"


def test_lifecycle_and_nothing_left(vm_ready, husk, bundle):
    cid = husk.new_id()
    # the init of a pid namespace ignores signals it has no handler for
    bundle.config["process"]["args"] = ["/bin/sh", "-c",
                                        "trap 'exit 42' TERM; touch /tmp/ready; while :; do sleep 1; done"]
    rc, _, err = husk.detached("create", "--bundle", bundle.path, cid, bundle=bundle)
    assert rc == 0, open(err).read()
    st = husk.state(cid)
    assert st["status"] == "created"
    assert st["annotations"]["org.husk.backend"] == "vm"
    assert st["annotations"]["org.husk.vm.accel"] in ("kvm", "tcg")
    facts = husk.vm_facts(cid)
    pids = [st["pid"], facts["vmm_pid"], facts["virtiofsd_pid"]]
    assert all(alive(pid) for pid in pids)
    # the share's bind mounts live only in virtiofsd's namespace
    assert not mounts_mentioning(cid)
    assert husk("start", cid).returncode == 0
    assert husk.state(cid)["status"] == "running"
    ready = os.path.join(bundle.rootfs, "tmp", "ready")
    assert wait_until(lambda: os.path.exists(ready)), "the init never set its trap"
    assert husk("kill", cid, "TERM").returncode == 0
    assert husk.wait_stopped(cid, 10)
    assert husk("delete", cid).returncode == 0
    time.sleep(0.2)
    assert_nothing_left(husk, cid, pids)


def test_delete_force_running_vm(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/sleep", "1000"]
    husk.run_detached(bundle, cid)
    pids = husk.vm_pids(cid)
    assert husk("delete", "--force", cid).returncode == 0
    time.sleep(0.2)
    assert_nothing_left(husk, cid, pids)


def test_exec(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["process"]["args"] = ["/bin/sleep", "1000"]
    rc, _, err = husk.detached("run", "-d", "--bundle", bundle.path, cid, bundle=bundle)
    assert rc == 0, open(err).read()
    p = husk("exec", cid, "/bin/sh", "-c", "cat; echo err >&2; exit 5", input="in\n")
    assert p.returncode == 5, p
    assert p.stdout == "in\n"
    assert "err\n" in p.stderr
    p = husk("exec", cid, "/nonexistent")
    assert p.returncode != 0
    assert husk("delete", "--force", cid).returncode == 0


def test_rootless_refused(husk, bundle, workdir):
    """An unprivileged caller gets a clear refusal (the monitor needs root
    for taps, tc and virtiofsd's mount namespace), and nothing is left."""
    root = os.path.join(workdir, "rootless-state")
    os.makedirs(root)
    os.chown(root, 65534, 65534)
    for d in (workdir, bundle.path):
        os.chmod(d, 0o755)
    bundle.write()
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "env", f"XDG_RUNTIME_DIR={root}", husk.binary, "--root", root, "run",
                        "--bundle", bundle.path, "rl1"],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert p.returncode != 0
    assert "the vm backend needs root" in p.stderr, p.stderr
    assert os.listdir(root) in ([], ["@userns"]), os.listdir(root)
    shutil.rmtree(root)
