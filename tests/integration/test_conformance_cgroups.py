"""Cgroup resources as youki's contest (tests/contest/.../tests/cgroups) and
runtime-tools validation/linux_cgroups_* drive them: create with an absolute
/<top>/<name> cgroupsPath whose parents do not exist yet, then read the
files from the host side: the v1 files on a v1 or hybrid host, the cgroup2
files on a pure v2 host (the test host, docs/testhost.md)."""
import os
import uuid

import pytest

from conftest import (CGROUP_ROOT, CGROUP_V2, cgroup_dirs, cgroup_file, husk_only, is_runc,
                      remove_cgroup_tree)

CPU = os.path.join(CGROUP_ROOT, "cpu")
# Realtime budgets (cpu.rt_runtime_us, cpu.rt_period_us) exist only in the v1
# cpu controller, and only with CONFIG_RT_GROUP_SCHED; cgroup2 has none.
RT_V1 = os.path.exists(os.path.join(CPU, "cpu.rt_runtime_us"))
NO_RT_REASON = ("pure cgroup v2 host: cgroup2 has no realtime budgets (see "
                "test_cpu_realtime_refused_on_v2)" if CGROUP_V2 else
                "kernel without CONFIG_RT_GROUP_SCHED")


def read(controller, path, name):
    with open(cgroup_file(controller, path, name)) as f:
        return f.read().strip()


@pytest.fixture
def top(rt):
    """A fresh parent that the runtime has to create (contest's /runtime-test)."""
    name = "it-conf-" + uuid.uuid4().hex[:8]
    yield name
    for cid in rt.ids:  # a failed test may leave its container in the parent
        rt.delete(cid, force=True)
    remove_cgroup_tree(name)


def create_with(rt, bundle, top, resources):
    cid = rt.new_id()
    path = f"/{top}/{cid}"
    bundle.config["process"]["args"] = ["sleep", "100"]
    bundle.config["linux"]["cgroupsPath"] = path
    bundle.config["linux"]["resources"] = resources
    rt.create(bundle, cid).check()
    return cid, path


@pytest.mark.skipif(not RT_V1, reason=NO_RT_REASON)
@pytest.mark.skipif(is_runc(), reason="runc 1.1 writes the leaf only: EINVAL")
def test_cpu_realtime_in_fresh_parents(rt, bundle, top):
    """contest cgroup_v1_cpu test_linux_cgroups_cpus: realtimePeriod 1000000
    and realtimeRuntime 950000 (set whenever the host has cpu.rt_period_us)
    under a /runtime-test parent that does not exist yet. A new cgroup has no
    realtime budget, so the leaf's runtime is refused unless the parents the
    runtime created get it too."""
    cpu = {"shares": 1024, "quota": 100000, "period": 50000, "cpus": "0", "mems": "0",
           "realtimePeriod": 1000000, "realtimeRuntime": 950000}
    cid, path = create_with(rt, bundle, top, {"cpu": cpu})
    assert read("cpu", path, "cpu.rt_runtime_us") == "950000"
    assert read("cpu", path, "cpu.rt_period_us") == "1000000"
    assert read("cpu", path, "cpu.cfs_quota_us") == "100000"
    assert read("cpu", path, "cpu.cfs_period_us") == "50000"
    assert read("cpuset", path, "cpuset.cpus") == "0"
    rt.delete(cid, force=True).check()
    # the budget went with the parent husk created and removed
    assert not os.path.exists(os.path.join(CPU, top))


def test_cpu_realtime_existing_parent_untouched(rt, bundle, top):
    """A parent that already existed keeps its (zero) budget: husk does not
    take realtime time from someone else's cgroup; create fails and says why."""
    if not RT_V1:
        pytest.skip(NO_RT_REASON)
    os.mkdir(os.path.join(CPU, top))
    cid = rt.new_id()
    bundle.config["linux"]["cgroupsPath"] = f"/{top}/{cid}"
    bundle.config["linux"]["resources"] = {"cpu": {"realtimeRuntime": 950000}}
    r = rt.create(bundle, cid)
    assert r.rc != 0
    assert "rt_runtime_us" in r.err
    assert read("cpu", top, "cpu.rt_runtime_us") == "0"
    rt.assert_nothing_left([cid], [bundle])


def cpu_limit(path):
    """(quota, period) as the host shows them: v1's cpu.cfs_quota_us ("-1"
    when unlimited) and cpu.cfs_period_us; v2's cpu.max, "max 100000" when
    unlimited."""
    if CGROUP_V2:
        quota, period = read("cpu", path, "cpu.max").split()
        return quota, period
    return read("cpu", path, "cpu.cfs_quota_us"), read("cpu", path, "cpu.cfs_period_us")


UNLIMITED = "max" if CGROUP_V2 else "-1"


def test_cpu_negative_quota_is_unlimited(rt, bundle, top):
    """contest cgroup_v2_cpu test_cpu_quota_negative_value_default_set: a
    quota of -9999 means no limit (runc writes it as is; the kernel reads any
    negative cfs_quota_us as unlimited). On v1 the file shows -1, on v2
    cpu.max shows max."""
    cid, path = create_with(rt, bundle, top, {"cpu": {"quota": -9999, "period": 100000}})
    assert cpu_limit(path) == (UNLIMITED, "100000")
    # update with a negative quota lifts a limit set before
    rt.cmd("update", "--cpu-quota", "50000", cid).check()
    assert cpu_limit(path) == ("50000", "100000")
    rt.cmd("update", "--cpu-quota", "-2", cid).check()
    assert cpu_limit(path) == (UNLIMITED, "100000")
    rt.delete(cid, force=True).check()


@pytest.mark.skipif(not os.path.exists(os.path.join(CPU, "cpu.rt_runtime_us")),
                    reason="kernel without CONFIG_RT_GROUP_SCHED")
@pytest.mark.skipif(is_runc(), reason="runc 1.1 writes the leaf only: EINVAL")
def test_update_cpu_realtime_in_fresh_parents(rt, bundle, top):
    """`update --cpu-rt-runtime` on a container whose parents husk created:
    the parents get the budget first, as at create."""
    cid, path = create_with(rt, bundle, top, {"cpu": {"shares": 512}})
    rt.cmd("update", "--cpu-rt-period", "1000000", "--cpu-rt-runtime", "400000", cid).check()
    assert read("cpu", path, "cpu.rt_runtime_us") == "400000"
    assert read("cpu", top, "cpu.rt_runtime_us") == "400000"
    rt.delete(cid, force=True).check()


@pytest.mark.skipif(not CGROUP_V2, reason="not a pure cgroup v2 host: the realtime "
                    "tests above run here instead")
@husk_only
@pytest.mark.parametrize("cpu,field", [({"realtimeRuntime": 950000}, "realtimeRuntime"),
                                       ({"realtimePeriod": 1000000}, "realtimePeriod")])
def test_cpu_realtime_refused_on_v2(rt, bundle, top, cpu, field):
    """cgroup2's cpu controller has no realtime budget: a config that asks
    for one fails at create, naming the field, and leaves nothing behind
    (no cgroup directory, parent included)."""
    cid = rt.new_id()
    bundle.config["linux"]["cgroupsPath"] = f"/{top}/{cid}"
    bundle.config["linux"]["resources"] = {"cpu": {"shares": 1024, **cpu}}
    r = rt.create(bundle, cid)
    assert r.rc != 0, r
    assert f"linux.resources.cpu.{field}: not supported on cgroup v2" in r.err, r.err
    assert cgroup_dirs(top) == []
    rt.assert_nothing_left([cid], [bundle])
