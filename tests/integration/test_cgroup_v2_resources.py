"""Every resource of linux.resources written and enforced on a pure cgroup v2
host, read back from the container's own cgroup2 directory (found through
/proc/<pid>/cgroup), and `update` of each: memory (max, low, high, swap.max,
the OOM kill counted in memory.events), cpu (max, weight, idle, max.burst),
cpuset, pids (a fork refused), io (weight, max with a read throttled on the
host's own disk), `unified`, pause/resume seen in the processes' CPU time, a
cgroup namespace, and a rootless runtime in a subtree that systemd
delegates (Delegate=yes) to an unprivileged user.

They run on a pure cgroup v2 host only (the test host, tests/hosts): on a v1
or hybrid host these files do not exist, the v1 files are covered by
test_cgroup_cmds.py and the cgroup2 code path, in a v2 view of the hybrid
host's hierarchy, by test_cgroup_v2view.py. Each test skips with the reason
where the kernel lacks its file (a kernel without cpu.idle, a disk without
an I/O weight)."""

import json
import os
import pwd
import shutil
import time
import uuid

import pytest

from conftest import CGROUP_ROOT, CGROUP_V2, host_run
from test_rootless import make_rootless

pytestmark = pytest.mark.skipif(
    not CGROUP_V2, reason="needs a pure cgroup v2 host (this one has v1 controllers: its "
    "files are checked by test_cgroup_cmds.py, the cgroup2 path by test_cgroup_v2view.py)")

MiB = 1 << 20


def cgdir(pid):
    """The cgroup2 directory of process pid, on the host."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.join(CGROUP_ROOT, line[3:].strip().lstrip("/"))
    raise AssertionError(f"process {pid} is in no cgroup2 cgroup")


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def keyed(d, name):
    """A flat keyed file (memory.events, pids.events) as a dict of ints."""
    return {k: int(v) for k, v in (line.split() for line in read(d, name).splitlines())}


def need(d, *names):
    for n in names:
        if not os.path.exists(os.path.join(d, n)):
            pytest.skip(f"this kernel has no {n}")


def running(rt, bundle, resources, *args):
    """A container started with these resources; its id, init pid, cgroup dir."""
    bundle.linux["resources"].update(resources)
    cid, pid = rt.start_detached(bundle, *(args or ("sleep", "1000")))
    return cid, pid, cgdir(pid)


def update(rt, cid, *flags, resources=None):
    if resources is not None:
        return rt.cmd("update", "-r", "-", cid, input=json.dumps(resources)).check()
    return rt.cmd("update", *flags, cid).check()


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------
def test_memory_files_written_and_updated(rt, bundle):
    """limit -> memory.max, reservation -> memory.low, swap (memory+swap,
    runc's meaning) -> memory.swap.max as swap minus limit, unified
    memory.high as given; then `update` of each."""
    cid, _, d = running(rt, bundle, {
        "memory": {"limit": 64 * MiB, "reservation": 16 * MiB, "swap": 96 * MiB},
        "unified": {"memory.high": str(48 * MiB)}})
    need(d, "memory.swap.max")
    assert read(d, "memory.max") == str(64 * MiB)
    assert read(d, "memory.low") == str(16 * MiB)
    assert read(d, "memory.swap.max") == str(32 * MiB)
    assert read(d, "memory.high") == str(48 * MiB)
    update(rt, cid, "--memory", "128m", "--memory-swap", "192m",
           "--memory-reservation", "32m")
    assert read(d, "memory.max") == str(128 * MiB)
    assert read(d, "memory.swap.max") == str(64 * MiB)
    assert read(d, "memory.low") == str(32 * MiB)
    update(rt, cid, resources={"unified": {"memory.high": str(100 * MiB)}})
    assert read(d, "memory.high") == str(100 * MiB)
    # -1: unlimited memory and swap
    update(rt, cid, "--memory", "-1", "--memory-swap", "-1")
    assert read(d, "memory.max") == "max"
    assert read(d, "memory.swap.max") == "max"


# dd's 64 MiB buffer is anonymous memory, touched as /dev/zero fills it.
FILL = "dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; exec sleep 1000"


@pytest.mark.parametrize("limit,killed", [(32 * MiB, True), (256 * MiB, False)],
                         ids=["over-limit", "under-limit"])
def test_memory_max_enforced_by_oom_kill(rt, bundle, limit, killed):
    """A process that needs more than memory.max (no swap: swap == limit) is
    OOM-killed, and memory.events counts it; under the limit it is not."""
    cid, _, d = running(rt, bundle, {"memory": {"limit": limit, "swap": limit}},
                        "sh", "-c", FILL)
    out = rt.wait_output(cid, "dd=", timeout=60)
    events = keyed(d, "memory.events")
    if killed:
        assert "dd=137" in out, out  # 128 + SIGKILL
        assert events["oom_kill"] >= 1, events
        assert events["max"] >= 1, events
    else:
        assert "dd=0" in out, out
        assert events["oom_kill"] == 0, events


# --------------------------------------------------------------------------
# cpu, cpuset
# --------------------------------------------------------------------------
def weight_of_shares(shares):
    """runc's and crun's mapping of cpu.shares [2, 262144] onto cpu.weight."""
    return 1 + (shares - 2) * 9999 // 262142


def test_cpu_files_written_and_updated(rt, bundle):
    """quota/period -> cpu.max, shares -> cpu.weight, burst -> cpu.max.burst,
    idle -> cpu.idle; then `update` of each."""
    cid, _, d = running(rt, bundle, {"cpu": {"quota": 50000, "period": 100000,
                                             "shares": 1024, "burst": 20000}})
    need(d, "cpu.idle", "cpu.max.burst")
    assert read(d, "cpu.max") == "50000 100000"
    assert read(d, "cpu.weight") == str(weight_of_shares(1024))
    assert read(d, "cpu.max.burst") == "20000"
    assert read(d, "cpu.idle") == "0"
    update(rt, cid, "--cpu-quota", "30000", "--cpu-period", "60000", "--cpu-share", "512")
    assert read(d, "cpu.max") == "30000 60000"
    assert read(d, "cpu.weight") == str(weight_of_shares(512))
    update(rt, cid, resources={"cpu": {"burst": 10000, "idle": 1}})
    assert read(d, "cpu.max.burst") == "10000"
    assert read(d, "cpu.idle") == "1"
    # the kernel refuses a weight for an idle group, and gives the group the
    # default weight when it stops being idle: the weight must come after
    update(rt, cid, resources={"cpu": {"idle": 0, "shares": 2048}})
    assert read(d, "cpu.idle") == "0"
    assert read(d, "cpu.weight") == str(weight_of_shares(2048))


def test_cpu_idle_at_create(rt, bundle):
    """An idle group has the idle weight whatever the shares (the kernel's)."""
    _, _, d = running(rt, bundle, {"cpu": {"shares": 1024, "idle": 1}})
    need(d, "cpu.idle")
    assert read(d, "cpu.idle") == "1"


def host_cpus():
    """The CPUs the host's root cgroup has, as a list of numbers."""
    cpus = []
    for part in read(CGROUP_ROOT, "cpuset.cpus.effective").split(","):
        lo, _, hi = part.partition("-")
        cpus += range(int(lo), int(hi or lo) + 1)
    return cpus


def allowed_cpus(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    raise AssertionError("no Cpus_allowed_list")


def test_cpuset_written_enforced_and_updated(rt, bundle):
    """cpuset.cpus/mems written, the processes may run on those CPUs only
    (their affinity), and `update` moves them."""
    if not os.path.exists(os.path.join(CGROUP_ROOT, "cpuset.cpus.effective")):
        pytest.skip("no cpuset controller on this host's cgroup2")
    cpus = host_cpus()
    first, last = str(cpus[0]), str(cpus[-1])
    cid, pid, d = running(rt, bundle, {"cpu": {"cpus": last, "mems": "0"}})
    assert read(d, "cpuset.cpus") == last
    assert read(d, "cpuset.mems") == "0"
    assert allowed_cpus(pid) == last
    r = rt.cmd("exec", cid, "grep", "Cpus_allowed_list", "/proc/self/status").check()
    assert r.out.split()[1] == last, r.out
    update(rt, cid, "--cpuset-cpus", first)
    assert read(d, "cpuset.cpus") == first
    assert allowed_cpus(pid) == first


# --------------------------------------------------------------------------
# pids
# --------------------------------------------------------------------------
def test_pids_max_refuses_the_fork(rt, bundle):
    """pids.max 3: the init, an exec'd shell and one child; the shell's
    second fork fails with EAGAIN and pids.events counts it."""
    cid, _, d = running(rt, bundle, {"pids": {"limit": 3}})
    assert read(d, "pids.max") == "3"
    r = rt.cmd("exec", cid, "sh", "-c", "sleep 5 & sleep 5 & echo forked-both")
    assert "forked-both" not in r.out, r
    assert "Resource temporarily unavailable" in r.err, r
    assert keyed(d, "pids.events")["max"] >= 1
    update(rt, cid, "--pids-limit", "9")
    assert read(d, "pids.max") == "9"
    r = rt.cmd("exec", cid, "sh", "-c", "sleep 0.1 & sleep 0.1 & wait; echo forked-both")
    assert "forked-both" in r.out, r


# --------------------------------------------------------------------------
# io
# --------------------------------------------------------------------------
def root_disk():
    """(major, minor, /dev path) of the whole disk that holds /, or skip."""
    dev = os.stat("/").st_dev
    major, minor = os.major(dev), os.minor(dev)
    sysdir = os.path.realpath(f"/sys/dev/block/{major}:{minor}")
    if os.path.exists(os.path.join(sysdir, "partition")):
        sysdir = os.path.dirname(sysdir)
    try:
        with open(os.path.join(sysdir, "dev")) as f:
            major, minor = (int(x) for x in f.read().split(":"))
    except OSError:
        pytest.skip(f"/ is not on a block device ({major}:{minor}: overlay, tmpfs, a VM's "
                    "share)")
    name = os.path.basename(sysdir)
    path = f"/dev/{name}"
    if not os.path.exists(path):
        pytest.skip(f"no {path} node for the disk of /")
    return major, minor, path


def io_weight_of_blkio(weight):
    """runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000]."""
    return 1 + (weight - 10) * 9999 // 990


@pytest.fixture
def iocost_disk():
    """The disk of / with the iocost controller on (io.cost.qos enable=1), for
    per-device weights: a disk without it refuses them (EOPNOTSUPP). Turned
    back off after the test if it was off."""
    major, minor, _ = root_disk()
    qos = os.path.join(CGROUP_ROOT, "io.cost.qos")
    if not os.path.exists(qos):
        pytest.skip("this kernel has no iocost (io.cost.qos)")
    on = f"{major}:{minor} enable=1" in read(CGROUP_ROOT, "io.cost.qos")
    if not on:
        with open(qos, "w") as f:
            f.write(f"{major}:{minor} enable=1")
    try:
        yield major, minor
    finally:
        if not on:
            with open(qos, "w") as f:
                f.write(f"{major}:{minor} enable=0")


def test_io_weight_written_and_updated(rt, bundle, iocost_disk):
    major, minor = iocost_disk
    cid, _, d = running(rt, bundle, {"blockIO": {
        "weight": 500, "weightDevice": [{"major": major, "minor": minor, "weight": 200}]}})
    lines = read(d, "io.weight").splitlines()
    assert lines[0] == f"default {io_weight_of_blkio(500)}", lines
    assert f"{major}:{minor} {io_weight_of_blkio(200)}" in lines, lines
    update(rt, cid, "--blkio-weight", "1000")
    assert read(d, "io.weight").splitlines()[0] == "default 10000"


RATE = 512 * 1024  # bytes a second
READ = 2 * MiB     # read with O_DIRECT, so not from the page cache


def disk_reader(bundle, path, major, minor):
    bundle.config["mounts"].append({"destination": "/dev/disk0", "type": "bind",
                                    "source": path, "options": ["bind", "ro"]})
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "r"})
    return ["sh", "-c", f"dd if=/dev/disk0 of=/dev/null bs=64k count={READ // 65536} "
            "iflag=direct 2>/dev/null; echo dd=$?; exec sleep 1000"]


@pytest.mark.parametrize("throttled", [True, False], ids=["rbps", "unthrottled"])
def test_io_max_throttles_reads(rt, bundle, throttled):
    """throttleReadBpsDevice on the disk of / -> io.max rbps, and a direct
    read of 2 MiB at 512 KiB/s takes ~4 s (without it, well under that)."""
    major, minor, path = root_disk()
    rule = {"major": major, "minor": minor, "rate": RATE}
    res = {"blockIO": {"throttleReadBpsDevice": [rule]}} if throttled else {}
    args = disk_reader(bundle, path, major, minor)
    start = time.monotonic()
    cid, _, d = running(rt, bundle, res, *args)
    assert "dd=0" in rt.wait_output(cid, "dd=", timeout=60)
    took = time.monotonic() - start
    line = [x for x in read(d, "io.max").splitlines() if x.startswith(f"{major}:{minor} ")]
    if not throttled:
        assert line == [] and took < 2.5, (line, took)
        return
    assert line == [f"{major}:{minor} rbps={RATE} wbps=max riops=max wiops=max"], line
    assert took >= 0.75 * READ / RATE, f"read {READ} bytes in {took:.2f} s"
    rule["rate"] = 0  # 0 takes the limit away, as on v1
    update(rt, cid, resources={"blockIO": {"throttleReadBpsDevice": [rule]}})
    assert not [x for x in read(d, "io.max").splitlines() if x.startswith(f"{major}:{minor} ")]


# --------------------------------------------------------------------------
# hugetlb, unified
# --------------------------------------------------------------------------
def test_hugetlb_written_and_updated(rt, bundle):
    if not os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")) or \
            "hugetlb" not in read(CGROUP_ROOT, "cgroup.controllers").split():
        pytest.skip("no hugetlb controller on this host's cgroup2")
    if not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("no 2 MB huge pages on this machine")
    cid, _, d = running(rt, bundle, {"hugepageLimits": [{"pageSize": "2MB",
                                                         "limit": 8 * MiB}]})
    assert read(d, "hugetlb.2MB.max") == str(8 * MiB)
    update(rt, cid, resources={"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]})
    assert read(d, "hugetlb.2MB.max") == str(4 * MiB)


def test_unified_controller_keys_written_and_updated(rt, bundle):
    """`unified` writes any controller's file by name; `update` too."""
    cid, _, d = running(rt, bundle, {"unified": {
        "pids.max": "11", "memory.oom.group": "1", "cpu.weight": "77"}})
    assert read(d, "pids.max") == "11"
    assert read(d, "memory.oom.group") == "1"
    assert read(d, "cpu.weight") == "77"
    update(rt, cid, resources={"unified": {"pids.max": "12", "cpu.weight": "78"}})
    assert read(d, "pids.max") == "12"
    assert read(d, "cpu.weight") == "78"


# --------------------------------------------------------------------------
# freezer, cgroup namespace
# --------------------------------------------------------------------------
def cpu_ticks(pid):
    """utime + stime of pid, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_pause_freezes_the_processes(rt, bundle):
    """pause writes cgroup.freeze: a busy loop gets no CPU time until resume."""
    cid, pid, d = running(rt, bundle, {}, "sh", "-c", "while :; do :; done")
    wait_for(lambda: cpu_ticks(pid) > 5, what="the loop to use CPU")
    rt.cmd("pause", cid).check()
    assert read(d, "cgroup.freeze") == "1"
    wait_for(lambda: "frozen 1" in read(d, "cgroup.events"), what="cgroup.events frozen 1")
    before = cpu_ticks(pid)
    time.sleep(0.5)
    assert cpu_ticks(pid) == before, "a frozen process ran"
    rt.cmd("resume", cid).check()
    assert read(d, "cgroup.freeze") == "0"
    assert "frozen 0" in read(d, "cgroup.events")
    wait_for(lambda: cpu_ticks(pid) > before + 5, what="the loop to run again")


def test_cgroup_namespace_root_is_the_container_cgroup(rt, bundle):
    """In a cgroup namespace the container's cgroup is "/", and a cgroup
    mount there shows the container's own files (its memory.max)."""
    bundle.linux["namespaces"].append({"type": "cgroup"})
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                    "source": "cgroup", "options": ["ro"]})
    cid, pid, d = running(rt, bundle, {"memory": {"limit": 48 * MiB}})
    assert str(pid) in read(d, "cgroup.procs").split()
    r = rt.cmd("exec", cid, "cat", "/proc/self/cgroup", "/sys/fs/cgroup/memory.max").check()
    assert r.out.split() == ["0::/", str(48 * MiB)], r.out
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().strip() != "0::/", "the host sees the container's real cgroup"


# --------------------------------------------------------------------------
# rootless in a delegated subtree
# --------------------------------------------------------------------------
DELEGATE_USER = "huskv2deleg"

# Run as the user in the unit's cgroup: the unit's processes leave it for a
# leaf of their own (cgroup2 enables controllers for the children of a
# cgroup without processes only), then the runtime runs the container in a
# sibling, cgroupsPath "<unit>/ctr". ("echo 0" moves the shell itself:
# systemd would make $$ in a command line "$".)
IN_UNIT = r"""
set -e
unit=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir "$unit/runtime"
echo 0 > "$unit/runtime/cgroup.procs"
exec "$@"
"""

IN_CONTAINER = ("p=$(sed -n 's/^0:://p' /proc/self/cgroup); echo cgroup=$p; "
                "echo memory.max=$(cat /sys/fs/cgroup$p/memory.max); "
                "echo pids.max=$(cat /sys/fs/cgroup$p/pids.max)")


@pytest.fixture(scope="module")
def delegate_user():
    if not os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd is not running: nothing delegates a cgroup subtree here")
    if not shutil.which("systemd-run") or not shutil.which("useradd"):
        pytest.skip("no systemd-run or useradd")
    try:
        return pwd.getpwnam(DELEGATE_USER)
    except KeyError:
        host_run(["useradd", "-M", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0",
                  DELEGATE_USER])
        return pwd.getpwnam(DELEGATE_USER)


def test_rootless_in_a_delegated_subtree(rt, bundle, delegate_user, tmp_path):
    """An unprivileged user's runtime, in a systemd unit with Delegate=yes,
    puts a memory and a pids limit on its container: they land in the
    container's cgroup inside the delegated subtree."""
    uid, gid = delegate_user.pw_uid, delegate_user.pw_gid
    unit = f"husk-deleg-{uuid.uuid4().hex[:8]}"
    for p in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        os.chmod(p, 0o755)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, uid, gid)
    make_rootless(bundle, uid, gid)
    bundle.linux["resources"] = {"memory": {"limit": 40 * MiB}, "pids": {"limit": 21}}
    bundle.linux["cgroupsPath"] = f"/system.slice/{unit}.service/ctr"
    bundle.set_args("sh", "-c", IN_CONTAINER)
    bundle.write()
    cid = rt.new_id()
    out = host_run(["systemd-run", f"--unit={unit}", "--slice=system.slice",
                    f"--uid={uid}", f"--gid={gid}", "-p", "Delegate=yes",
                    "--wait", "--pipe", "--quiet", "--collect",
                    f"--setenv=XDG_RUNTIME_DIR={state}",
                    "sh", "-c", IN_UNIT, "in-unit",
                    rt.binary, "--root", str(state), "run", "--bundle", bundle.path, cid],
                   timeout=120)
    lines = dict(line.split("=", 1) for line in out.split() if "=" in line)
    assert lines.get("cgroup") == f"/system.slice/{unit}.service/ctr", out
    assert lines.get("memory.max") == str(40 * MiB), out
    assert lines.get("pids.max") == "21", out
