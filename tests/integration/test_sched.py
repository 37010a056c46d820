"""process.ioPriority, process.scheduler, process.execCPUAffinity (runtime-spec
1.1/1.2; runc 1.1 has none of them)."""

import os

import pytest

from conftest import is_runc

pytestmark = pytest.mark.skipif(is_runc(), reason="runc 1.1 ignores these process fields")

SCHED_OTHER, SCHED_BATCH, SCHED_IDLE = 0, 3, 5
IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE = 2, 3


def ioprio(cls, level):
    return (cls << 13) | level


def test_defaults_are_inherited(rt, bundle):
    out = rt.probe(bundle, "sched")
    assert out["policy"] == SCHED_OTHER
    assert out["nice"] == os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.parametrize("cls,level,want", [
    ("IOPRIO_CLASS_BE", 6, ioprio(IOPRIO_CLASS_BE, 6)),
    ("IOPRIO_CLASS_IDLE", 0, ioprio(IOPRIO_CLASS_IDLE, 0)),
])
def test_io_priority(rt, bundle, cls, level, want):
    bundle.process["ioPriority"] = {"class": cls, "priority": level}
    assert rt.probe(bundle, "sched")["ioprio"] == want


@pytest.mark.parametrize("policy,want", [("SCHED_BATCH", SCHED_BATCH),
                                         ("SCHED_IDLE", SCHED_IDLE)])
def test_scheduler_policy(rt, bundle, policy, want):
    bundle.process["scheduler"] = {"policy": policy}
    assert rt.probe(bundle, "sched")["policy"] == want


def test_scheduler_nice(rt, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_OTHER", "nice": 7}
    out = rt.probe(bundle, "sched")
    assert (out["policy"], out["nice"]) == (SCHED_OTHER, 7)


def test_unknown_io_priority_class_fails(rt, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BOGUS", "priority": 1}
    r = rt.run(bundle)
    assert r.rc != 0
    assert "ioPriority" in r.err or "IOPRIO_CLASS_BOGUS" in r.err
    rt.assert_nothing_left()


def test_unknown_scheduler_policy_fails(rt, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_BOGUS"}
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs to see a narrower affinity")
def test_exec_cpu_affinity(rt, bundle, tmp_path):
    import json
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
            "args": ["/bin/probe", "sched"], "env": ["PATH=/bin"],
            "execCPUAffinity": {"initial": "0", "final": "0"}}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = rt.cmd("exec", "--process", str(path), cid)
    assert r.rc == 0, r
    assert r.lines()[0]["cpus"] == 1
    # without it, exec gets the container's (here: every CPU)
    r = rt.cmd("exec", cid, "/bin/probe", "sched")
    assert r.lines()[0]["cpus"] == os.cpu_count()
