"""Scenarios from the public conformance suites (youki contest, runtime-tools
validation) in the filesystem / namespace / seccomp area, run against husk."""

import os

import pytest

from conftest import host_run

EROFS, ENOENT, EACCES, EPERM = 30, 2, 13, 1


def mounts_by_point(out):
    return {m["mount_point"]: m for m in out["mounts"]}


def opts(m):
    return set(m["options"].split(","))


# -- maskedPaths -----------------------------------------------------------

def test_masked_nested_paths(rt, bundle):
    # masking a directory hides the entries below it that are also listed;
    # those then no longer exist and are skipped, not an error
    root = bundle.rootfs
    os.makedirs(os.path.join(root, "masked-dir/masked-subdir"))
    for p in ("masked-file", "masked-dir/masked-file", "masked-dir/masked-subdir/masked-file"):
        with open(os.path.join(root, p), "w") as f:
            f.write("secrets")
    bundle.linux["maskedPaths"] = ["/masked-dir", "/masked-file", "/masked-dir/masked-subdir",
                                   "/masked-dir/masked-file",
                                   "/masked-dir/masked-subdir/masked-file"]
    bundle.set_args("/bin/sh", "-c", "cat /masked-file /masked-dir/masked-file "
                    "/masked-dir/masked-subdir/masked-file 2>/dev/null; ls -A /masked-dir")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert "secrets" not in r.out
    assert r.out == ""


def test_masked_relative_path_fails(rt, bundle):
    bundle.linux["maskedPaths"] = ["../masked_rel_path"]
    r = rt.run(bundle)
    assert r.rc != 0, r


def test_masked_dangling_symlink_fails(rt, bundle):
    os.symlink("../masked_symlink", os.path.join(bundle.rootfs, "masked_symlink"))
    bundle.linux["maskedPaths"] = ["/masked_symlink"]
    r = rt.run(bundle)
    assert r.rc != 0, r


def test_readonly_relative_path_fails(rt, bundle):
    bundle.linux["readonlyPaths"] = ["../ro_rel_path"]
    r = rt.run(bundle)
    assert r.rc != 0, r


def test_readonly_dangling_symlink_fails(rt, bundle):
    os.symlink("../ro_symlink", os.path.join(bundle.rootfs, "ro_symlink"))
    bundle.linux["readonlyPaths"] = ["/ro_symlink"]
    r = rt.run(bundle)
    assert r.rc != 0, r


# -- recursive mount attributes ---------------------------------------------

@pytest.fixture
def tree(tmp_path):
    d = tmp_path / "mount_dir"
    d.mkdir()
    host_run(["mount", "-t", "tmpfs", "itest-top", str(d)])
    (d / "mount_subdir").mkdir()
    host_run(["mount", "-t", "tmpfs", "itest-sub", str(d / "mount_subdir")])
    yield str(d)
    host_run(["umount", "-R", "-l", str(d)])


def mnt(bundle, tree, *options):
    bundle.config["mounts"].append({"destination": "/mnt", "source": tree,
                                    "options": ["rbind", *options]})


@pytest.mark.parametrize("opt,want", [("rro", "ro"), ("rnosuid", "nosuid"),
                                      ("rnoexec", "noexec"), ("rnodev", "nodev"),
                                      ("rnodiratime", "nodiratime"), ("rnoatime", "noatime"),
                                      ("rnosymfollow", "nosymfollow")])
def test_recursive_attr_reaches_submounts(rt, bundle, tree, opt, want):
    mnt(bundle, tree, opt)
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert want in opts(m["/mnt"]), m["/mnt"]
    assert want in opts(m["/mnt/mount_subdir"]), m["/mnt/mount_subdir"]


@pytest.mark.parametrize("opt,unwanted", [("rrw", "ro"), ("rsuid", "nosuid"),
                                          ("rexec", "noexec"), ("rdev", "nodev"),
                                          ("rdiratime", "nodiratime"),
                                          ("rsymfollow", "nosymfollow")])
def test_recursive_clear_reaches_submounts(rt, bundle, tree, opt, unwanted):
    host_run(["mount", "-o", f"remount,bind,{unwanted}", tree])
    host_run(["mount", "-o", f"remount,bind,{unwanted}", tree + "/mount_subdir"])
    mnt(bundle, tree, opt)
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert unwanted not in opts(m["/mnt"]), m["/mnt"]
    assert unwanted not in opts(m["/mnt/mount_subdir"]), m["/mnt/mount_subdir"]


@pytest.mark.parametrize("opt,host,want", [("rrelatime", "strictatime", "relatime"),
                                           # youki's checker wants relatime here
                                           ("rnorelatime", "strictatime", "relatime"),
                                           ("rstrictatime", "relatime", None),
                                           ("ratime", "noatime", "relatime"),
                                           ("rnostrictatime", "strictatime", "relatime")])
def test_recursive_atime(rt, bundle, tree, opt, host, want):
    host_run(["mount", "-o", f"remount,bind,{host}", tree])
    host_run(["mount", "-o", f"remount,bind,{host}", tree + "/mount_subdir"])
    mnt(bundle, tree, opt)
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    for p in ("/mnt", "/mnt/mount_subdir"):
        o = opts(m[p])
        if want:
            assert want in o, m[p]
        else:
            assert not (o & {"relatime", "noatime"}), m[p]


def test_rbind_ro_is_not_recursive(rt, bundle, tree):
    mnt(bundle, tree, "ro")
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert "ro" in opts(m["/mnt"])
    assert "rw" in opts(m["/mnt/mount_subdir"])


# -- namespaces left out: inherited from the runtime -------------------------

NS_FILES = ("ipc", "mnt", "net", "pid", "uts", "cgroup", "time")


def ns_ids(pid):
    return {n: os.readlink(f"/proc/{pid}/ns/{n}") for n in NS_FILES}


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return sorted(line.split()[4] for line in f)


def test_no_namespaces_inherits_all(rt, bundle):
    # contest linux_ns_itype / runtime-tools linux_ns_itype: no namespace
    # listed, the container shares every namespace of the runtime
    bundle.linux["namespaces"] = []
    bundle.linux["maskedPaths"] = []
    bundle.linux["readonlyPaths"] = []
    bundle.config.pop("hostname", None)
    before = host_mounts()
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    assert ns_ids(pid) == ns_ids(os.getpid())
    # the container is in its rootfs, and nothing was mounted on the host
    assert os.readlink(f"/proc/{pid}/root") == os.path.realpath(bundle.rootfs)
    assert host_mounts() == before


@pytest.mark.parametrize("kind,flag", [("ipc", "--ipc"), ("network", "--net"),
                                       ("pid", "--pid")])
def test_join_one_namespace_without_mount_namespace(rt, bundle, kind, flag):
    # contest linux_ns_path: the spec lists only the joined namespace; the
    # default mounts, masked and read-only paths stay in the config
    import subprocess
    from conftest import spawn
    holder = spawn(["unshare", flag, "--fork", "sleep", "600"], start_new_session=True)
    try:
        name = {"network": "net"}.get(kind, kind)
        path = f"/proc/{holder.pid}/ns/{name}"
        if kind == "pid":
            path += "_for_children"
        for _ in range(100):
            if os.readlink(path) != os.readlink(f"/proc/self/ns/{name}"):
                break
            import time
            time.sleep(0.05)
        bundle.linux["namespaces"] = [{"type": kind, "path": path}]
        bundle.config.pop("hostname", None)
        cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
        assert os.readlink(f"/proc/{pid}/ns/{name}") == os.readlink(path)
        assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    finally:
        os.killpg(holder.pid, 9)
        holder.wait()

