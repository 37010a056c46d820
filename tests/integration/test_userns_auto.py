"""husk.userns=auto and husk.rootfs.idmap=true (the `husk spec` default):
container root is a host range of its own, the unmodified image idmapped
to it, ranges disjoint between containers and released at delete."""

import json
import os
import subprocess

import pytest

from conftest import host_run, husk_only

pytestmark = husk_only

BLOCK = 65536


def auto(bundle, idmap=True):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.config["annotations"] = {"husk.userns": "auto"}
    if idmap:
        bundle.config["annotations"]["husk.rootfs.idmap"] = "true"


def host_map(pid, which="uid_map"):
    with open(f"/proc/{pid}/{which}") as f:
        return [tuple(int(x) for x in line.split()) for line in f]


def pool_start():
    for path in ("/etc/subuid",):
        try:
            with open(path) as f:
                for line in f:
                    name, start, count = line.strip().split(":")
                    if name == "containers" and int(count) >= BLOCK:
                        return int(start)
        except (OSError, ValueError):
            pass
    return 1 << 30


def ranges_dir(rt):
    return os.path.join(rt.root, "@userns")


def held(rt):
    d = ranges_dir(rt)
    return sorted(e for e in os.listdir(d) if e.isdigit()) if os.path.isdir(d) else []


def test_ids_inside_and_outside(rt, bundle):
    auto(bundle)
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    (inside, host, size), = host_map(pid)
    assert inside == 0 and size == BLOCK
    assert host >= pool_start() and host != 0
    assert host_map(pid, "gid_map")[0][1] >= pool_start()
    # the container's root is that host uid
    with open(f"/proc/{pid}/status") as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert all(int(u) == host for u in uids), uids
    # recorded in the state's annotations
    ann = rt.state(cid)["annotations"]
    assert ann["husk.userns.uidmap"] == f"0 {host} {BLOCK}"
    # inside: the same map, and the image (host uid 0) owned by root
    r = rt.cmd("exec", cid, "/bin/sh", "-c",
               "cat /proc/self/uid_map; stat -c '%u:%g' / /bin/busybox /home/user")
    assert r.rc == 0, r
    lines = r.out.split("\n")
    assert [int(x) for x in lines[0].split()] == [0, host, BLOCK]
    assert lines[1:4] == ["0:0", "0:0", "1000:1000"]
    # outside: the host's files untouched (no chown)
    st = os.stat(bundle.rootfs)
    assert (st.st_uid, st.st_gid) == (0, 0)
    assert os.stat(os.path.join(bundle.rootfs, "home", "user")).st_uid == 1000


def test_container_root_writes_its_image_as_root(rt, bundle):
    # through the idmapped rootfs the image stays owned by host root
    auto(bundle)
    bundle.set_args("/bin/sh", "-c", "echo hi > /root/made && stat -c '%u' /root/made")
    r = rt.run(bundle)
    assert r.rc == 0 and r.out.strip() == "0", r
    assert os.stat(os.path.join(bundle.rootfs, "root", "made")).st_uid == 0


def test_two_containers_have_disjoint_ranges(rt, make_bundle):
    maps = []
    for _ in range(2):
        b = make_bundle()
        auto(b)
        cid, pid = rt.start_detached(b, "/bin/probe", "sleep", "60")
        maps.append(host_map(pid)[0])
    (_, a, n), (_, b_, m) = maps
    assert a + n <= b_ or b_ + m <= a, maps
    assert len(held(rt)) == 2


def test_ranges_are_released(rt, make_bundle):
    b = make_bundle()
    auto(b)
    cid, pid = rt.start_detached(b, "/bin/probe", "sleep", "60")
    first = host_map(pid)[0][1]
    assert len(held(rt)) == 1
    rt.delete(cid, force=True).check()
    assert held(rt) == []
    b2 = make_bundle()
    auto(b2)
    cid2, pid2 = rt.start_detached(b2, "/bin/probe", "sleep", "60")
    assert host_map(pid2)[0][1] == first  # the freed range is taken again


def dead_pid():
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("holder_alive, reclaimed", [(False, True), (True, False)],
                         ids=["create-gone", "create-running"])
def test_a_range_left_by_a_killed_create_is_taken_again(rt, bundle, holder_alive, reclaimed):
    """A create killed after it took a range leaves the block file and no
    state directory: once that create is gone the range is free again, while
    a create still running (it has no state directory yet) keeps it."""
    os.makedirs(ranges_dir(rt), mode=0o700, exist_ok=True)
    holder_pid = os.getpid() if holder_alive else dead_pid()
    with open(os.path.join(ranges_dir(rt), "0"), "w") as f:
        f.write(f"ghost-{bundle.marker[:8]}\n{holder_pid}\n")
    auto(bundle)
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    block = (host_map(pid)[0][1] - pool_start()) // BLOCK
    assert block == (0 if reclaimed else 1)
    assert held(rt) == (["0"] if reclaimed else ["0", "1"])
    rt.delete(cid, force=True).check()
    assert held(rt) == ([] if reclaimed else ["0"])


def test_failed_create_releases_its_range(rt, bundle):
    auto(bundle)
    bundle.set_args("/no/such/binary")
    assert rt.create(bundle).rc != 0
    assert held(rt) == []


def test_duplicate_id_keeps_the_first_containers_range(rt, make_bundle):
    b = make_bundle()
    auto(b)
    cid, pid = rt.start_detached(b, "/bin/probe", "sleep", "60")
    before = held(rt)
    b2 = make_bundle()
    auto(b2)
    assert rt.create(b2, cid).rc != 0
    assert held(rt) == before


def test_mappings_and_auto_are_exclusive(rt, bundle):
    auto(bundle)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    r = rt.run(bundle)
    assert r.rc != 0 and "husk.userns" in r.err, r


def test_auto_needs_a_user_namespace(rt, bundle):
    bundle.config["annotations"] = {"husk.userns": "auto"}
    r = rt.run(bundle)
    assert r.rc != 0 and "husk.userns" in r.err and "user namespace" in r.err, r


def test_unidmappable_filesystem_is_an_error_naming_it(rt, bundle):
    # ramfs cannot be idmapped: a clear error, never host root silently
    mnt = os.path.join(bundle.path, "ramfs")
    os.mkdir(mnt)
    host_run(["mount", "-t", "ramfs", "ramfs", str(mnt)])
    try:
        host_run(["cp", "-a", bundle.rootfs, os.path.join(mnt, "rootfs")])
        auto(bundle)
        bundle.config["root"]["path"] = os.path.join(mnt, "rootfs")
        bundle.set_args("/bin/true")
        r = rt.run(bundle)
        assert r.rc != 0, r
        assert "ramfs" in r.err and "husk.rootfs.idmap" in r.err, r.err
        assert "chown" in r.err and "identity map" in r.err, r.err
        assert held(rt) == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_husk_spec_writes_the_default(rt, tmp_path):
    d = tmp_path / "specb"
    d.mkdir()
    rt.cmd("spec", "--bundle", str(d)).check()
    c = json.loads((d / "config.json").read_text())
    assert c["annotations"] == {"husk.userns": "auto", "husk.rootfs.idmap": "true"}
    assert {"type": "user"} in c["linux"]["namespaces"]
    assert "uidMappings" not in c["linux"]


@pytest.mark.parametrize("idmap", [True, False])
def test_bundle_under_a_0700_directory_runs_with_the_default_spec(rt, bundle, idmap):
    # the container's root is an unprivileged host uid that may not search
    # a 0700 directory above the rootfs: the runtime hands the rootfs (and
    # a bind source relative to the bundle) over as fds, nothing is looked
    # up through the host's directories by the container
    rt.cmd("spec", "--bundle", bundle.path).check()
    with open(os.path.join(bundle.path, "config.json")) as f:
        bundle.config = json.load(f)
    if not idmap:
        del bundle.config["annotations"]["husk.rootfs.idmap"]
    bundle.process["terminal"] = False
    os.mkdir(os.path.join(bundle.path, "data"))
    with open(os.path.join(bundle.path, "data", "f"), "w") as f:
        f.write("from the bundle\n")
    os.mkdir(os.path.join(bundle.rootfs, "data"))  # not made by an unmapped root
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": "data", "options": ["rbind", "ro"]})
    bundle.set_args("/bin/sh", "-c", "cat /proc/self/uid_map /data/f; stat -c '%u' /")
    os.chmod(bundle.path, 0o700)
    r = rt.run(bundle)
    assert r.rc == 0, r
    lines = r.out.split("\n")
    inside, host, size = (int(x) for x in lines[0].split())
    assert (inside, size) == (0, BLOCK) and host >= pool_start(), lines
    assert lines[1] == "from the bundle"
    assert lines[2] == ("0" if idmap else "65534"), lines
    assert held(rt) == []


def test_list_shows_containers_not_the_range_directory(rt, bundle):
    """`list` reads every directory of the state root as a container:
    husk's own @userns beside them is not one, and no warning about it."""
    auto(bundle)
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    assert os.path.isdir(ranges_dir(rt))
    r = rt.cmd("list", "--quiet")
    assert r.rc == 0, r
    assert r.out.split() == [cid]
    assert r.err == "", r.err


def test_idmapped_rootfs_where_host_mounts_are_shared(rt, bundle):
    """systemd makes "/" shared: the idmapped tree, cloned in the host's
    namespace, was in its peer group and pivot_root refused it (EINVAL).
    Here a private mount namespace with "/" made rshared stands for such a
    host."""
    auto(bundle)
    bundle.process["args"] = ["/bin/sh", "-c", "echo root-ok"]
    bundle.write()
    cid = rt.new_id()
    p = subprocess.run(["unshare", "-m", "--propagation", "unchanged", "sh", "-c",
                        'mount --make-rshared / && exec "$@"', "sh", rt.binary, "--root", rt.root,
                        "run", "--bundle", bundle.path, cid],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "root-ok"


def run_where_host_mounts(rt, bundle, shared):
    """`husk run` of the bundle; with shared=True in a private mount
    namespace whose "/" is made rshared, standing for a systemd host."""
    bundle.write()
    cid = rt.new_id()
    argv = [rt.binary, "--root", rt.root, "run", "--bundle", bundle.path, cid]
    if shared:
        argv = ["unshare", "-m", "--propagation", "unchanged", "sh", "-c",
                'mount --make-rshared / && exec "$@"', "sh", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("host_shared", [False, True], ids=["host-private", "host-shared"])
@pytest.mark.parametrize("prop", ["private", "slave", "shared"])
@pytest.mark.parametrize("idmap", [True, False], ids=["idmapped", "not-idmapped"])
def test_rootfs_propagation_with_the_bundle_under_a_0700_directory(rt, bundle, idmap, prop,
                                                                    host_shared):
    """A rootfsPropagation that may leave the host's mounts shared makes the
    mount holding the rootfs private before pivot_root. Finding that mount
    by walking ".." up from the rootfs as the container's root (an
    unmapped host uid) failed on the 0700 directory: "make the parent
    mount of ... private: Permission denied"."""
    auto(bundle, idmap)
    bundle.linux["rootfsPropagation"] = prop
    bundle.set_args("/bin/probe", "mounts")
    os.chmod(bundle.path, 0o700)
    p = run_where_host_mounts(rt, bundle, host_shared)
    assert p.returncode == 0, p.stderr
    root = {m["mount_point"]: m for m in json.loads(p.stdout)["mounts"]}["/"]
    shared = any(t.startswith("shared:") for t in root["propagation"])
    assert shared == (prop == "shared"), root
    assert held(rt) == []
