"""Cgroup limits and the cgroup commands (update, pause, resume, ps, events)
driven through the real husk binary. Needs root and a busybox binary; the
cgroups are checked from the host side. Self-contained: builds its own
busybox bundle. Runs on a v1 or hybrid host (the v1 files) and on a pure v2
host (the cgroup2 files, as strictly). Run: HUSK=build/husk python3 -m pytest
tests/integration"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

# The suite's reaper thread reaps every child it does not know: commands go
# through its spawn() so their exit status is not stolen.
from conftest import (CGROUP_V2, _finish, cgroup_dirs, cgroup_file, reap_orphans,
                      remove_cgroup_tree, spawn)

HUSK = os.environ.get("HUSK", os.path.join(os.path.dirname(__file__), "../../build/husk"))
BUSYBOX = shutil.which("busybox")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not BUSYBOX or not os.path.exists(HUSK),
    reason="needs root, busybox and a built husk")

APPLETS = ["sh", "sleep", "cat", "head", "tr", "echo", "seq", "true", "ls", "wc", "mv"]


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="husk-cg-")
        self.root = os.path.join(self.dir, "state")
        self.top = "husk-it-" + uuid.uuid4().hex[:8]
        rootfs = os.path.join(self.dir, "rootfs")
        for d in ["bin", "proc", "dev", "sys", "tmp"]:
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy(BUSYBOX, os.path.join(rootfs, "bin/busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
        self.ids = []

    def husk(self, *args, input=None, timeout=30):
        argv = [HUSK, "--root", self.root, *args]
        p = spawn(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = _finish(p, timeout, input)
        return subprocess.CompletedProcess(argv, p.returncode, out, err)

    def bundle(self, cid, args, resources=None, mounts=(), cgroups_path=None):
        b = os.path.join(self.dir, "b-" + cid)
        os.makedirs(b)
        os.symlink(os.path.join(self.dir, "rootfs"), os.path.join(b, "rootfs"))
        r = self.husk("spec", "--bundle", b)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(b, "config.json")) as f:
            c = json.load(f)
        c["process"]["terminal"] = False
        c["process"]["args"] = args
        c["root"]["readonly"] = False
        c["linux"]["cgroupsPath"] = cgroups_path or "/%s/%s" % (self.top, cid)
        c["linux"].setdefault("resources", {}).update(resources or {})
        c["mounts"].extend(mounts)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(c, f)
        return b

    def run_detached(self, cid, args, **kw):
        b = self.bundle(cid, args, **kw)
        self.ids.append(cid)
        # The container keeps run's stdout/stderr: files, not pipes we wait on.
        with open(os.path.join(self.dir, cid + ".out"), "w+") as out:
            p = spawn([HUSK, "--root", self.root, "run", "-d", "--bundle", b, cid],
                      stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            _finish(p, 30)
            out.seek(0)
            assert p.returncode == 0, out.read()
        return b

    def cg(self, controller, cid, name):
        with open(cgroup_file(controller, "%s/%s" % (self.top, cid), name)) as f:
            return f.read().strip()

    def leftovers(self):
        return cgroup_dirs(self.top)

    def close(self):
        for cid in self.ids:
            self.husk("delete", "--force", cid)
        reap_orphans()
        remove_cgroup_tree(self.top)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def env():
    e = Env()
    yield e
    e.close()


# Renamed into place so a read never sees a half-written (empty) file.
COUNTER = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; "
           "mv /tmp/c.new /tmp/count; sleep 0.02; done"]


def count(env, cid):
    with open(os.path.join(env.dir, "rootfs/tmp/count")) as f:
        return int(f.read().strip())


# The memory limit's file; both layouts show it in bytes, rounded down to
# whole pages.
MEMORY_LIMIT = "memory.max" if CGROUP_V2 else "memory.limit_in_bytes"
# cpu.shares as cgroup v2's cpu.weight: runc's and crun's linear mapping of
# [2, 262144] onto [1, 10000], 1 + (shares - 2) * 9999 / 262142.
WEIGHT_OF_SHARES = {512: 20, 1024: 39}


def assert_cpu(env, cid, quota, shares):
    """A 100 ms period with this quota and these shares: v1's cfs_quota_us
    and shares; v2's cpu.max ("quota period") and the shares' weight."""
    if CGROUP_V2:
        assert env.cg("cpu", cid, "cpu.max") == "%d 100000" % quota
        assert env.cg("cpu", cid, "cpu.weight") == str(WEIGHT_OF_SHARES[shares])
    else:
        assert env.cg("cpu", cid, "cpu.cfs_quota_us") == str(quota)
        assert env.cg("cpu", cid, "cpu.cfs_period_us") == "100000"
        assert env.cg("cpu", cid, "cpu.shares") == str(shares)


def test_limits_written_and_update_changes_them(env):
    env.run_detached("c1", ["sleep", "30"], resources={
        "memory": {"limit": 32 << 20}, "pids": {"limit": 20},
        "cpu": {"quota": 20000, "period": 100000, "shares": 512}})
    assert env.cg("memory", "c1", MEMORY_LIMIT) == str(32 << 20)
    assert env.cg("pids", "c1", "pids.max") == "20"
    assert_cpu(env, "c1", 20000, 512)
    r = env.husk("update", "--memory", "64m", "--pids-limit", "40", "--cpu-quota", "50000",
                 "--cpu-share", "1024", "c1")
    assert r.returncode == 0, r.stderr
    assert env.cg("memory", "c1", MEMORY_LIMIT) == str(64 << 20)
    assert env.cg("pids", "c1", "pids.max") == "40"
    assert_cpu(env, "c1", 50000, 1024)
    r = env.husk("update", "-r", "-", "c1", input='{"memory":{"limit":16777216}}')
    assert r.returncode == 0, r.stderr
    assert env.cg("memory", "c1", MEMORY_LIMIT) == "16777216"
    for size, want in [("1.5g", 1610612736), ("100MiB", 100 << 20), ("65536kb", 64 << 20),
                       ("50000000", 50000000)]:
        r = env.husk("update", "--memory", size, "c1")
        assert r.returncode == 0, r.stderr
        assert env.cg("memory", "c1", MEMORY_LIMIT) == str(want // 4096 * 4096)
    r = env.husk("update", "--memory", "lots", "c1")
    assert r.returncode == 1 and "--memory" in r.stderr
    r = env.husk("update", "--l3-cache-schema", "L3:0=f", "c1")
    assert r.returncode == 1 and "Intel RDT" in r.stderr


def test_pause_resume(env):
    env.run_detached("c1", COUNTER)
    for _ in range(100):  # until the counter exists
        if os.path.exists(os.path.join(env.dir, "rootfs/tmp/count")):
            break
        time.sleep(0.05)
    r = env.husk("pause", "c1")
    assert r.returncode == 0, r.stderr
    assert json.loads(env.husk("state", "c1").stdout)["status"] == "paused"
    a = count(env, "c1")
    time.sleep(0.4)
    assert count(env, "c1") == a, "a paused container kept running"
    r = env.husk("pause", "c1")
    assert r.returncode == 1 and "container not running" in r.stderr
    r = env.husk("resume", "c1")
    assert r.returncode == 0, r.stderr
    time.sleep(0.4)
    assert count(env, "c1") > a, "resume did not continue the container"
    r = env.husk("resume", "c1")
    assert r.returncode == 1 and "container not paused" in r.stderr


def test_ps(env):
    env.run_detached("c1", ["sh", "-c", "sleep 30 & sleep 30; true"])
    time.sleep(0.2)
    init = json.loads(env.husk("state", "c1").stdout)["pid"]
    r = env.husk("ps", "--format", "json", "c1")
    assert r.returncode == 0, r.stderr
    pids = json.loads(r.stdout)
    assert init in pids and len(pids) == 3 and pids == sorted(pids)
    r = env.husk("ps", "c1")
    lines = r.stdout.strip().split("\n")
    assert lines[0].split()[1] == "PID" and len(lines) == 4
    assert {int(l.split()[1]) for l in lines[1:]} == set(pids)
    r = env.husk("ps", "c1", "-o", "pid,comm")
    assert r.stdout.split("\n")[0].split() == ["PID", "COMMAND"]


def test_oom_kill_seen_by_events(env):
    env.run_detached("c1", ["sh", "-c", "sleep 1; a=$(head -c 80000000 /dev/zero | tr '\\0' x)"
                            "; sleep 30"], resources={"memory": {"limit": 32 << 20,
                                                                 "swap": 32 << 20}})
    # ~1 s here; ~15 s under emulation (the test host under TCG): the limit
    # only bounds a hang
    r = env.husk("events", "--interval", "300ms", "c1", timeout=60)
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.strip().split("\n")]
    assert {"type": "oom", "id": "c1"} in events
    stats = [e for e in events if e["type"] == "stats"]
    assert stats and stats[0]["id"] == "c1"
    assert stats[0]["data"]["memory"]["usage"]["limit"] == 32 << 20
    assert json.loads(env.husk("state", "c1").stdout)["status"] == "stopped"


def test_events_stats_shape(env):
    env.run_detached("c1", ["sleep", "30"], resources={"pids": {"limit": 7}})
    r = env.husk("events", "--stats", "c1")
    assert r.returncode == 0, r.stderr
    e = json.loads(r.stdout)
    assert e["type"] == "stats" and e["id"] == "c1"
    d = e["data"]
    for k in ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb"]:
        assert k in d
    assert d["pids"] == {"current": 1, "limit": 7}
    assert "kernel" in d["cpu"]["usage"] and "user" in d["cpu"]["usage"]


def test_pids_limit_stops_fork_bomb(env):
    env.run_detached("c1", ["sh", "-c", "for i in $(seq 100); do sleep 5 & done; sleep 30"],
                     resources={"pids": {"limit": 10}})
    time.sleep(0.5)
    assert int(env.cg("pids", "c1", "pids.current")) <= 10
    assert env.cg("pids", "c1", "pids.events") != "max 0"


def test_device_outside_allow_list_denied(env):
    b = env.bundle("c1", ["sh", "-c", "head -c1 /dev/kmsg; echo x > /dev/null && echo null-ok"],
                   mounts=[{"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg",
                            "options": ["bind"]}])
    env.ids.append("c1")
    r = env.husk("run", "--bundle", b, "c1")
    assert "Operation not permitted" in r.stderr
    assert "null-ok" in r.stdout


def test_cpu_quota_throttles(env):
    env.run_detached("c1", ["sh", "-c", "while :; do :; done"],
                     resources={"cpu": {"quota": 10000, "period": 100000}})
    time.sleep(1)
    d = json.loads(env.husk("events", "--stats", "c1").stdout)["data"]
    assert d["cpu"]["throttling"]["throttledPeriods"] > 0


def test_delete_removes_every_cgroup_dir(env):
    env.run_detached("c1", ["sleep", "30"],
                     cgroups_path="/%s/nested/c1" % env.top)
    # one directory per hierarchy: the single cgroup2 tree on pure v2; on v1
    # (hybrid) at least the eight controllers' and name=systemd's
    made = [d for d in env.leftovers() if os.path.isdir(os.path.join(d, "nested/c1"))]
    assert (len(made) == 1) if CGROUP_V2 else (len(made) >= 9), made
    r = env.husk("delete", "--force", "c1")
    assert r.returncode == 0, r.stderr
    assert env.leftovers() == [], "cgroup directories left behind"


@pytest.mark.parametrize("path,msg", [
    ("/a/../../etc", '".." is not allowed'),
    ("system.slice:husk:c1", "needs --systemd-cgroup"),
])
def test_bad_cgroups_path_refused(env, path, msg):
    b = env.bundle("c1", ["true"], cgroups_path=path)
    r = env.husk("run", "--bundle", b, "c1")
    assert r.returncode != 0 and msg in r.stderr
    assert not os.path.exists(os.path.join(env.root, "c1", "state.json"))
