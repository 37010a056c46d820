"""The pure cgroup v2 code path, for real, on a host that is not pure v2
(and, at the end, the pure v1 path in a v1 view on a hybrid host).

A "v2 view" is a private mount namespace in which everything under
/sys/fs/cgroup is unmounted and the host's cgroup2 hierarchy is mounted at
/sys/fs/cgroup: the runtime there sees a pure v2 host. On the hybrid test
machine that hierarchy has only the hugetlb controller, so this covers the
core cgroup2 features (cgroup.procs, cgroup.kill, cgroup.freeze/events,
CLONE_INTO_CGROUP, eBPF device filters, unified files) plus hugetlb, and the
honest failure for a controller the hierarchy lacks (memory, pids). On a
pure v2 host, whose hierarchy has every controller, that failure is checked
in a "bare view": a cgroup namespace rooted in a cgroup whose parent enables
no controller.

Every runtime command runs as `nsenter -t <holder> -m <runtime> ...`; the
holder is `unshare -m` sleeping in the view. Cgroup files are read on the host
side through the host's own cgroup2 mount (the same hierarchy). Works with
runc too (HUSK=runc): runc 1.1 supports pure v2.
"""

import json
import os
import subprocess
import time

import husktest
import pytest

from conftest import host_run, husk_only, is_husk, reap_orphans, spawn

# Leaves the holder in the view: unmount the cgroup mounts deepest first
# (umount -R may refuse on some hosts), then mount cgroup2 in their place.
VIEW_SCRIPT = r"""
set -e
for m in $(awk '$2 ~ "^/sys/fs/cgroup/" {print $2}' /proc/self/mounts | sort -r); do
    umount "$m"
done
umount /sys/fs/cgroup 2>/dev/null || true
mount -t cgroup2 none /sys/fs/cgroup
echo ready
exec sleep infinity
"""


def host_cgroup2_mount():
    """Where the host mounts its cgroup2 hierarchy (None if nowhere)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2" and fields[3] == "/":
                return fields[4]
    return None


HOST_V2 = host_cgroup2_mount()

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(HOST_V2 is None, reason="no cgroup2 hierarchy on this host"),
]


# Runs "$@" after moving itself into the host cgroup2 directory "$0".
INTO_CGROUP = 'echo $$ > "$0/cgroup.procs" && exec "$@"'


class View:
    """cgroup: a host cgroup2 directory. The holder moves there and makes a
    cgroup namespace, so the view's cgroup2 mount shows that directory as its
    root, with only the controllers the directory has; every runtime command
    moves there too before it joins the view (its own cgroup is then the
    namespace's root, as for a runtime on a host without systemd)."""

    def __init__(self, script=VIEW_SCRIPT, cgroup=None):
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
        if cgroup:
            argv = ["sh", "-c", INTO_CGROUP, cgroup, "unshare", "-C", *argv[1:]]
        self.cgroup = cgroup
        self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if line.strip() != "ready":
            err = self.proc.stderr.read().decode() if self.proc.poll() is not None else ""
            self.close()
            pytest.skip(f"cannot build the cgroup view: {err.strip() or line!r}")
        self.pid = self.proc.pid
        self.prefix = ["nsenter", "-t", str(self.pid), "-m", "--"]
        if cgroup:
            self.prefix = ["sh", "-c", INTO_CGROUP, cgroup,
                           "nsenter", "-t", str(self.pid), "-m", "-C", "--"]

    def cgdir(self, cid):
        """The container's cgroup2 directory, seen from the host."""
        return os.path.join(self.cgroup, cid) if self.cgroup else cgdir(cid)

    def run(self, *argv, check=True, timeout=60):
        return host_run([*self.prefix, *argv], check=check, timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


STRACE = husktest.STRACE


@pytest.fixture(scope="module")
def view():
    v = View()
    # The view must look pure v2 to anyone who asks.
    mounts = v.run("cat", "/proc/self/mounts")
    cg = [m for m in mounts.splitlines() if " /sys/fs/cgroup" in m]
    assert cg == [m for m in cg if m.split()[1] == "/sys/fs/cgroup"], cg
    assert cg and cg[0].split()[2] == "cgroup2", cg
    yield v
    v.close()


def in_view(runtime, view):
    plain = runtime.argv

    def argv(*args, global_args=()):
        return [*view.prefix, *plain(*args, global_args=global_args)]

    runtime.argv = argv
    runtime.view = view
    return runtime


@pytest.fixture
def vrt(runtime, view):
    """The runtime fixture, every command run inside the v2 view."""
    return in_view(runtime, view)


def _own_cgroup2_parent():
    """Where a container without cgroupsPath goes: runc's rule, which husk
    follows, puts it next to the runtime's own cgroup, in that cgroup's parent
    (the own cgroup holds processes, so it could not enable controllers for a
    child). "/" on a host without systemd; under systemd, the parent of the
    test's service or scope."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.dirname(line[3:].strip())
    return "/"


CG_PARENT = _own_cgroup2_parent()


def cgpath(cid):
    """The container's cgroup2 path, as /proc/<pid>/cgroup shows it."""
    return os.path.join(CG_PARENT, cid)


def cgdir(cid):
    """The container's cgroup2 directory, seen from the host."""
    return os.path.join(HOST_V2, cgpath(cid).lstrip("/"))


def read(cid, name):
    with open(os.path.join(cgdir(cid), name)) as f:
        return f.read().strip()


def v2_controllers():
    with open(os.path.join(HOST_V2, "cgroup.controllers")) as f:
        return f.read().split()


def procs(cid):
    return sorted(int(p) for p in read(cid, "cgroup.procs").split())


def wait_for(cond, timeout=5, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid):
    reap_orphans()
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return data[data.rindex(")") + 2] != "Z"
    except OSError:
        return False


COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 10000; done"


def counter(bundle):
    try:
        with open(os.path.join(bundle.rootfs, "tmp", "count")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def test_container_lands_in_its_own_cgroup2_dir(vrt, bundle):
    cid, pid = vrt.start_detached(bundle, "sleep", "100")
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert f"0::{cgpath(cid)}" in lines, lines
    assert procs(cid) == [pid]
    # the container itself sees the same (no cgroup namespace asked for)
    r = vrt.cmd("exec", cid, "cat", "/proc/self/cgroup").check()
    assert f"0::{cgpath(cid)}" in r.out.splitlines(), r.out


def init_clone3_calls(rt, bundle, tmp_path):
    """`run` of true under strace in rt's view: the container's id and the
    clone3 calls that made its init."""
    trace = str(tmp_path / "strace")
    bundle.set_args("true")
    bundle.write()
    cid = rt.new_id()
    rt.view.run(*STRACE, "-f", "-qq", "-e", "trace=clone3", "-o", trace,
                *rt.argv("run", "--bundle", bundle.path, cid)[len(rt.view.prefix):])
    with open(trace) as f:
        return cid, [line for line in f if "clone3(" in line and "CLONE_NEWPID" in line]


@husk_only
def test_clone_into_cgroup_used(vrt, bundle, tmp_path):
    """Only a pure v2 host gets CLONE_INTO_CGROUP: proves the detection."""
    cid, calls = init_clone3_calls(vrt, bundle, tmp_path)
    assert calls, "no clone3 of the container init"
    assert "CLONE_INTO_CGROUP" in calls[0], calls[0]
    assert not os.path.exists(cgdir(cid))


def test_pause_resume_via_cgroup_freeze(vrt, bundle):
    cid, pid = vrt.start_detached(bundle, "sh", "-c", COUNTER)
    wait_for(lambda: counter(bundle) > 3, what="the counter to start")
    vrt.cmd("pause", cid).check()
    assert read(cid, "cgroup.freeze") == "1"
    assert "frozen 1" in read(cid, "cgroup.events")
    assert vrt.state(cid)["status"] == "paused"
    before = counter(bundle)
    time.sleep(0.3)
    assert counter(bundle) == before, "counter moved while paused"
    vrt.cmd("resume", cid).check()
    assert read(cid, "cgroup.freeze") == "0"
    assert vrt.state(cid)["status"] == "running"
    wait_for(lambda: counter(bundle) > before + 3, what="the counter to go on")


def start_with_extra(vrt, bundle, n=2):
    """A running container with n exec'd processes besides the init."""
    cid, pid = vrt.start_detached(bundle, "sleep", "1000")
    for _ in range(n):
        vrt.cmd_files(cid, "exec", "--detach", cid, "sleep", "1000").check()
    wait_for(lambda: len(procs(cid)) == n + 1, what=f"{n + 1} processes")
    return cid, procs(cid)


def test_kill_all_kills_every_process(vrt, bundle, tmp_path):
    cid, pids = start_with_extra(vrt, bundle)
    trace = str(tmp_path / "strace")
    argv = vrt.argv("kill", "--all", cid, "KILL")[len(vrt.view.prefix):]
    vrt.view.run(*STRACE, "-f", "-qq", "-e", "trace=openat", "-o", trace, *argv)
    wait_for(lambda: not any(alive(p) for p in pids), what="every process to die")
    assert procs(cid) == []
    if is_husk():  # runc 1.1 signals each pid
        with open(trace) as f:
            assert f"/sys/fs/cgroup{cgpath(cid)}/cgroup.kill" in f.read()
    vrt.delete(cid).check()
    assert not os.path.exists(cgdir(cid))


def test_kill_all_term_reaches_every_process(vrt, bundle):
    cid, pids = start_with_extra(vrt, bundle)
    vrt.kill(cid, "TERM", all=True).check()
    # sleep in a pid namespace: the init ignores TERM, the others die
    wait_for(lambda: all(not alive(p) for p in pids[1:] if p != vrt.state(cid)["pid"]),
             what="the exec'd processes to die")
    vrt.kill(cid, "KILL", all=True).check()
    wait_for(lambda: procs(cid) == [], what="the cgroup to empty")


def test_delete_force_kills_and_removes(vrt, bundle):
    cid, pids = start_with_extra(vrt, bundle)
    vrt.cmd("pause", cid).check()  # frozen processes must die too
    vrt.delete(cid, force=True).check()
    wait_for(lambda: not any(alive(p) for p in pids), what="every process to die")
    assert not os.path.exists(cgdir(cid))


def device_probe(vrt, bundle, rules):
    bundle.linux["resources"] = {"devices": rules}
    # /dev/fuse (10:229) is not in the default allow list and opens without
    # any capability, so EPERM can only come from the device filter
    bundle.config["mounts"].append({"destination": "/dev/hostfuse", "type": "bind",
                                    "source": "/dev/fuse", "options": ["bind"]})
    return vrt.probe(bundle, "open", "/dev/null", "rw", "+", "open", "/dev/hostfuse", "rw")


@pytest.mark.parametrize("rules", [[{"allow": False, "access": "rwm"}], []],
                         ids=["deny-all", "no-rules"])
def test_device_filter_denies_outside_allow_list(vrt, bundle, rules):
    """Explicit deny-all, or no rule at all: only the defaults are allowed."""
    null, fuse = device_probe(vrt, bundle, rules)
    assert null["errno"] == 0, null
    assert fuse["errno"] == 1, fuse  # EPERM from the eBPF filter


@pytest.mark.parametrize("rule", [{"allow": True, "access": "rwm"},
                                  {"allow": True, "type": "c", "major": 10, "minor": 229,
                                   "access": "rw"}], ids=["all", "fuse"])
def test_device_filter_allow_rule(vrt, bundle, rule):
    """The same probe with the device allowed: the EPERM above is the filter's."""
    null, fuse = device_probe(vrt, bundle, [{"allow": False, "access": "rwm"}, rule])
    assert null["errno"] == 0 and fuse["errno"] == 0, (null, fuse)


def test_hugetlb_limit_written(vrt, bundle):
    if "hugetlb" not in v2_controllers():
        pytest.skip("no hugetlb controller on cgroup2")
    bundle.linux["resources"]["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 << 20}]
    cid, _ = vrt.start_detached(bundle, "sleep", "100")
    assert read(cid, "hugetlb.2MB.max") == str(4 << 20)
    if os.path.exists(os.path.join(cgdir(cid), "hugetlb.2MB.rsvd.max")) and is_husk():
        assert read(cid, "hugetlb.2MB.rsvd.max") == str(4 << 20)


def test_unified_keys_written(vrt, bundle):
    bundle.linux["resources"]["unified"] = {"cgroup.max.descendants": "7",
                                            "cgroup.max.depth": "3"}
    cid, _ = vrt.start_detached(bundle, "sleep", "100")
    assert read(cid, "cgroup.max.descendants") == "7"
    assert read(cid, "cgroup.max.depth") == "3"


def run_refused(rt, bundle, resources, words):
    """`run` of true with these resources must fail, naming every one of
    words (on husk; runc's messages differ)."""
    bundle.linux["resources"].update(resources)
    bundle.set_args("true")
    r = rt.run(bundle)
    assert r.rc != 0, r
    if is_husk():
        for w in words:
            assert w in r.err, r.err
    return r


def refused(vrt, bundle, resources, *words):
    r = run_refused(vrt, bundle, resources, words)
    assert not os.path.exists(vrt.view.cgdir(r.cid)), "cgroup left behind"
    vrt.assert_nothing_left([r.cid], [bundle])
    return r


def test_unknown_unified_key_refused(vrt, bundle):
    refused(vrt, bundle, {"unified": {"bogus.key": "1"}},
            "linux.resources.unified.bogus.key", "no such file")


@pytest.fixture(scope="module")
def bare_view():
    """A view whose cgroup2 has no controller: a cgroup namespace rooted in
    <host root>/husk-bare-PID/view, whose parent enables none (the way a
    delegated subtree lacks what its owner did not hand down)."""
    top = os.path.join(HOST_V2, f"husk-bare-{os.getpid()}")
    os.makedirs(os.path.join(top, "view"))
    v = View(cgroup=os.path.join(top, "view"))
    try:
        assert v.run("cat", "/sys/fs/cgroup/cgroup.controllers").strip() == ""
        yield v
    finally:
        v.close()
        for d in (os.path.join(top, "view"), top):
            wait_for(lambda d=d: not os.path.exists(os.path.join(d, "cgroup.procs")) or
                     not read_file(os.path.join(d, "cgroup.procs")), what=f"{d} to empty")
            os.rmdir(d)


@pytest.fixture
def lacking(runtime, request):
    """lacking(controller): the runtime in a view whose cgroup2 lacks it:
    the v2 view where the host's hierarchy lacks it (the hybrid machine's
    has hugetlb only), else the bare view (a pure v2 host has them all)."""
    def get(controller):
        name = "view" if controller not in v2_controllers() else "bare_view"
        return in_view(runtime, request.getfixturevalue(name))
    return get


def test_unified_key_of_missing_controller_refused(lacking, bundle):
    refused(lacking("memory"), bundle, {"unified": {"memory.max": "100000000"}},
            "linux.resources.unified.memory.max", "controller not enabled")


def test_memory_limit_without_controller_refused(lacking, bundle):
    refused(lacking("memory"), bundle, {"memory": {"limit": 100 << 20}},
            "linux.resources.memory", "memory cgroup controller is not available")


def test_pids_limit_without_controller_refused(lacking, bundle):
    refused(lacking("pids"), bundle, {"pids": {"limit": 10}}, "linux.resources.pids.limit",
            "pids")


def test_ps_lists_the_pids(vrt, bundle):
    cid, pids = start_with_extra(vrt, bundle)
    r = vrt.cmd("ps", "--format", "json", cid).check()
    assert sorted(r.json()) == pids


def test_events_stats(vrt, bundle):
    cid, pids = start_with_extra(vrt, bundle, n=1)
    vrt.cmd("exec", cid, "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done").check()
    r = vrt.cmd("events", "--stats", cid).check()
    ev = json.loads(r.out)
    assert ev["type"] == "stats" and ev["id"] == cid
    data = ev["data"]
    # cpu.stat is a core cgroup2 file: usage without the cpu controller
    assert data["cpu"]["usage"].get("total", 0) > 0, data["cpu"]
    # no pids controller: counted from cgroup.procs
    assert data["pids"].get("current") == len(pids), data["pids"]
    assert "2MB" in data.get("hugetlb", {}), data.get("hugetlb")


def test_delete_removes_the_cgroup_dir(vrt, bundle):
    bundle.set_args("true")
    r = vrt.create(bundle).check()
    assert os.path.isdir(cgdir(r.cid))
    vrt.start(r.cid).check()
    vrt.wait_status(r.cid, "stopped")
    vrt.delete(r.cid).check()
    assert not os.path.exists(cgdir(r.cid))


@husk_only  # runc 1.1 writes cgroup.freeze=1 at create and hangs forever
@pytest.mark.parametrize("key", ["cgroup.freeze", "cgroup.procs", "cgroup.kill"])
def test_unified_runtime_owned_key_refused(vrt, bundle, key):
    """Freezing at create would hang the start, cgroup.procs would move a host
    process into the container, cgroup.kill would kill it: the runtime owns
    these files (pause, resume, kill)."""
    refused(vrt, bundle, {"unified": {key: "1"}}, f"linux.resources.unified.{key}",
            "managed by the runtime")


# ---------------------------------------------------------------------------
# The v1 view: a hybrid host with its cgroup2 mount taken away looks pure v1.
# ---------------------------------------------------------------------------
V1_SCRIPT = r"""
set -e
umount /sys/fs/cgroup/unified
echo ready
exec sleep infinity
"""

V1_HOST = os.path.isdir("/sys/fs/cgroup/memory") and HOST_V2 == "/sys/fs/cgroup/unified"


@pytest.fixture(scope="module")
def v1view():
    if not V1_HOST:
        pytest.skip("not a hybrid host (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)")
    v = View(V1_SCRIPT)
    assert " /sys/fs/cgroup/unified " not in v.run("cat", "/proc/self/mounts")
    yield v
    v.close()


@pytest.fixture
def v1rt(runtime, v1view):
    return in_view(runtime, v1view)


def v1_dirs(pid):
    """{controller: host directory} of a process's v1 cgroups."""
    dirs = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls:
                name = ctrls[5:] if ctrls.startswith("name=") else ctrls
                dirs[ctrls] = f"/sys/fs/cgroup/{name}{path}"
    return dirs


def read_file(path):
    with open(path) as f:
        return f.read().strip()


def test_v1view_limits_freezer_devices(v1rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 << 20}
    bundle.linux["resources"]["pids"] = {"limit": 50}
    cid, pid = v1rt.start_detached(bundle, "sh", "-c", COUNTER)
    dirs = v1_dirs(pid)
    for ctrl in ("memory", "pids", "freezer", "devices", "cpu"):
        assert dirs[ctrl].endswith("/" + cid), dirs
    assert not os.path.exists(cgdir(cid)), "cgroup2 dir made in a v1 view"
    assert read_file(dirs["memory"] + "/memory.limit_in_bytes") == str(64 << 20)
    assert read_file(dirs["pids"] + "/pids.max") == "50"
    # default allow list only: c 10:229 (fuse) is not in devices.list
    allowed = read_file(dirs["devices"] + "/devices.list").splitlines()
    assert "c 1:3 rwm" in allowed and not any(a.startswith("c 10:229") for a in allowed)
    wait_for(lambda: counter(bundle) > 3, what="the counter to start")
    v1rt.cmd("pause", cid).check()
    assert read_file(dirs["freezer"] + "/freezer.state") == "FROZEN"
    before = counter(bundle)
    time.sleep(0.3)
    assert counter(bundle) == before
    v1rt.cmd("resume", cid).check()
    wait_for(lambda: counter(bundle) > before + 3, what="the counter to go on")
    v1rt.delete(cid, force=True).check()
    for d in dirs.values():
        assert not d.endswith("/" + cid) or not os.path.exists(d), d


def test_v1view_device_filter(v1rt, bundle):
    null, fuse = device_probe(v1rt, bundle, [])
    assert null["errno"] == 0 and fuse["errno"] == 1, (null, fuse)


@husk_only
def test_v1view_no_clone_into_cgroup(v1rt, bundle, tmp_path):
    _, calls = init_clone3_calls(v1rt, bundle, tmp_path)
    assert calls and "CLONE_INTO_CGROUP" not in calls[0], calls


@pytest.mark.parametrize("resources,words", [
    ({"hugepageLimits": [{"pageSize": "2MB", "limit": 1 << 21}]},
     ["linux.resources.hugepageLimits[0]", "hugetlb cgroup controller is not available"]),
    ({"unified": {"cgroup.max.depth": "3"}},
     ["linux.resources.unified", "cgroup v1 only"]),
], ids=["hugetlb", "unified"])
def test_v1view_cgroup2_only_resources_refused(v1rt, bundle, resources, words):
    r = run_refused(v1rt, bundle, resources, words)
    v1rt.assert_nothing_left([r.cid], [bundle])
