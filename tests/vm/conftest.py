"""Fixtures for the vm backend's tests.

HUSK=<path> is the husk binary; the guest kernel and agent are looked for
where husk looks for them by default (<dir of husk>/vm/vmlinux and
husk-agent.cpio). Tests that boot a VM skip, saying why, when either is
missing; the bad-input tests run anyway (they must fail before any boot).
Every test gets its own --root and a busybox bundle; afterwards whatever a
test left is force-deleted and the host checked: no state directory,
cgroup, mount or hypervisor process may remain.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
import husktest  # noqa: E402

HUSK = os.environ.get("HUSK", os.path.join(REPO, "build", "husk"))
VM_DIR = os.path.join(os.path.dirname(HUSK), "vm")
KERNEL = os.path.join(VM_DIR, "vmlinux")
AGENT = os.path.join(VM_DIR, "husk-agent.cpio")
CGROUP_ROOT = "/sys/fs/cgroup"


def pytest_configure(config):
    husktest.become_subreaper()


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="the vm tests run as root")
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def vm_ready():
    # HUSK_VM_REQUIRED=1 (make check): a missing piece fails instead of skipping
    missing = pytest.fail if os.environ.get("HUSK_VM_REQUIRED") == "1" else pytest.skip
    for path, how in ((KERNEL, "make vm-kernel"), (AGENT, "ninja -C build (the agent)")):
        if not os.path.exists(path):
            missing(f"no guest {os.path.basename(path)} at {path} ({how})")
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("qemu-system-x86_64 is not installed")


def find_cgroups(cid):
    found = []
    for h in os.listdir(CGROUP_ROOT):
        base = os.path.join(CGROUP_ROOT, h)
        if os.path.islink(base) or not os.path.isdir(base):
            continue
        for dirpath, dirnames, _ in os.walk(base):
            found += [os.path.join(dirpath, d) for d in dirnames if cid in d]
            if dirpath[len(base):].count("/") >= 3:
                dirnames[:] = []
    return found


def mounts_mentioning(text):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if text in line]


def alive(pid):
    state = husktest.proc_state(pid)
    return state is not None and state != "Z"


def wait_until(condition, timeout=30):
    """Poll `condition` every 0.1 s for up to `timeout` seconds (a VM under
    TCG on a busy machine is slow); its last value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


class Bundle:
    def __init__(self, path):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "run"):
            os.makedirs(os.path.join(self.rootfs, d))
        shutil.copy2("/bin/busybox", os.path.join(self.rootfs, "bin", "busybox"))
        for applet in ("sh", "echo", "cat", "sleep", "true", "ls"):
            os.symlink("busybox", os.path.join(self.rootfs, "bin", applet))
        self.config = {
            "ociVersion": "1.0.2",
            "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
                        "args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/"},
            "root": {"path": "rootfs"},
            "hostname": "vmtest",
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts")]},
        }

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f)


class Husk:
    """husk run under the name husk-vm, with its own state root."""

    def __init__(self, root, iodir):
        self.root, self.iodir = root, iodir
        self.binary = os.path.join(os.path.dirname(HUSK), "husk-vm")
        self.ids = []

    def new_id(self):
        cid = f"vm-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def __call__(self, *args, bundle=None, input=None, timeout=90):
        if bundle:
            bundle.write()
        p = subprocess.run([self.binary, "--root", self.root, *args], input=input,
                           stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        return p

    def detached(self, *args, bundle=None, timeout=90):
        """For commands that leave a process holding stdio (create): files."""
        if bundle:
            bundle.write()
        out = os.path.join(self.iodir, f"out-{uuid.uuid4().hex[:6]}")
        err = out + ".err"
        with open(out, "w") as o, open(err, "w") as e:
            rc = subprocess.run([self.binary, "--root", self.root, *args],
                                stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                timeout=timeout).returncode
        return rc, out, err

    def state(self, cid):
        p = self("state", cid)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def vm_facts(self, cid):
        with open(os.path.join(self.root, cid, "vm.json")) as f:
            return json.load(f)

    def vm_pids(self, cid):
        """The container's host processes: monitor, hypervisor, virtiofsd."""
        facts = self.vm_facts(cid)
        return [facts["monitor_pid"], facts["vmm_pid"], facts["virtiofsd_pid"]]

    def run_detached(self, bundle, cid):
        """`run -d` that must succeed; the path its stdout goes to."""
        rc, out, err = self.detached("run", "-d", "--bundle", bundle.path, cid, bundle=bundle)
        assert rc == 0, open(err).read()
        return out

    def wait_stopped(self, cid, timeout=30):
        return wait_until(lambda: self.state(cid)["status"] == "stopped", timeout)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="husk-vmtest-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK)
                         else None)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bundle(workdir):
    return Bundle(os.path.join(workdir, "bundle"))


@pytest.fixture
def husk(workdir):
    h = Husk(os.path.join(workdir, "state"), workdir)
    yield h
    left = [cid for cid in h.ids if os.path.exists(os.path.join(h.root, cid))]
    for cid in h.ids:
        h("delete", "--force", cid)
    husktest.reap_zombies()
    for cid in h.ids:
        assert not find_cgroups(cid), f"cgroups of {cid} left: {find_cgroups(cid)}"
    assert not left, f"test left containers: {left}"
