"""CVE-2024-21626: an internal fd leaked into the container.

If the runtime keeps a host directory open (a cgroup dir, the state dir)
across exec into the container, process.cwd = /proc/self/fd/N makes the
container's cwd a host directory, and ".." from there never meets the
container's root: the container reads host files.

Against runc 1.1.5+ds1-1+deb12u1 (Debian's build carries the CVE-2024-21626
backport): defended.  The companion test shows the same attack helper
escaping when a host directory fd *is* leaked (a raw chroot+fchdir setup).
"""

import json
import os
import subprocess
import uuid

import pytest

from conftest import skip_if_not_built


@pytest.fixture
def host_secret(tmp_path):
    """A host file standing in for /etc/shadow: never inside any rootfs."""
    secret = tmp_path / "host-secret"
    token = "HOST-SECRET-" + uuid.uuid4().hex
    secret.write_text(token + "\n")
    return secret, token


@pytest.mark.parametrize("fd", range(3, 21))
def test_cwd_proc_self_fd_does_not_reach_host(rt, bundle, host_secret, fd):
    secret, token = host_secret
    rel = str(secret).lstrip("/")
    bundle.config["process"]["cwd"] = f"/proc/self/fd/{fd}"
    bundle.config["process"]["args"] = ["/attack", "cwd-escape", rel]
    r = rt.run(bundle)
    # Refusing to start (the fd is not a directory inside the rootfs) is a
    # fine outcome; starting with a host cwd is not.
    assert token not in r.stdout, (
        f"container read a host file through cwd=/proc/self/fd/{fd}: {r.stdout}")
    if r.returncode == 0:
        cwd = r.stdout.split("\n")[0]
        assert cwd.startswith("CWD /"), r.stdout
        assert "BLOCKED" in r.stdout, r.stdout


def test_no_host_fds_visible_inside(rt, bundle):
    bundle.config["process"]["args"] = ["/attack", "fds"]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    fds = {}
    for line in r.stdout.splitlines():
        if line.startswith("FD "):
            _, num, *target = line.split(" ", 2)
            fds[int(num)] = target[0] if target else ""
    assert set(fds) <= {0, 1, 2}, f"extra fds in the container: {fds}"


@pytest.fixture
def running(rt, bundle, tmp_path):
    bundle.config["process"]["args"] = ["/bin/sleep", "30"]
    with open(tmp_path / "out", "w") as f:
        assert rt.create(bundle, stdout=f).returncode == 0
    assert rt("start", bundle.cid).returncode == 0
    skip_if_not_built(rt("exec", bundle.cid, "/bin/true"), "exec")
    return bundle


def test_exec_cwd_proc_self_fd_does_not_reach_host(rt, running, host_secret,
                                                   tmp_path):
    """The `exec` variant of the CVE: the runtime's fds while joining a
    running container."""
    secret, token = host_secret
    for fd in range(3, 21):
        proc = dict(running.config["process"], cwd=f"/proc/self/fd/{fd}",
                    args=["/attack", "cwd-escape", str(secret).lstrip("/")])
        p = tmp_path / f"process{fd}.json"
        p.write_text(json.dumps(proc))
        r = rt("exec", "--process", p, running.cid)
        assert token not in r.stdout, (
            f"exec read a host file through cwd=/proc/self/fd/{fd}: {r.stdout}")


def test_exec_sees_no_host_fds(rt, running):
    r = rt("exec", running.cid, "/attack", "fds")
    assert r.returncode == 0, r.stderr
    fds = [int(l.split()[1]) for l in r.stdout.splitlines()
           if l.startswith("FD ")]
    assert set(fds) <= {0, 1, 2}, r.stdout


def test_cwd_escape_attack_works_without_defence(rootfs_template, tmp_path,
                                                 host_secret):
    """The raw unsafe operation: chroot into a rootfs but keep (and chdir
    to) a host directory fd, as a leaking runtime would.  The attack
    helper then reads the host file, so the test above can fail."""
    secret, token = host_secret
    rootfs = tmp_path / "raw-rootfs"
    subprocess.run(["cp", "-a", str(rootfs_template), str(rootfs)], check=True)
    leaked = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)

    def unsafe_runtime():
        os.chroot(str(rootfs))
        os.fchdir(leaked)  # cwd still on the host: the leak

    try:
        r = subprocess.run(["/attack", "cwd-escape", str(secret).lstrip("/")],
                           preexec_fn=unsafe_runtime, capture_output=True,
                           text=True, timeout=10)
    finally:
        os.close(leaked)
    assert f"ESCAPED {token}" in r.stdout, r.stdout + r.stderr
