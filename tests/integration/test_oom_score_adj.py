"""process.oomScoreAdj."""

import pytest


def host_oom():
    with open("/proc/self/oom_score_adj") as f:
        return int(f.read())


@pytest.mark.parametrize("value", [500, 1000, host_oom()])
def test_value_is_applied(rt, bundle, value):
    bundle.process["oomScoreAdj"] = value
    assert rt.probe(bundle, "oom")["oom_score_adj"] == value


def test_absent_inherits(rt, bundle):
    assert rt.probe(bundle, "oom")["oom_score_adj"] == host_oom()


def test_runtime_itself_is_unchanged(rt, bundle):
    before = host_oom()
    bundle.process["oomScoreAdj"] = 900
    rt.probe(bundle, "oom")
    assert host_oom() == before
