"""CVE-2021-30465: a mount destination that is (or becomes) a symlink.

A mount destination inside the rootfs that is a symlink to a host path, or
a directory in a shared volume that a peer container swaps for such a
symlink between the runtime's check and its mount(2), makes the mount land
outside the rootfs.  Detection: every attacker mount binds a source dir
holding MOUNTED-MARKER; the host victim dir V is bound (recursively) into
the container last, at /witness.  If any marker mount landed on V, the
container sees the marker under /witness.  V's own listing on the host
must not change either (no mount point created through the link).

Against runc 1.1.5: defended (runc resolves destinations with
securejoin and checks the mount point after mounting).  The companion test
shows a naive mount-by-path landing on V, seen through the same witness.
"""

import os
import subprocess
import time

import pytest

MARK = "MOUNTED-MARKER"


@pytest.fixture
def dirs(tmp_path):
    src = tmp_path / "mount-src"
    src.mkdir()
    (src / MARK).write_text("x\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "host-file").write_text("host\n")
    for i in range(8):
        (victim / f"m{i}").mkdir()
    return src, victim


def listing(d):
    return sorted(os.path.relpath(os.path.join(r, n), d)
                  for r, ds, fs in os.walk(d) for n in ds + fs)


def witness_mount(victim):
    return {"destination": "/witness", "type": "bind", "source": str(victim),
            "options": ["rbind", "ro"]}


def bind(src, dest):
    return {"destination": dest, "type": "bind", "source": str(src),
            "options": ["bind"]}


def check_witness(r, victim, before):
    assert MARK not in r.stdout, f"a mount landed outside the rootfs: {r.stdout}"
    assert listing(victim) == before, "host victim dir changed"


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_symlink_mount_destination_stays_in_rootfs(rt, bundle, dirs, link):
    src, victim = dirs
    before = listing(victim)
    target = str(victim) if link == "absolute" else \
        "../" * 40 + os.path.relpath(victim, "/")
    os.symlink(target, bundle.rootfs / "evil")
    (bundle.rootfs / "witness").mkdir()
    bundle.config["mounts"] += [bind(src, "/evil"), bind(src, "/evil/m1/sub"),
                                witness_mount(victim)]
    bundle.config["process"]["args"] = ["/bin/sh", "-c",
                                        "ls -R /witness; echo END"]
    r = rt.run(bundle)
    check_witness(r, victim, before)
    if r.returncode == 0:
        assert "END" in r.stdout and "host-file" in r.stdout, r.stdout


@pytest.mark.parametrize("link", ["absolute", "relative"])
@pytest.mark.parametrize("kind", ["dir", "file"])
def test_dangling_symlink_destination_is_created_in_rootfs(rt, bundle, dirs, tmp_path, link,
                                                           kind):
    """The link names a path under the host victim dir that does not exist
    in the rootfs: the runtime creates the mount point at the link's target,
    and must do so inside the rootfs, never in the host victim dir.  Checked
    able to fail: with the link's target resolved without RESOLVE_IN_ROOT,
    "made-by-runtime" appears in the victim dir and every case fails."""
    src, victim = dirs
    before = listing(victim)
    made = victim / "made-by-runtime"
    target = str(made) if link == "absolute" else \
        "../" * 40 + os.path.relpath(made, "/")
    os.symlink(target, bundle.rootfs / "evil")
    (bundle.rootfs / "witness").mkdir()
    source = src if kind == "dir" else src / MARK
    bundle.config["mounts"] += [bind(source, "/evil"), witness_mount(victim)]
    bundle.config["process"]["args"] = ["/bin/sh", "-c", "ls -R /witness; echo END"]
    r = rt.run(bundle)
    check_witness(r, victim, before)
    assert not made.exists(), "the mount point was created on the host"
    if r.returncode == 0:
        inside = bundle.rootfs / os.path.relpath(made, "/")
        assert inside.is_dir() if kind == "dir" else inside.is_file(), inside


def test_mount_race_with_shared_volume(rt, make_bundle, dirs, tmp_path):
    """A peer container swaps /vol/d (a dir) and /vol/l (a symlink to the
    host victim dir) in a shared volume while containers that mount onto
    /vol/d/m* start; no mount may land on the victim."""
    src, victim = dirs
    before = listing(victim)
    vol = tmp_path / "shared-volume"
    vol.mkdir()
    (vol / "d").mkdir()
    for i in range(8):
        (vol / "d" / f"m{i}").mkdir()
    os.symlink(str(victim), vol / "l")

    attacker = make_bundle()
    (attacker.rootfs / "vol").mkdir()
    attacker.config["mounts"].append(bind(vol, "/vol"))
    attacker.config["process"]["args"] = ["/attack", "swap", "/vol/d",
                                          "/vol/l", "6"]
    out = tmp_path / "attacker.out"
    with open(out, "w") as f:
        assert rt.create(attacker, stdout=f).returncode == 0, out.read_text()
    assert rt("start", attacker.cid).returncode == 0
    try:
        deadline = time.monotonic() + 5
        runs = 0
        outcomes = []
        while time.monotonic() < deadline:
            victim_b = make_bundle()
            (victim_b.rootfs / "vol").mkdir()
            (victim_b.rootfs / "witness").mkdir()
            victim_b.config["mounts"].append(bind(vol, "/vol"))
            victim_b.config["mounts"] += [bind(src, f"/vol/d/m{i}")
                                          for i in range(8)]
            victim_b.config["mounts"].append(witness_mount(victim))
            victim_b.config["process"]["args"] = ["/bin/ls", "-R", "/witness"]
            r = rt.run(victim_b, timeout=10)
            runs += 1
            outcomes.append(r.returncode)
            check_witness(r, victim, before)
    finally:
        rt("kill", attacker.cid, "KILL")
        rt.wait_stopped(attacker.cid, timeout=5)
    print("race runs", runs, "exit codes", sorted(set(outcomes)),
          outcomes.count(0), "succeeded;", out.read_text())
    assert runs >= 3
    assert "SWAP-FAILED" not in out.read_text(), out.read_text()


def test_mount_by_path_attack_works_without_defence(rootfs_template, dirs,
                                                    tmp_path):
    """The raw unsafe operation: mount(2) onto rootfs + destination by path
    (in a private mount namespace).  The link is followed and the marker
    lands on the host victim dir, which is what the witness detects."""
    src, victim = dirs
    rootfs = tmp_path / "raw-rootfs"
    rootfs.mkdir()
    os.symlink(str(victim), rootfs / "evil")
    script = (f"mount --make-rprivate / && mount --bind {src} {rootfs}/evil "
              f"&& ls {victim}")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script],
                       capture_output=True, text=True, timeout=10)
    assert MARK in r.stdout, r.stdout + r.stderr
