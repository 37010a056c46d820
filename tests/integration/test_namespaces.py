"""linux.namespaces: new ones, joined ones, user mappings, time offsets, errors."""

import os
import subprocess
import time

import pytest

from conftest import host_ns_inode, is_husk, is_runc

# config type -> name under /proc/self/ns
NS_FILE = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
           "cgroup": "cgroup", "user": "user", "time": "time"}
IDMAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def set_namespaces(bundle, *types, **paths):
    ns = [{"type": t} for t in types]
    ns += [{"type": t, "path": p} for t, p in paths.items()]
    bundle.linux["namespaces"] = ns


def test_default_namespaces_are_new(rt, bundle):
    seen = rt.probe(bundle, "ns")
    for t in ("pid", "network", "ipc", "uts", "mount"):
        assert seen[NS_FILE[t]] != host_ns_inode(NS_FILE[t]), t
    # not asked for: shared with the host
    for t in ("user", "cgroup"):
        assert seen[NS_FILE[t]] == host_ns_inode(NS_FILE[t]), t


@pytest.mark.parametrize("extra", ["cgroup", "user"])
def test_optional_namespace_is_new(rt, bundle, extra):
    bundle.linux["namespaces"].append({"type": extra})
    if extra == "user":
        bundle.linux["uidMappings"] = IDMAP
        bundle.linux["gidMappings"] = IDMAP
    seen = rt.probe(bundle, "ns")
    assert seen[NS_FILE[extra]] != host_ns_inode(NS_FILE[extra])


def test_pid_namespace_makes_init_pid_1(rt, bundle):
    out = rt.probe(bundle, "pid")
    assert out == {"pid": 1, "ppid": 0}


def test_without_pid_namespace_pid_is_the_host_pid(rt, bundle):
    set_namespaces(bundle, "mount", "ipc", "uts", "network")
    cid, pid = rt.start_detached(bundle, "/bin/sh", "-c", "echo $$; exec /bin/probe sleep 30")
    out = rt.wait_output(cid, "\n")
    assert int(out.split()[0]) == pid
    assert os.stat(f"/proc/{pid}/ns/pid").st_ino == host_ns_inode("pid")


def test_network_namespace_has_only_loopback(rt, bundle):
    bundle.set_args("/bin/ls", "/sys/class/net")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["lo"]


# lo's state, then a TCP round trip over 127.0.0.1 (nothing written to files:
# in a user namespace the image's root-owned /tmp is not writable).
LOOPBACK_CHECK = ("cat /sys/class/net/lo/operstate /sys/class/net/lo/flags; "
                  "nc -l -p 4321 & sleep 0.3; echo over-lo | nc -w 2 127.0.0.1 4321; "
                  "sleep 0.1; kill $! 2>/dev/null; wait")


@pytest.mark.parametrize("userns", [False, True], ids=["root", "userns"])
def test_new_network_namespace_has_loopback_up(rt, bundle, userns):
    # as runc and crun: programs expect 127.0.0.1 to answer
    if userns:
        bundle.linux["namespaces"].append({"type": "user"})
        bundle.linux["uidMappings"] = IDMAP
        bundle.linux["gidMappings"] = IDMAP
    bundle.set_args("/bin/sh", "-c", LOOPBACK_CHECK)
    r = rt.run(bundle)
    assert r.rc == 0, r
    operstate, flags, received = r.out.split()
    assert operstate == "unknown"  # lo has no carrier state: up reads "unknown"
    assert int(flags, 16) & 0x1, flags  # IFF_UP
    assert received == "over-lo"


def test_joined_network_namespace_keeps_its_loopback(rt, bundle):
    # only a namespace the runtime creates is set up; a joined one is as it is
    holder = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        path = f"/proc/{holder.pid}/ns/net"
        while os.stat(path).st_ino == host_ns_inode("net") and time.monotonic() < deadline:
            time.sleep(0.01)
        set_namespaces(bundle, "pid", "mount", "ipc", "uts", network=path)
        bundle.set_args("/bin/cat", "/sys/class/net/lo/operstate")
        r = rt.run(bundle)
        assert r.rc == 0, r
        assert r.out.strip() == "down"
    finally:
        holder.kill()
        holder.wait()


def test_join_namespaces_by_path(rt, make_bundle):
    a = make_bundle()
    cid_a, pid_a = rt.start_detached(a, "/bin/probe", "sleep", "60")
    b = make_bundle()
    del b.config["hostname"]
    set_namespaces(b, "pid", "mount", network=f"/proc/{pid_a}/ns/net",
                   ipc=f"/proc/{pid_a}/ns/ipc", uts=f"/proc/{pid_a}/ns/uts")
    out = rt.probe(b, "ns", "+", "hostname")
    for t in ("net", "ipc", "uts"):
        assert out[0][t] == os.stat(f"/proc/{pid_a}/ns/{t}").st_ino, t
    assert out[0]["pid"] != os.stat(f"/proc/{pid_a}/ns/pid").st_ino
    assert out[1]["hostname"] == a.config["hostname"]


def test_join_pid_namespace(rt, make_bundle):
    a = make_bundle()
    cid_a, pid_a = rt.start_detached(a, "/bin/probe", "sleep", "60")
    b = make_bundle()
    set_namespaces(b, "mount", "network", "ipc", "uts", pid=f"/proc/{pid_a}/ns/pid")
    out = rt.probe(b, "pid", "+", "ns")
    assert out[0]["pid"] != 1
    assert out[1]["pid"] == os.stat(f"/proc/{pid_a}/ns/pid").st_ino


def test_join_path_that_is_not_a_namespace_fails(rt, bundle):
    set_namespaces(bundle, "pid", "mount", "ipc", "uts", network="/etc/hostname")
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_join_wrong_namespace_type_fails(rt, make_bundle):
    a = make_bundle()
    cid_a, pid_a = rt.start_detached(a, "/bin/probe", "sleep", "60")
    b = make_bundle()
    set_namespaces(b, "pid", "mount", "ipc", "uts", network=f"/proc/{pid_a}/ns/ipc")
    r = rt.run(b)
    assert r.rc != 0
    rt.assert_nothing_left([r.cid], [b])


def test_user_namespace_with_mappings(rt, bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = IDMAP
    bundle.linux["gidMappings"] = IDMAP
    bundle.set_args("/bin/sh", "-c",
                    "cat /proc/self/uid_map /proc/self/gid_map; /bin/probe ids + caps")
    r = rt.run(bundle)
    assert r.rc == 0, r
    maps = [line.split() for line in r.out.splitlines() if not line.startswith("{")]
    assert maps == [["0", "100000", "65536"], ["0", "100000", "65536"]]
    ids, caps = r.lines()
    assert (ids["uid"], ids["gid"]) == (0, 0)
    assert int(caps["effective"], 16) == (1 << 29) | (1 << 5) | (1 << 10)


def test_user_namespace_host_view(rt, bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = IDMAP
    bundle.linux["gidMappings"] = IDMAP
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    assert status["Uid"].split()[0] == "100000"
    assert status["Gid"].split()[0] == "100000"


def test_user_namespace_without_mappings_fails(rt, bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


@pytest.mark.skipif(is_runc(), reason="runc 1.1 has no time namespace support")
def test_time_namespace_offsets(rt, bundle):
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400 * 10, "nanosecs": 0},
                                   "monotonic": {"secs": 86400, "nanosecs": 0}}
    bundle.set_args("/bin/cat", "/proc/uptime")
    r = rt.run(bundle)
    assert r.rc == 0, r
    uptime = float(r.out.split()[0])
    assert uptime - host_uptime > 86400 * 10 - 60


@pytest.mark.parametrize("bad", [
    [{"type": "bogus"}],
    [{"type": "pid"}, {"type": "pid"}],
    [{"type": ""}],
])
def test_bad_namespace_list_fails(rt, bundle, bad):
    bundle.linux["namespaces"] = [{"type": "mount"}] + bad
    r = rt.run(bundle)
    assert r.rc == 1, r
    if is_husk():
        assert "namespace" in r.err.lower()
    rt.assert_nothing_left()


def userns(bundle, mappings=IDMAP):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = mappings
    bundle.linux["gidMappings"] = mappings


def test_user_namespace_several_ranges(rt, bundle):
    userns(bundle, [{"containerID": 0, "hostID": 100000, "size": 1000},
                    {"containerID": 1000, "hostID": 201000, "size": 100}])
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    with open(f"/proc/{pid}/uid_map") as f:
        rows = sorted(tuple(line.split()) for line in f)
    assert rows == [("0", "100000", "1000"), ("1000", "201000", "100")]
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    assert status["Uid"].split()[0] == "201000"


def test_user_namespace_with_devices_and_readonly_root(rt, bundle):
    userns(bundle)
    bundle.config["root"]["readonly"] = True
    bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                "fileMode": 0o666}]
    out = rt.probe(bundle, "stat", "/dev/fuse", "/dev/null", "+", "open", "/etc/passwd", "rw",
                   "+", "hostname")
    st = out[0]
    assert (st["/dev/fuse"]["type"], st["/dev/fuse"]["major"], st["/dev/fuse"]["minor"]) == \
        ("char", 10, 229)
    assert st["/dev/null"]["type"] == "char"
    assert out[1]["errno"] in (13, 30)
    assert out[2]["hostname"] == "itest"


def test_user_namespace_with_sysctl(rt, bundle):
    userns(bundle)
    bundle.linux["sysctl"] = {"net.ipv4.ping_group_range": "0 0"}
    bundle.set_args("/bin/cat", "/proc/sys/net/ipv4/ping_group_range")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["0", "0"]


def test_user_namespace_with_bind_mount(rt, bundle, tmp_path):
    d = tmp_path / "vol"
    d.mkdir()
    (d / "f").write_text("vol\n")
    os.chmod(d, 0o755)
    for p in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        os.chmod(p, 0o755)
    userns(bundle)
    # the rootfs belongs to host root: the mapped root cannot mkdir in it
    os.mkdir(os.path.join(bundle.rootfs, "vol"))
    bundle.config["mounts"].append({"destination": "/vol", "type": "bind", "source": str(d),
                                    "options": ["rbind", "ro"]})
    bundle.set_args("/bin/cat", "/vol/f")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "vol\n"


def test_cgroup_namespace_hides_the_host_path(rt, bundle):
    bundle.linux["namespaces"].append({"type": "cgroup"})
    bundle.set_args("/bin/cat", "/proc/self/cgroup")
    r = rt.run(bundle)
    assert r.rc == 0, r
    paths = [line.split(":", 2)[2] for line in r.out.splitlines()]
    assert paths and all(p == "/" for p in paths), r.out


def test_without_cgroup_namespace_the_path_names_the_container(rt, bundle):
    bundle.set_args("/bin/cat", "/proc/self/cgroup")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.cid in r.out
