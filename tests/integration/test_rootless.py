"""Rootless: the runtime run by an unprivileged user, with a user namespace.

The config follows what `runc spec --rootless` writes: the user's own uid
mapped to root, no network namespace, /sys bound from the host, no cgroup
limits (this host delegates no cgroup to ordinary users)."""

import os

import pytest

from conftest import Runtime, is_husk

UID = GID = 1000


@pytest.fixture
def rootless(runtime, tmp_path):
    """A Runtime that runs the binary as UID, with a state dir it owns."""
    for p in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        os.chmod(p, 0o755)  # pytest makes its temporary directories private
    root = tmp_path / "rootless-state"
    root.mkdir(mode=0o700)
    os.chown(root, UID, GID)
    rl = Runtime(str(root), runtime.iodir, user=(UID, GID))
    # the `runtime` fixture's teardown checks and cleans these too
    rl.ids = runtime.ids
    rl.bundles = runtime.bundles
    rl.pids = runtime.pids
    yield rl
    rl.cleanup()


def make_rootless(bundle, uid=UID, gid=GID):
    """The bundle as an unprivileged user (uid, gid) can run it: container
    root mapped to that user alone, no limits, /sys bound instead of a new
    sysfs, devpts without a gid= the user has no mapping for."""
    bundle.linux["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "user")]
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1}]
    bundle.linux.pop("resources", None)
    for m in bundle.config["mounts"]:
        if m["type"] == "devpts":
            m["options"] = [o for o in m["options"] if not o.startswith("gid=")]
        if m["destination"] == "/sys":
            m.update(type="none", source="/sys",
                     options=["rbind", "nosuid", "noexec", "nodev", "ro"])
    return bundle


def test_rootless_run(rootless, bundle):
    out = rootless.probe(make_rootless(bundle), "ids", "+", "ns", "+", "pid")
    ids, ns, pid = out
    assert (ids["uid"], ids["gid"]) == (0, 0)
    assert ns["user"] != os.stat("/proc/self/ns/user").st_ino
    assert pid["pid"] == 1


def test_rootless_lifecycle_and_host_view(rootless, bundle):
    cid, pid = rootless.start_detached(make_rootless(bundle), "/bin/probe", "sleep", "60")
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    assert status["Uid"].split()[0] == str(UID)
    assert rootless.state(cid)["status"] == "running"
    # the state lives where the user can write, owned by the user
    entries = os.listdir(rootless.root)
    assert any(cid in e for e in entries)
    rootless.kill(cid, "KILL").check()
    rootless.wait_status(cid, "stopped")
    rootless.delete(cid).check()
    rootless.assert_nothing_left([cid])


def test_rootless_cannot_write_host_owned_files(rootless, bundle):
    make_rootless(bundle)
    out = rootless.probe(bundle, "open", "/etc/passwd", "rw", "+", "open", "/etc/passwd")
    assert out[0]["errno"] in (13, 30)  # EACCES (or EROFS)
    assert out[1]["errno"] == 0


def test_rootless_mapping_of_another_uid_fails(rootless, bundle):
    make_rootless(bundle)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    r = rootless.run(bundle)
    assert r.rc != 0
    rootless.assert_nothing_left()


def test_rootless_idmapped_rootfs_refused_saying_why(rootless, bundle):
    """husk spec's idmapped rootfs needs CAP_SYS_ADMIN over the filesystem,
    which an unprivileged user has over none the host mounted: a clear
    refusal naming the annotation and the way out, never a silent fallback."""
    make_rootless(bundle)
    bundle.config["annotations"] = {"husk.rootfs.idmap": "true"}
    r = rootless.run(bundle)
    assert r.rc != 0
    assert "annotation husk.rootfs.idmap" in r.err, r.err
    assert "an unprivileged user cannot idmap a filesystem the host mounted" in r.err, r.err
    rootless.assert_nothing_left()


def test_rootless_without_user_namespace_fails(rootless, bundle):
    make_rootless(bundle)
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "user"]
    del bundle.linux["uidMappings"]
    del bundle.linux["gidMappings"]
    r = rootless.run(bundle)
    assert r.rc != 0
    rootless.assert_nothing_left()


def test_rootless_resource_limit_without_delegation_fails(rootless, bundle):
    make_rootless(bundle)
    bundle.linux["resources"] = {"memory": {"limit": 64 << 20}}
    r = rootless.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "memory" in r.err
    rootless.assert_nothing_left()
