"""mounts: bind ro/rw, tmpfs options, proc, sysfs, mqueue, devpts, propagation."""

import os

import pytest

from conftest import is_runc

EROFS, ENOENT = 30, 2


def mounts_by_point(out):
    return {m["mount_point"]: m for m in out["mounts"]}


def opts(m):
    return set(m["options"].split(",")) | set(m["super_options"].split(","))


@pytest.fixture
def hostdir(tmp_path):
    d = tmp_path / "hostdir"
    d.mkdir()
    (d / "file").write_text("from host\n")
    os.chmod(d, 0o755)
    return str(d)


def test_default_mounts(rt, bundle):
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert m["/proc"]["fstype"] == "proc"
    assert m["/dev"]["fstype"] == "tmpfs"
    assert m["/dev/pts"]["fstype"] == "devpts"
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= opts(m["/dev/pts"])
    assert m["/dev/shm"]["fstype"] == "tmpfs"
    assert {"nosuid", "noexec", "nodev"} <= opts(m["/dev/shm"])
    assert m["/dev/mqueue"]["fstype"] == "mqueue"
    assert m["/sys"]["fstype"] == "sysfs"
    assert "ro" in m["/sys"]["options"].split(",")
    assert "/" in m


def test_bind_read_only(rt, bundle, hostdir):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": hostdir,
                                    "options": ["rbind", "ro"]})
    bundle.set_args("/bin/sh", "-c", "cat /data/file; /bin/probe open /data/file rw")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.startswith("from host\n")
    assert r.lines()[0]["errno"] == EROFS


def test_bind_read_write(rt, bundle, hostdir):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": hostdir,
                                    "options": ["bind", "rw"]})
    bundle.set_args("/bin/sh", "-c", "echo from container > /data/new")
    r = rt.run(bundle)
    assert r.rc == 0, r
    with open(os.path.join(hostdir, "new")) as f:
        assert f.read() == "from container\n"


def test_bind_file(rt, bundle, hostdir):
    bundle.config["mounts"].append({"destination": "/etc/injected", "type": "bind",
                                    "source": os.path.join(hostdir, "file"),
                                    "options": ["bind", "ro"]})
    bundle.set_args("/bin/cat", "/etc/injected")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "from host\n"


def test_bind_destination_is_created(rt, bundle, hostdir):
    bundle.config["mounts"].append({"destination": "/a/b/c", "type": "bind", "source": hostdir,
                                    "options": ["bind"]})
    bundle.set_args("/bin/cat", "/a/b/c/file")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert os.path.isdir(os.path.join(bundle.rootfs, "a", "b", "c"))


def test_bind_mount_flags(rt, bundle, hostdir):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": hostdir,
                                    "options": ["bind", "nosuid", "nodev", "noexec"]})
    m = mounts_by_point(rt.probe(bundle, "mounts"))["/data"]
    assert {"nosuid", "nodev", "noexec"} <= set(m["options"].split(","))


def test_tmpfs_with_options(rt, bundle):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs",
                                    "options": ["nosuid", "nodev", "size=1m", "mode=700",
                                                "uid=1000", "gid=100"]})
    out = rt.probe(bundle, "mounts", "+", "stat", "/scratch")
    m = mounts_by_point(out[0])["/scratch"]
    assert m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev"} <= set(m["options"].split(","))
    assert {"size=1024k", "mode=700", "uid=1000", "gid=100"} <= set(m["super_options"].split(","))
    st = out[1]["/scratch"]
    assert (st["mode"], st["uid"], st["gid"]) == (0o700, 1000, 100)


def test_tmpfs_read_only(rt, bundle):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["ro"]})
    bundle.set_args("/bin/sh", "-c", "touch /scratch/x 2>/dev/null; echo rc=$?")
    r = rt.run(bundle)
    assert r.out.strip() == "rc=1"


@pytest.mark.parametrize("mode", [0o700, 0o1777, 0o750], ids=oct)
def test_tmpfs_keeps_the_mode_of_the_directory_it_covers(rt, bundle, mode):
    # runc: without mode= a tmpfs over an existing directory gets its mode,
    # not tmpfs's default 1777 (a private 0700 directory stays private)
    d = os.path.join(bundle.rootfs, "scratch")
    os.mkdir(d)
    os.chmod(d, mode)
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["nosuid", "size=1m"]})
    out = rt.probe(bundle, "mounts", "+", "stat", "/scratch")
    assert mounts_by_point(out[0])["/scratch"]["fstype"] == "tmpfs"
    assert out[1]["/scratch"]["mode"] == mode


@pytest.mark.skipif(is_runc(), reason="runc 1.1 chmods the tmpfs to the covered directory's "
                    "mode after mounting, over an explicit mode= (runc 1.2 passes it as a "
                    "leading mode= option, which an explicit one overrides)")
@pytest.mark.parametrize("options", [["mode=755"], ["mode=755", "size=1m"],
                                     ["size=1m", "mode=0755"]])
def test_tmpfs_explicit_mode_wins_over_the_covered_directory(rt, bundle, options):
    d = os.path.join(bundle.rootfs, "scratch")
    os.mkdir(d)
    os.chmod(d, 0o700)
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs", "options": options})
    assert rt.probe(bundle, "stat", "/scratch")["/scratch"]["mode"] == 0o755


def test_tmpfs_on_a_new_directory_has_the_tmpfs_default_mode(rt, bundle):
    bundle.config["mounts"].append({"destination": "/made/here", "type": "tmpfs",
                                    "source": "tmpfs"})
    assert rt.probe(bundle, "stat", "/made/here")["/made/here"]["mode"] == 0o1777


def test_tmpfs_mode_is_that_of_a_symlinked_directory(rt, bundle):
    # the directory the mount covers counts, reached through the image's link
    os.mkdir(os.path.join(bundle.rootfs, "real"), 0o711)
    os.chmod(os.path.join(bundle.rootfs, "real"), 0o711)
    os.symlink("/real", os.path.join(bundle.rootfs, "link"))
    bundle.config["mounts"].append({"destination": "/link", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["ro"]})
    assert rt.probe(bundle, "stat", "/real")["/real"]["mode"] == 0o711


def test_second_proc_and_mqueue(rt, bundle):
    bundle.config["mounts"] += [
        {"destination": "/proc2", "type": "proc", "source": "proc"},
        {"destination": "/mq", "type": "mqueue", "source": "mqueue"},
    ]
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert m["/proc2"]["fstype"] == "proc"
    assert m["/mq"]["fstype"] == "mqueue"


def test_proc_shows_only_the_container(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "ls -d /proc/[0-9]*")
    r = rt.run(bundle)
    assert r.rc == 0, r
    # the shell and ls: nothing from the host
    assert len(r.out.split()) <= 3, r.out


@pytest.mark.parametrize("flag,expect", [("shared", "shared:"), ("private", None)])
def test_propagation_flags(rt, bundle, hostdir, flag, expect):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": hostdir,
                                    "options": ["rbind", flag]})
    m = mounts_by_point(rt.probe(bundle, "mounts"))["/data"]
    if expect:
        assert any(p.startswith(expect) for p in m["propagation"]), m
    else:
        assert m["propagation"] == [], m


@pytest.mark.parametrize("prop,expect", [
    pytest.param("shared", "shared:", marks=pytest.mark.skipif(
        is_runc(), reason="runc 1.1 leaves the root private with rootfsPropagation shared")),
    ("private", None), ("slave", None)])
def test_rootfs_propagation(rt, bundle, prop, expect):
    bundle.linux["rootfsPropagation"] = prop
    m = mounts_by_point(rt.probe(bundle, "mounts"))["/"]
    if expect:
        assert any(p.startswith(expect) for p in m["propagation"]), m
    else:
        assert not any(p.startswith("shared:") for p in m["propagation"]), m


def test_container_mounts_are_invisible_on_host(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    with open("/proc/self/mountinfo") as f:
        host = f.read()
    assert bundle.rootfs not in host
    with open(f"/proc/{pid}/mountinfo") as f:
        inside = f.read()
    assert " /dev/mqueue " in inside


def test_missing_bind_source_fails(rt, bundle, tmp_path):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": str(tmp_path / "does-not-exist"),
                                    "options": ["bind"]})
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_unknown_filesystem_type_fails(rt, bundle):
    bundle.config["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "none"})
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_mount_order_is_kept(rt, bundle, hostdir):
    # a bind on top of a tmpfs declared before it: order matters
    bundle.config["mounts"] += [
        {"destination": "/stack", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/stack/inner", "type": "bind", "source": hostdir, "options": ["bind"]},
    ]
    bundle.set_args("/bin/cat", "/stack/inner/file")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "from host\n"


def test_cgroup_mount_is_read_only(rt, bundle):
    # what matters is the cgroup filesystems: the container must not create
    # cgroups or write limits through them (a tmpfs holding them may stay rw)
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                    "source": "cgroup",
                                    "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    bundle.set_args("/bin/sh", "-c", "/bin/probe mounts; for d in /sys/fs/cgroup/*/; do "
                    "mkdir $d/x 2>/dev/null && echo made:$d; done; echo done")
    r = rt.run(bundle)
    assert r.rc == 0, r
    mounts = r.lines()[0]["mounts"]
    cg = [m for m in mounts if m["mount_point"].startswith("/sys/fs/cgroup")
          and m["fstype"] in ("cgroup", "cgroup2")]
    assert cg, "the container sees its cgroups"
    for m in cg:
        assert "ro" in m["options"].split(","), m
    assert "made:" not in r.out
    assert r.out.rstrip().endswith("done")


def test_noexec_is_enforced(rt, bundle):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["noexec"]})
    bundle.set_args("/bin/sh", "-c", "cp /bin/probe /scratch/p && /scratch/p pid; "
                    "echo rc=$?")
    r = rt.run(bundle)
    assert r.out.strip().endswith("rc=126"), r


@pytest.fixture
def host_tree(tmp_path):
    """A host directory with a tmpfs mounted on its `sub` directory."""
    from conftest import host_run
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    os.chmod(d, 0o755)
    host_run(["mount", "-t", "tmpfs", "-o", "size=1m", "itest-sub", str(d / "sub")])
    (d / "sub" / "inner").write_text("in submount\n")
    yield str(d)
    host_run(["umount", "-l", str(d / "sub")])


@pytest.mark.parametrize("kind,visible", [("bind", False), ("rbind", True)])
def test_bind_versus_rbind(rt, bundle, host_tree, kind, visible):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": host_tree, "options": [kind]})
    bundle.set_args("/bin/sh", "-c", "cat /data/sub/inner 2>/dev/null || echo absent")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == ("in submount\n" if visible else "absent\n")


@pytest.fixture
def shared_dir(tmp_path):
    """A host directory that is a shared mount, for propagation tests."""
    from conftest import host_run
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o755)
    host_run(["mount", "--bind", str(d), str(d)])
    host_run(["mount", "--make-shared", str(d)])
    yield str(d)
    host_run(["umount", "-R", "-l", str(d)])


@pytest.mark.parametrize("prop,visible", [("rslave", True), ("rprivate", False)])
def test_propagation_from_host(rt, bundle, shared_dir, prop, visible):
    from conftest import host_run
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": shared_dir, "options": ["rbind", prop]})
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    os.mkdir(os.path.join(shared_dir, "late"))
    host_run(["mount", "-t", "tmpfs", "itest-late", os.path.join(shared_dir, "late")])
    with open(f"/proc/{pid}/mountinfo") as f:
        seen = any(line.split()[4] == "/data/late" for line in f)
    assert seen == visible


def test_relative_destination_is_resolved_from_root(rt, bundle):
    # runtime-spec 1.1 allows relative destinations (deprecated, resolved
    # against "/"); runc accepts them and older engines still send them
    bundle.config["mounts"].append({"destination": "relative/dest", "type": "tmpfs",
                                    "source": "tmpfs"})
    m = mounts_by_point(rt.probe(bundle, "mounts"))
    assert m["/relative/dest"]["fstype"] == "tmpfs"


@pytest.mark.skipif(is_runc(), reason="runc 1.1 has no idmapped mounts")
def test_idmapped_bind_mount(rt, bundle, tmp_path):
    # as the kernel reads a mount idmapping (and runc 1.2 / crun use it): an
    # on-disk id equal to containerID shows as hostID; the on-disk ids the
    # mapping does not cover show as the overflow id
    d = tmp_path / "idmapped"
    d.mkdir()
    (d / "by-root").write_text("x")
    (d / "by-user").write_text("x")
    os.chown(d / "by-user", 1000, 1000)
    os.chmod(d, 0o755)
    one = [{"containerID": 0, "hostID": 1000, "size": 1}]
    bundle.config["mounts"].append({"destination": "/idm", "type": "bind", "source": str(d),
                                    "options": ["bind", "idmap"], "uidMappings": one,
                                    "gidMappings": one})
    out = rt.probe(bundle, "stat", "/idm/by-root", "/idm/by-user", "+", "mounts")
    st = out[0]
    assert "idmapped" in mounts_by_point(out[1])["/idm"]["options"].split(",")
    assert (st["/idm/by-root"]["uid"], st["/idm/by-root"]["gid"]) == (1000, 1000)
    assert (st["/idm/by-user"]["uid"], st["/idm/by-user"]["gid"]) == (65534, 65534)
    # the host still sees the files as they were
    assert os.stat(d / "by-root").st_uid == 0
    assert os.stat(d / "by-user").st_uid == 1000


@pytest.mark.parametrize("join", ["self", "procs"])
@pytest.mark.parametrize("cgroupns", [False, True], ids=["host-cgroupns", "cgroupns"])
def test_cgroup_mount_shows_the_containers_own_cgroup(rt, bundle, cgroupns, join, monkeypatch):
    """The mount binds (or, in a cgroup namespace, mounts) the container's own
    cgroups, so its limits are what it reads there: the process must be in them
    before the mount. husk's two ways in: the process moves itself first thing,
    or (HUSK_CGROUP_JOIN=procs) the runtime moves it while it sets up and it
    waits for that before the cgroup namespace and the mount. On a pure v2
    host without a cgroup namespace the mount is cgroup2's whole tree (as
    runc's): the container's own cgroup is where /proc/self/cgroup says."""
    if join == "procs":
        monkeypatch.setenv("HUSK_CGROUP_JOIN", "procs")
    if cgroupns:
        bundle.linux["namespaces"].append({"type": "cgroup"})
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 64 << 20}
    bundle.linux["resources"]["pids"] = {"limit": 77}
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                    "source": "cgroup", "options": ["ro"]})
    bundle.set_args("/bin/sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                    "/sys/fs/cgroup/pids/pids.max 2>/dev/null || "
                    "{ d=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup); "
                    "cat $d/memory.max $d/pids.max; }")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == [str(64 << 20), "77"], r.out


# A destination that is a dangling symlink in the image: the mount is made at
# the link's target, resolved inside the rootfs, which is created (runc and
# crun do the same). ".." in the target stops at the rootfs root.
DANGLING_TARGETS = {"absolute": "/srv/data", "relative": "srv/data",
                    "escaping": "../../../../../../../../srv/data"}


def dangling_mount(kind, tmp_path, dest):
    if kind == "tmpfs":
        return {"destination": dest, "type": "tmpfs", "source": "tmpfs"}
    src = tmp_path / "dangling-src"
    if kind == "bind-dir":
        src.mkdir()
        (src / "file").write_text("from host\n")
        os.chmod(src, 0o755)
    else:
        src.write_text("from host\n")
        os.chmod(src, 0o644)
    return {"destination": dest, "type": "bind", "source": str(src), "options": ["bind"]}


@pytest.mark.parametrize("link", sorted(DANGLING_TARGETS))
@pytest.mark.parametrize("kind", ["tmpfs", "bind-dir", "bind-file"])
def test_dangling_symlink_destination_is_created_at_its_target(rt, bundle, tmp_path, link,
                                                               kind):
    os.symlink(DANGLING_TARGETS[link], os.path.join(bundle.rootfs, "data"))
    bundle.config["mounts"].append(dangling_mount(kind, tmp_path, "/data"))
    bundle.set_args("/bin/sh", "-c", "cut -d' ' -f5 /proc/self/mountinfo | grep -x /srv/data; "
                    "readlink /data; cat /data/file /data 2>/dev/null; true")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == f"/srv/data\n{DANGLING_TARGETS[link]}\n" + \
        ("" if kind == "tmpfs" else "from host\n"), r
    made = os.path.join(bundle.rootfs, "srv", "data")
    assert os.path.isdir(made) if kind != "bind-file" else os.path.isfile(made)
    # the link itself is left as the image had it
    assert os.readlink(os.path.join(bundle.rootfs, "data")) == DANGLING_TARGETS[link]


def test_dangling_symlink_chain_in_a_subdirectory(rt, bundle, tmp_path):
    # /etc/conf -> ../run/conf -> /var/lib/conf (neither exists): a file
    # bind follows both links, relative to the directory of each
    os.symlink("../run/conf", os.path.join(bundle.rootfs, "etc", "conf"))
    os.symlink("/var/lib/conf", os.path.join(bundle.rootfs, "run", "conf"))
    bundle.config["mounts"].append(dangling_mount("bind-file", tmp_path, "/etc/conf"))
    bundle.set_args("/bin/cat", "/etc/conf")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "from host\n"
    assert os.path.isfile(os.path.join(bundle.rootfs, "var", "lib", "conf"))
