"""process.rlimits: values within the host's hard limits, and errors."""

import resource

import pytest

from conftest import is_husk

HOST_NOFILE_HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def test_default_nofile(rt, bundle):
    lim = rt.probe(bundle, "rlimits")["RLIMIT_NOFILE"]
    assert lim == {"soft": 1024, "hard": 1024}


def test_several_limits(rt, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_FSIZE", "soft": 1 << 20, "hard": 1 << 21},
        {"type": "RLIMIT_STACK", "soft": 4 << 20, "hard": 8 << 20},
        {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192},
    ]
    lims = rt.probe(bundle, "rlimits")
    for rl in bundle.process["rlimits"]:
        assert lims[rl["type"]] == {"soft": rl["soft"], "hard": rl["hard"]}, rl["type"]


def test_nofile_up_to_host_hard_limit(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": HOST_NOFILE_HARD,
                                  "hard": HOST_NOFILE_HARD}]
    lim = rt.probe(bundle, "rlimits")["RLIMIT_NOFILE"]
    assert lim == {"soft": HOST_NOFILE_HARD, "hard": HOST_NOFILE_HARD}


def test_limit_is_enforced(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}]
    # fds 0-9 fit under a limit of 10; fd 10 does not
    bundle.set_args("/bin/sh", "-c", "exec 9</dev/null; echo nine; exec 10</dev/null; echo ten")
    r = rt.run(bundle)
    assert r.out == "nine\n", r


def test_over_host_hard_limit_fails(rt, bundle):
    with open("/proc/self/status") as f:
        bnd = int([line for line in f if line.startswith("CapBnd:")][0].split()[1], 16)
    if bnd & (1 << 24):
        pytest.skip("root may raise hard limits on this host (CAP_SYS_RESOURCE)")
    over = HOST_NOFILE_HARD + 10000
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": over, "hard": over}]
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "RLIMIT_NOFILE" in r.err
    rt.assert_nothing_left()


def test_soft_above_hard_fails(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 200, "hard": 100}]
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "RLIMIT_NOFILE" in r.err or "rlimits[0]" in r.err, r.err
    rt.assert_nothing_left()


def test_unknown_rlimit_fails(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "RLIMIT_BOGUS" in r.err
    rt.assert_nothing_left()
