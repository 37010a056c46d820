"""CVE-2025-52881 / CVE-2019-16884 / CVE-2019-19921: procfs writes redirected.

The runtime writes to procfs while setting up a container (linux.sysctl,
process.oomScoreAdj, /proc/self/attr/*, setgroups).  If /proc, or a path
under it, is something other than the container's real procfs -- a fake
proc tree bound over /proc or /proc/sys, or an image whose /proc is a
symlink to a host directory -- those writes land in ordinary files.  The
fake tree here is a host temp dir F with decoy files; F must be unchanged,
and the sysctl must either be applied to the real kernel or the container
must be refused.

Against runc 1.1.5: defended for these static layouts (runc refuses
non-procfs mounts on /proc and resolves /proc in the root).  The racing
variant of CVE-2025-52881 (a shared mount swapped during setup) is not
reproduced here.  The companion test shows the decoy being written by a
naive path-based sysctl write.
"""

import os
import subprocess

import pytest

SYSCTL = ("kernel.shmmni", "2345")
DECOY = "decoy\n"


@pytest.fixture
def fake_proc(tmp_path):
    f = tmp_path / "fake-proc"
    for d in ("sys/kernel", "self/attr", "1"):
        (f / d).mkdir(parents=True)
    for p in ("sys/kernel/shmmni", "self/oom_score_adj", "self/setgroups",
              "self/attr/exec", "self/attr/current", "1/oom_score_adj"):
        (f / p).write_text(DECOY)
    return f


def tree(d):
    out = {}
    for r, _, fs in os.walk(d):
        for n in fs:
            p = os.path.join(r, n)
            with open(p) as fh:
                out[os.path.relpath(p, d)] = fh.read()
    return out


def configure(bundle):
    bundle.config["linux"]["sysctl"] = {SYSCTL[0]: SYSCTL[1]}
    bundle.config["process"]["oomScoreAdj"] = 100
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "echo VALUE=$(cat /proc/sys/kernel/shmmni)"]


def check(r, fake_proc, before):
    assert tree(fake_proc) == before, (
        f"runtime wrote into the fake proc tree: {tree(fake_proc)}")
    if r.returncode == 0:
        assert f"VALUE={SYSCTL[1]}" in r.stdout, (
            f"sysctl not applied to the real procfs: {r.stdout}")


def test_fake_proc_bound_over_proc_sys(rt, bundle, fake_proc):
    before = tree(fake_proc)
    configure(bundle)
    bundle.config["mounts"].insert(1, {
        "destination": "/proc/sys", "type": "bind",
        "source": str(fake_proc / "sys"), "options": ["rbind"]})
    check(rt.run(bundle), fake_proc, before)


def test_fake_proc_bound_over_proc(rt, bundle, fake_proc):
    before = tree(fake_proc)
    configure(bundle)
    bundle.config["mounts"][0] = {"destination": "/proc", "type": "bind",
                                  "source": str(fake_proc),
                                  "options": ["rbind"]}
    check(rt.run(bundle), fake_proc, before)


def test_image_proc_is_symlink_to_host(rt, bundle, fake_proc):
    before = tree(fake_proc)
    configure(bundle)
    (bundle.rootfs / "proc").rmdir()
    os.symlink(str(fake_proc), bundle.rootfs / "proc")
    check(rt.run(bundle), fake_proc, before)


def test_image_proc_sys_symlink(rt, bundle, fake_proc):
    """/proc/sys planted in the image is hidden by the proc mount; the
    runtime must still write the real sysctl."""
    before = tree(fake_proc)
    configure(bundle)
    os.symlink(str(fake_proc / "sys"), bundle.rootfs / "proc" / "sys")
    check(rt.run(bundle), fake_proc, before)


def test_path_based_sysctl_attack_works_without_defence(fake_proc, tmp_path):
    """The raw unsafe operation: a runtime writing
    <rootfs>/proc/sys/kernel/shmmni by path when the image's /proc is a
    symlink: the write lands in the fake tree, which check() detects."""
    rootfs = tmp_path / "raw-rootfs"
    rootfs.mkdir()
    os.symlink(str(fake_proc), rootfs / "proc")
    before = tree(fake_proc)
    with open(rootfs / "proc" / "sys" / "kernel" / "shmmni", "w") as f:
        f.write(SYSCTL[1])
    r = subprocess.CompletedProcess([], 1, "", "")
    with pytest.raises(AssertionError):
        check(r, fake_proc, before)
