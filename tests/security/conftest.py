"""Shared fixtures for the security suite.

The runtime under test is $HUSK (an absolute path); any OCI runtime with the
runc command line works, which is how the attacks are shown to succeed
against Debian's runc 1.1.5:

    HUSK=$(command -v runc) /usr/bin/python3 -m pytest -q tests/security

Every container gets its own state root, bundle and cgroup path, and is
killed, deleted and reaped after the test.  The in-container attack helper
(attack.c) is compiled once per session with `cc -static -O2`.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "pylib"))
import husktest  # noqa: E402
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
APPLETS = ["sh", "true", "false", "cat", "echo", "ls", "id", "sleep", "stat",
           "readlink", "mkdir", "test", "grep", "mknod", "hostname", "sysctl",
           "head", "touch", "rm", "ln", "mount", "umount", "ps", "kill", "dd",
           "timeout", "hexdump"]
CGROUP_PARENT = "husk-sec"

# PID 1 of the test machine does not reap orphans: adopt them ourselves.
husktest.become_subreaper()


def runtime_binary():
    path = os.environ.get("HUSK") or str(REPO / "build" / "husk")
    return os.path.abspath(path)


def reap_children():
    """Reap zombies we adopted as subreaper (never touches live children)."""
    husktest.reap_zombies()


def default_config(args, cgroups_path):
    """A plain OCI config of the usual defaults (what `runc spec` writes)."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                k: list(husktest.DEFAULT_CAPS)
                for k in ("bounding", "effective", "permitted")
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "sec",
        "mounts": husktest.default_mounts(),
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": list(husktest.MASKED_PATHS),
            "readonlyPaths": list(husktest.READONLY_PATHS),
        },
    }


class Bundle:
    """A bundle directory with a busybox rootfs and the attack helper."""

    def __init__(self, path, template):
        self.path = pathlib.Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.rootfs = self.path / "rootfs"
        shutil.copytree(template, self.rootfs, symlinks=True)
        self.cid = "sec-" + uuid.uuid4().hex[:12]
        self.cgroups_path = f"/{CGROUP_PARENT}/{self.cid}"
        self.config = default_config(["/bin/true"], self.cgroups_path)

    def without_dev_tmpfs(self):
        """Let the image provide /dev itself (no tmpfs over it)."""
        self.config["mounts"] = [m for m in self.config["mounts"]
                                 if m["destination"] != "/dev"]
        return self

    def write(self):
        with open(self.path / "config.json", "w") as f:
            json.dump(self.config, f, indent=1)
        return self


class Runtime:
    """The runtime under test, with a private state root."""

    def __init__(self, binary, root):
        self.binary = binary
        self.root = str(root)
        self.created = []
        os.makedirs(self.root, exist_ok=True)

    @property
    def is_runc(self):
        return "runc" in os.path.basename(os.path.realpath(self.binary))

    def cmd(self, *args):
        return [self.binary, "--root", self.root, *map(str, args)]

    def __call__(self, *args, timeout=20, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.cmd(*args), timeout=timeout, **kw)

    def run(self, bundle, timeout=20, **kw):
        bundle.write()
        self.created.append(bundle.cid)
        return self("run", "--bundle", bundle.path, bundle.cid,
                    timeout=timeout, **kw)

    def create(self, bundle, stdout, stderr=subprocess.STDOUT, extra=()):
        """Create with the container's stdio on the given file objects."""
        bundle.write()
        self.created.append(bundle.cid)
        return subprocess.run(
            self.cmd("create", "--bundle", bundle.path, *extra, bundle.cid),
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            timeout=20)

    def state(self, cid):
        r = self("state", cid)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def wait_stopped(self, cid, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.state(cid)
            if st is None or st.get("status") == "stopped":
                return True
            time.sleep(0.05)
        return False

    def cleanup(self):
        for cid in self.created:
            try:
                self("kill", cid, "KILL", timeout=10)
                self("delete", "--force", cid, timeout=10)
            except OSError:  # the binary itself was destroyed by an attack
                subprocess.run([runtime_binary(), "--root", self.root,
                                "delete", "--force", cid],
                               capture_output=True, timeout=10)
        self.created.clear()
        reap_children()


NOT_BUILT = re.compile(r"not built yet|not (yet )?implemented", re.I)


def skip_if_not_built(result, what):
    """Skip (not fail) when the runtime says a command does not exist yet,
    e.g. `husk exec` while husk is being written.  Any other error is a
    real failure and is left to the caller's assertions."""
    msg = (result.stderr or "") + (result.stdout or "")
    if result.returncode != 0 and NOT_BUILT.search(msg):
        pytest.skip(f"{what} not available in the runtime yet: {msg.strip()[:160]}")


def procs_rooted_at(rootfs):
    """Pids whose root directory is rootfs (compared by inode: readlink of
    /proc/PID/root shows "/" for a process that pivoted into it)."""
    want = os.stat(rootfs)
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/root")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            pids.append(int(entry))
    return pids


def leftovers(runtime, bundle):
    """What a container left behind on the host: a list of strings."""
    found = []
    if os.path.exists(os.path.join(runtime.root, bundle.cid)):
        found.append(f"state dir {runtime.root}/{bundle.cid}")
    for base in pathlib.Path("/sys/fs/cgroup").iterdir():
        for cand in (base / CGROUP_PARENT / bundle.cid,):
            if cand.exists():
                found.append(f"cgroup {cand}")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if str(bundle.path) in line:
                found.append(f"mount {line.split()[4]}")
    for pid in procs_rooted_at(bundle.rootfs):
        found.append(f"process {pid} rooted in the bundle")
    return found


@pytest.fixture(scope="session")
def attack_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("attack") / "attack"
    subprocess.run(["cc", "-static", "-O2", "-o", str(out),
                    str(HERE / "attack.c")], check=True)
    return out


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory, attack_bin):
    root = tmp_path_factory.mktemp("template") / "rootfs"
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "root"):
        (root / d).mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for a in APPLETS:
        os.symlink("busybox", root / "bin" / a)
    shutil.copy2(attack_bin, root / "attack")
    probe = os.environ.get("PROBE")
    if probe and os.path.exists(probe):
        shutil.copy2(probe, root / "probe")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    os.chmod(root / "tmp", 0o1777)
    return root


@pytest.fixture(scope="session")
def runtime_ok(tmp_path_factory, rootfs_template):
    """Preliminary check: skip everything if `run` of /bin/true fails."""
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"runtime under test {binary} is not built")
    tmp = tmp_path_factory.mktemp("sanity")
    rt = Runtime(binary, tmp / "state")
    b = Bundle(tmp / "bundle", rootfs_template)
    try:
        r = rt.run(b)
    except subprocess.TimeoutExpired:
        r = None
    finally:
        rt.cleanup()
    if r is None or r.returncode != 0:
        why = "timed out" if r is None else (r.stderr or r.stdout).strip()[:300]
        pytest.skip(f"runtime under test cannot run containers yet: "
                    f"`run` of /bin/true failed: {why}")
    return binary


@pytest.fixture
def rt(runtime_ok, tmp_path):
    r = Runtime(runtime_ok, tmp_path / "state")
    yield r
    r.cleanup()


@pytest.fixture
def bundle(tmp_path, rootfs_template):
    return Bundle(tmp_path / "bundle", rootfs_template)


@pytest.fixture
def make_bundle(tmp_path, rootfs_template):
    n = [0]

    def make():
        n[0] += 1
        return Bundle(tmp_path / f"bundle{n[0]}", rootfs_template)
    return make


def pytest_sessionfinish(session, exitstatus):
    reap_children()
    for base in pathlib.Path("/sys/fs/cgroup").glob(f"*/{CGROUP_PARENT}"):
        try:
            base.rmdir()
        except OSError:
            pass
