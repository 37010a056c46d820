"""Default /dev contents, linux.devices, and the device cgroup."""

import errno
import os

from conftest import husk_only

DEFAULT_DEVICES = {"/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
                   "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0)}
LINKS = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
         "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2",
         "/dev/ptmx": "pts/ptmx"}


def test_default_devices(rt, bundle):
    st = rt.probe(bundle, "stat", *DEFAULT_DEVICES)
    for path, (major, minor) in DEFAULT_DEVICES.items():
        assert st[path]["type"] == "char", path
        assert (st[path]["major"], st[path]["minor"]) == (major, minor), path
        assert st[path]["mode"] == 0o666, path
        assert (st[path]["uid"], st[path]["gid"]) == (0, 0), path


def test_default_links(rt, bundle):
    st = rt.probe(bundle, "stat", *LINKS)
    for path, target in LINKS.items():
        assert st[path]["type"] == "symlink", path
        assert st[path]["target"] == target, path


def test_default_devices_work(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | wc -c && "
                    "head -c 4 /dev/urandom | wc -c")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["4", "4"]


def test_no_host_devices(rt, bundle):
    bundle.set_args("/bin/ls", "/dev")
    r = rt.run(bundle)
    assert r.rc == 0, r
    names = set(r.out.split())
    for host_only in ("vda", "kmsg", "mem", "sda", "loop0"):
        assert host_only not in names


def test_configured_devices(rt, bundle):
    bundle.linux["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 1000, "gid": 100},
        {"path": "/dev/sub/myzero", "type": "c", "major": 1, "minor": 5},
        {"path": "/dev/myblock", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o620},
    ]
    st = rt.probe(bundle, "stat", "/dev/mynull", "/dev/sub/myzero", "/dev/myblock",
                  "/dev/myfifo")
    assert st["/dev/mynull"] == {"type": "char", "mode": 0o640, "uid": 1000, "gid": 100,
                                 "major": 1, "minor": 3}
    assert st["/dev/sub/myzero"]["type"] == "char"
    assert (st["/dev/sub/myzero"]["major"], st["/dev/sub/myzero"]["minor"]) == (1, 5)
    assert st["/dev/myblock"]["type"] == "block"
    assert (st["/dev/myblock"]["major"], st["/dev/myblock"]["minor"]) == (7, 200)
    assert st["/dev/myblock"]["mode"] == 0o600
    assert st["/dev/myfifo"]["type"] == "fifo"
    assert st["/dev/myfifo"]["mode"] == 0o620


FUSE = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}


def test_listed_device_is_usable(rt, bundle):
    bundle.linux["devices"] = [dict(FUSE)]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})
    assert rt.probe(bundle, "open", "/dev/fuse", "rw")["errno"] == 0


def test_device_cgroup_denies_unlisted_devices(rt, bundle):
    # with CAP_MKNOD the container may make a node, but not use it
    s = ["CAP_MKNOD", "CAP_KILL"]
    bundle.process["capabilities"] = {"bounding": s, "permitted": s, "effective": s}
    bundle.set_args("/bin/sh", "-c", "mknod /tmp/fuse c 10 229 2>/dev/null; mknod /tmp/vda b "
                    "254 0 2>/dev/null; /bin/probe open /tmp/fuse rw + open /tmp/vda")
    r = rt.run(bundle)
    assert r.rc == 0, r
    for out in r.lines():
        assert out["errno"] in (1, 2), out  # EPERM from the cgroup, or ENOENT: mknod denied


def test_device_cgroup_deny_rule_wins_over_allow_all(rt, bundle):
    s = ["CAP_MKNOD", "CAP_KILL"]
    bundle.process["capabilities"] = {"bounding": s, "permitted": s, "effective": s}
    bundle.linux["resources"]["devices"] = [
        {"allow": True, "access": "rwm"},
        {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
    ]
    bundle.set_args("/bin/sh", "-c", "mknod /tmp/fuse c 10 229 2>/dev/null; "
                    "/bin/probe open /tmp/fuse rw + open /dev/null rw")
    r = rt.run(bundle)
    assert r.rc == 0, r
    fuse, null = r.lines()
    assert fuse["errno"] in (1, 2)
    assert null["errno"] == 0


USERNS = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@husk_only  # runc 1.1 keeps only the flags of the host's /dev mount
def test_device_binds_in_a_user_namespace_are_nosuid_noexec(rt, bundle):
    # a user namespace may not mknod: the host's nodes are bind-mounted, and
    # those binds carry nosuid,noexec (crun does so; nothing runs from a
    # device node) while the nodes stay usable
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = USERNS
    bundle.linux["devices"] = [dict(FUSE)]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})
    out = rt.probe(bundle, "mounts", "+", "open", "/dev/null", "rw", "+", "open", "/dev/fuse",
                   "rw")
    binds = {m["mount_point"]: m for m in out[0]["mounts"]}
    for path in list(DEFAULT_DEVICES) + ["/dev/fuse"]:
        assert path in binds, f"{path} is not a bind of the host's node"
        assert {"nosuid", "noexec"} <= set(binds[path]["options"].split(",")), binds[path]
    # the bind is the host's node, with its mode: without udev's rule
    # (MODE 0666) the kernel makes /dev/fuse 0600, which the container's
    # root (host uid 100000) may not open
    fuse_errno = 0 if os.stat("/dev/fuse").st_mode & 0o006 == 0o006 else errno.EACCES
    assert out[1]["errno"] == 0 and out[2]["errno"] == fuse_errno, out
