"""Scenarios from the public conformance suites (youki contest, runtime-tools
validation) in the filesystem / namespace / seccomp area, run against husk."""

import os
import time
import uuid

import pytest

from conftest import _finish, host_run, spawn

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


@pytest.mark.parametrize("field", ["maskedPaths", "readonlyPaths"])
def test_relative_path_fails(rt, bundle, field):
    bundle.linux[field] = ["../rel_path"]
    r = rt.run(bundle)
    assert r.rc != 0, r


@pytest.mark.parametrize("field", ["maskedPaths", "readonlyPaths"])
def test_dangling_symlink_fails(rt, bundle, field):
    os.symlink("../dangling", os.path.join(bundle.rootfs, "dangling"))
    bundle.linux[field] = ["/dangling"]
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


@pytest.mark.parametrize("others", [False, True])
@pytest.mark.parametrize("kind,flag", [("ipc", "--ipc"), ("network", "--net"),
                                       ("pid", "--pid"), ("mount", "--mount"), ("uts", "--uts")])
def test_join_one_namespace_by_path(rt, bundle, kind, flag, others):
    # contest linux_ns_path: the spec lists only the joined namespace (no
    # mount namespace of its own), the default mounts, masked and read-only
    # paths staying in the config; runtime-tools linux_ns_path: the joined
    # one replaces its type among the usual new ones
    holder = spawn(["unshare", flag, "--fork", "sleep", "600"], start_new_session=True)
    try:
        name = {"network": "net", "mount": "mnt"}.get(kind, kind)
        path = f"/proc/{holder.pid}/ns/{name}"
        if kind == "pid":
            path += "_for_children"
        for _ in range(100):
            # pid_for_children has no target while unshare --pid has not
            # forked yet (ENOENT): wait, as for the namespace to change
            try:
                if os.readlink(path) != os.readlink(f"/proc/self/ns/{name}"):
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        ns = [n for n in bundle.linux["namespaces"] if others and n["type"] != kind]
        bundle.linux["namespaces"] = ns + [{"type": kind, "path": path}]
        if not others:
            bundle.config.pop("hostname", None)
        cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
        assert os.readlink(f"/proc/{pid}/ns/{name}") == os.readlink(path)
        if kind != "mount" and not others:
            assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    finally:
        os.killpg(holder.pid, 9)
        _finish(holder, 10)



# -- devices, rootfsPropagation ---------------------------------

def test_devices_as_contest_lists_them(rt, bundle):
    # contest devices: a fifo given a major/minor, and a device without a
    # fileMode, which gets 0666 whatever the runtime's umask
    bundle.linux["devices"] = [
        {"path": "/dev/test1", "type": "c", "major": 10, "minor": 666, "fileMode": 0o660,
         "uid": 0, "gid": 0},
        {"path": "/dev/test2", "type": "b", "major": 8, "minor": 666, "fileMode": 0o660,
         "uid": 0, "gid": 0},
        {"path": "/dev/test3", "type": "p", "major": 8, "minor": 666, "fileMode": 0o660},
        {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11},
    ]
    st = rt.probe(bundle, "stat", "/dev/test1", "/dev/test2", "/dev/test3", "/dev/kmsg")
    assert (st["/dev/test1"]["type"], st["/dev/test1"]["mode"]) == ("char", 0o660)
    assert (st["/dev/test1"]["major"], st["/dev/test1"]["minor"]) == (10, 666)
    assert (st["/dev/test2"]["type"], st["/dev/test2"]["mode"]) == ("block", 0o660)
    assert (st["/dev/test3"]["type"], st["/dev/test3"]["mode"]) == ("fifo", 0o660)
    assert (st["/dev/kmsg"]["type"], st["/dev/kmsg"]["mode"]) == ("char", 0o666)


ADMIN_CAPS = ["CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"]


@pytest.mark.parametrize("prop,visible", [("shared", True), ("slave", False),
                                          ("private", False)])
def test_rootfs_propagation_seen_from_inside(rt, bundle, prop, visible):
    # contest rootfs_propagation: inside, bind "/" elsewhere, then mount on a
    # directory of "/": the copy sees it only when "/" is shared
    bundle.linux["rootfsPropagation"] = prop
    for k in bundle.config["process"]["capabilities"]:
        bundle.config["process"]["capabilities"][k] = list(ADMIN_CAPS)
    bundle.set_args("/bin/sh", "-c",
                    "mkdir -p /tmp/target /tmp/mnt /tmp/src && touch /tmp/src/example && "
                    "mount --rbind / /tmp/target && mount --rbind /tmp/src /tmp/mnt && "
                    "if [ -e /tmp/target/tmp/mnt/example ]; then echo visible; "
                    "else echo hidden; fi")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == ("visible\n" if visible else "hidden\n")


def test_rootfs_propagation_unbindable_refuses_bind(rt, bundle):
    bundle.linux["rootfsPropagation"] = "unbindable"
    bundle.linux["maskedPaths"] = []
    bundle.linux["readonlyPaths"] = []
    for k in bundle.config["process"]["capabilities"]:
        bundle.config["process"]["capabilities"][k] = list(ADMIN_CAPS)
    bundle.set_args("/bin/sh", "-c", "mkdir -p /tmp/target && mount --rbind / /tmp/target "
                    "2>/dev/null; echo rc=$?")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out != "rc=0\n"


# -- idmapped mounts (contest idmap, a port of runc's idmap.bats) ---------------

USERNS = [{"containerID": 0, "hostID": 100000, "size": 65536}]
TREE_UIDS = [{"containerID": 100, "hostID": 101000, "size": 3},
             {"containerID": 200, "hostID": 102000, "size": 3},
             {"containerID": 300, "hostID": 103000, "size": 3}]
TREE_GIDS = [{"containerID": 210, "hostID": 101100, "size": 10},
             {"containerID": 220, "hostID": 102200, "size": 10},
             {"containerID": 230, "hostID": 103300, "size": 10}]


def owned_files(d, owners):
    d.mkdir(parents=True, exist_ok=True)
    for name, (uid, gid) in zip(("foo.txt", "bar.txt", "baz.txt"), owners):
        (d / name).write_text("idmap test\n")
        os.chown(d / name, uid, gid)
    os.chmod(d, 0o755)


@pytest.fixture
def idmap_tree(tmp_path):
    os.chmod(tmp_path, 0o755)
    src = tmp_path / "mount-tree"
    owned_files(src, [(100, 211), (200, 222), (300, 233)])
    owned_files(tmp_path / "source-multi1", [(100, 211), (101, 222), (102, 233)])
    owned_files(tmp_path / "source-multi2", [(200, 211), (201, 222), (202, 233)])
    for n in ("multi1", "multi2"):
        (src / n).mkdir()
        host_run(["mount", "--bind", str(tmp_path / f"source-{n}"), str(src / n)])
    yield str(src)
    for n in ("multi1", "multi2"):
        host_run(["umount", "-l", str(src / n)])


def userns(bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = USERNS
    bundle.linux["gidMappings"] = USERNS


def owners(rt, bundle, *paths):
    st = rt.probe(bundle, "stat", *paths)
    return [(st[p]["uid"], st[p]["gid"]) for p in paths]


TREE_FILES = ["/t/foo.txt", "/t/multi1/foo.txt", "/t/multi1/bar.txt", "/t/multi2/baz.txt"]


@pytest.mark.parametrize("opts,sub_idmapped", [(["rbind"], False), (["rbind", "idmap"], False),
                                               (["rbind", "ridmap"], True)])
def test_idmap_tree_with_mappings(rt, bundle, idmap_tree, opts, sub_idmapped):
    bundle.config["mounts"].append({"destination": "/t", "type": "bind", "source": idmap_tree,
                                    "options": opts, "uidMappings": TREE_UIDS,
                                    "gidMappings": TREE_GIDS})
    got = owners(rt, bundle, *TREE_FILES)
    assert got[0] == (101000, 101101)
    if sub_idmapped:
        assert got[1:] == [(101000, 101101), (101001, 102202), (102002, 103303)]
    else:
        assert got[1:] == [(100, 211), (101, 222), (202, 233)]


@pytest.mark.parametrize("opt,sub_idmapped", [("idmap", False), ("ridmap", True)])
def test_idmap_implied_mapping_in_userns(rt, bundle, idmap_tree, opt, sub_idmapped):
    # "idmap" without mappings: the container's own user namespace mapping
    userns(bundle)
    os.mkdir(os.path.join(bundle.rootfs, "t"))  # its root may not create it
    bundle.config["mounts"].append({"destination": "/t", "type": "bind", "source": idmap_tree,
                                    "options": ["rbind", opt]})
    got = owners(rt, bundle, *TREE_FILES)
    assert got[0] == (100, 211)
    if sub_idmapped:
        assert got[1:] == [(100, 211), (101, 222), (202, 233)]
    else:
        assert got[1:] == [(65534, 65534)] * 3


def world_readable_source(tmp_path):
    """tmp_path/mount-1 holding foo.txt, reachable by the container's mapped ids."""
    os.chmod(tmp_path, 0o755)
    src = tmp_path / "mount-1"
    src.mkdir()
    os.chmod(src, 0o755)
    (src / "foo.txt").write_text("x")
    return src


def test_idmap_plain_bind_option_with_mappings_in_userns(rt, bundle, tmp_path):
    # mappings given, options only "bind": idmapped all the same; a second
    # plain bind of the same source is not
    src = world_readable_source(tmp_path)
    userns(bundle)
    bundle.config["mounts"] += [
        {"destination": "tmp/mount-1", "type": "bind", "source": str(src), "options": ["bind"],
         "uidMappings": USERNS, "gidMappings": USERNS},
        {"destination": "/tmp/bind-mount-1", "type": "bind", "source": str(src),
         "options": ["bind"]}]
    bundle.set_args("/bin/sh", "-c", "stat -c '%u:%g' /tmp/mount-1/foo.txt "
                    "/tmp/bind-mount-1/foo.txt; echo new > /tmp/mount-1/new && "
                    "stat -c '%u:%g' /tmp/mount-1/new")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["0:0", "65534:65534", "0:0"]
    assert (os.stat(src / "new").st_uid, os.stat(src / "new").st_gid) == (0, 0)


def test_idmap_implied_mapping_of_a_joined_userns(rt, bundle, make_bundle, idmap_tree):
    holder = make_bundle()
    userns(holder)
    _, hpid = rt.start_detached(holder, "/bin/probe", "sleep", "60")
    bundle.linux["namespaces"].append({"type": "user", "path": f"/proc/{hpid}/ns/user"})
    os.mkdir(os.path.join(bundle.rootfs, "t"))
    bundle.config["mounts"].append({"destination": "/t", "type": "bind", "source": idmap_tree,
                                    "options": ["rbind", "idmap"]})
    assert owners(rt, bundle, *TREE_FILES) == [(100, 211)] + [(65534, 65534)] * 3


def test_userns_bind_source_under_a_private_directory(rt, bundle, tmp_path):
    # the container's root may not reach the source (a 0700 directory of the
    # host's root, as a TempDir is): the runtime opens it for it
    os.chmod(tmp_path, 0o700)
    src = tmp_path / "private" / "data"
    src.mkdir(parents=True)
    os.chmod(tmp_path / "private", 0o700)
    (src / "file").write_text("from host\n")
    os.chmod(src, 0o755)
    os.chmod(src / "file", 0o644)
    userns(bundle)
    os.mkdir(os.path.join(bundle.rootfs, "data"))
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": str(src),
                                    "options": ["rbind", "ro"]})
    bundle.set_args("/bin/cat", "/data/file")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "from host\n"


# -- runtime-tools linux_ns_path_type / linux_ns_nopath ------------------------

@pytest.mark.parametrize("kind,wrong", [("cgroup", "ipc"), ("ipc", "mnt"), ("mount", "net"),
                                        ("network", "pid"), ("pid", "user"), ("user", "uts"),
                                        ("uts", "cgroup")])
def test_namespace_path_of_another_type_fails(rt, bundle, kind, wrong):
    ns = [n for n in bundle.linux["namespaces"] if n["type"] != kind]
    bundle.linux["namespaces"] = ns + [{"type": kind, "path": f"/proc/self/ns/{wrong}"}]
    if kind == "user":
        bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = USERNS
    r = rt.create(bundle)
    assert r.rc != 0, r
    rt.assert_nothing_left()


def test_every_namespace_new_without_path(rt, bundle):
    for kind in ("cgroup", "user"):
        bundle.linux["namespaces"].append({"type": kind})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1000}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1000}]
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    mine = ns_ids(os.getpid())
    theirs = ns_ids(pid)
    for n in ("ipc", "mnt", "net", "pid", "uts", "cgroup"):
        assert theirs[n] != mine[n], n
    assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")


# -- readonly / masked paths over device nodes and fifos (runtime-tools) -------

@pytest.mark.parametrize("field", ["readonlyPaths", "maskedPaths"])
@pytest.mark.parametrize("kind", ["block", "char", "fifo"])
def test_special_file_paths(rt, bundle, field, kind):
    import stat
    mode = {"block": stat.S_IFBLK, "char": stat.S_IFCHR, "fifo": stat.S_IFIFO}[kind]
    os.mknod(os.path.join(bundle.rootfs, "special"), mode | 0o666, 0)
    bundle.linux[field] = ["/special"]
    st = rt.probe(bundle, "stat", "/special", "+", "mounts")
    assert "/special" in mounts_by_point(st[1])
    if field == "maskedPaths":
        assert (st[0]["/special"]["type"], st[0]["/special"]["major"]) == ("char", 1)
    else:
        assert st[0]["/special"]["type"] == kind


def test_tmpfs_mount_of_runtime_tools(rt, bundle):
    # runtime-tools mounts: a small tmpfs on /tmp with strictatime
    bundle.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                    "options": ["nosuid", "strictatime", "mode=755",
                                                "size=1k"]})
    m = mounts_by_point(rt.probe(bundle, "mounts"))["/tmp"]
    assert m["fstype"] == "tmpfs"
    assert "nosuid" in opts(m) and not opts(m) & {"relatime", "noatime"}
    sup = set(m["super_options"].split(","))
    assert {"mode=755", "size=4k"} <= sup, m


def test_seccomp_errno_on_getcwd(rt, bundle):
    # contest seccomp / runtime-tools linux_seccomp: getcwd fails with EPERM
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    bundle.set_args("/bin/sh", "-c", "/bin/probe cwd; cd /bin && /bin/pwd -P; echo rc=$?")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.lines()[0] == {"cwd": None}  # getcwd failed
    assert "Operation not permitted" in r.out + r.err and r.out.endswith("rc=1\n"), r


# -- time namespace (contest time_ns) -------------------------------------------

OFFSETS = {"boottime": {"secs": 1337, "nanosecs": 3141519},
           "monotonic": {"secs": 7881, "nanosecs": 2718281}}


@pytest.mark.parametrize("with_userns", [False, True])
@pytest.mark.parametrize("offsets", [OFFSETS, None])
def test_time_namespace_offsets(rt, bundle, with_userns, offsets):
    bundle.linux["namespaces"].append({"type": "time"})
    if offsets:
        bundle.linux["timeOffsets"] = offsets
    if with_userns:
        bundle.linux["namespaces"].append({"type": "user"})
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65534}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65534}]
    bundle.set_args("/bin/cat", "/proc/self/timens_offsets")
    r = rt.run(bundle)
    assert r.rc == 0, r
    got = {line.split()[0]: (int(line.split()[1]), int(line.split()[2]))
           for line in r.out.splitlines()}
    want = offsets or {"boottime": {"secs": 0, "nanosecs": 0},
                       "monotonic": {"secs": 0, "nanosecs": 0}}
    assert got == {k: (v["secs"], v["nanosecs"]) for k, v in want.items()}


# -- linux.netDevices (contest net_devices) -------------------------------------

def link_exists(name):
    return os.path.exists(f"/sys/class/net/{name}")


@pytest.fixture
def veth():
    name = "itv" + uuid.uuid4().hex[:8]
    host_run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
    host_run(["ip", "addr", "add", "10.231.7.1/24", "dev", name])
    yield name
    host_run(["ip", "link", "del", name + "p"], check=False)


@pytest.mark.parametrize("rename", [None, "inside0"])
def test_net_device_moved_in_with_its_address(rt, bundle, veth, rename):
    bundle.linux["netDevices"] = {veth: {"name": rename} if rename else {}}
    name = rename or veth
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    r = host_run(["nsenter", "-t", str(pid), "-n", "ip", "-o", "-4", "addr", "show", "dev",
                  name])
    assert "10.231.7.1/24" in r
    assert not link_exists(veth)
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    # the container's namespace is gone, and the veth pair with it
    for _ in range(50):
        if not link_exists(veth + "p"):
            break
        time.sleep(0.1)
    assert not link_exists(veth + "p")


def test_net_device_missing_on_the_host_fails(rt, bundle):
    bundle.linux["netDevices"] = {"itvmissing0": {}}
    r = rt.run(bundle)
    assert r.rc != 0, r
    assert "itvmissing0" in r.err
    rt.assert_nothing_left()


def test_net_device_into_a_joined_namespace(rt, bundle, veth):
    netns = "itns" + uuid.uuid4().hex[:8]
    host_run(["ip", "netns", "add", netns])
    try:
        ns = [n for n in bundle.linux["namespaces"] if n["type"] != "network"]
        bundle.linux["namespaces"] = ns + [{"type": "network",
                                            "path": f"/var/run/netns/{netns}"}]
        bundle.linux["netDevices"] = {veth: {"name": veth}}
        cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
        out = host_run(["ip", "netns", "exec", netns, "ip", "-o", "-4", "addr"])
        assert veth in out and "10.231.7.1/24" in out
    finally:
        host_run(["ip", "netns", "exec", netns, "ip", "link", "del", veth], check=False)
        host_run(["ip", "netns", "del", netns])


def test_net_device_with_user_namespace_is_refused(rt, bundle, veth):
    userns(bundle)
    bundle.linux["netDevices"] = {veth: {}}
    r = rt.run(bundle)
    assert r.rc != 0
    assert "netDevices" in r.err
    assert link_exists(veth)


# -- contest prohibit_symlink: proc and sysfs only on real directories ---------

@pytest.mark.parametrize("where,fstype", [("proc", "proc"), ("sys", "sysfs")])
@pytest.mark.parametrize("target", ["self", "elsewhere"])
def test_proc_and_sys_refuse_a_symlink_destination(rt, bundle, tmp_path, where, fstype, target):
    link = os.path.join(bundle.rootfs, where)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rmdir(link)
    os.symlink(link if target == "self" else str(elsewhere), link)
    r = rt.create(bundle)
    assert r.rc != 0, r
    assert f'filesystem "{fstype}" must be mounted on ordinary directory' in r.err, r.err
    assert os.listdir(elsewhere) == [] and not os.path.ismount(str(elsewhere))
    rt.assert_nothing_left()


@pytest.mark.parametrize("prop", ["rshared", "rslave", "rprivate", "runbindable", "unbindable"])
def test_recursive_rootfs_propagation_starts(rt, bundle, prop):
    # contest rootfs_propagation: each value starts a container; unbindable
    # ones with no masked or read-only paths (their binds would be refused)
    bundle.linux["rootfsPropagation"] = prop
    if "unbindable" in prop:
        bundle.linux["maskedPaths"] = []
        bundle.linux["readonlyPaths"] = []
    m = mounts_by_point(rt.probe(bundle, "mounts"))["/"]
    if prop == "rshared":
        assert any(p.startswith("shared:") for p in m["propagation"]), m
    if "unbindable" in prop:
        assert "unbindable" in m["propagation"], m


def test_idmap_with_propagation_flag_in_userns(rt, bundle, tmp_path):
    src = world_readable_source(tmp_path)
    userns(bundle)
    bundle.config["mounts"].append({"destination": "/tmp/mount-1", "type": "bind",
                                    "source": str(src), "options": ["bind", "shared"],
                                    "uidMappings": USERNS, "gidMappings": USERNS})
    out = rt.probe(bundle, "stat", "/tmp/mount-1/foo.txt", "+", "mounts")
    assert (out[0]["/tmp/mount-1/foo.txt"]["uid"], out[0]["/tmp/mount-1/foo.txt"]["gid"]) == (0, 0)
    m = mounts_by_point(out[1])["/tmp/mount-1"]
    assert any(p.startswith("shared:") for p in m["propagation"]), m


def test_idmap_large_container_ids_without_userns(rt, bundle, tmp_path):
    # contest multiple_idmap_mounts_different_mappings: ids far above the
    # host range map down onto it
    os.chmod(tmp_path, 0o755)
    src = tmp_path / "multi3"
    owned_files(src, [(5000528, 6000491), (5000133, 6000337), (5000999, 6000444)])
    bundle.config["mounts"].append({
        "destination": "/tmp/mount-multi3", "type": "bind", "source": str(src),
        "options": ["bind"],
        "uidMappings": [{"containerID": 5000000, "hostID": 3000, "size": 1000}],
        "gidMappings": [{"containerID": 6000000, "hostID": 3000, "size": 500}]})
    files = ["/tmp/mount-multi3/foo.txt", "/tmp/mount-multi3/bar.txt",
             "/tmp/mount-multi3/baz.txt"]
    assert owners(rt, bundle, *files) == [(3528, 3491), (3133, 3337), (3999, 3444)]


def test_no_mount_namespace_says_what_it_leaves_out(rt, bundle, tmp_path):
    """Without a mount namespace the config's mounts would be host mounts:
    husk does not make them, and says so rather than skipping them silently."""
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"]
                                  if n["type"] not in ("mount", "uts")]
    bundle.config.pop("hostname", None)
    before = host_mounts()
    bundle.set_args("/bin/true")
    log = tmp_path / "husk.log"
    r = rt.run(bundle, global_args=("--log", str(log)))
    assert r.rc == 0, r
    assert "are not applied" in log.read_text()
    assert host_mounts() == before
