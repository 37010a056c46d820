"""Resource exhaustion of the host: fork bombs and memory hogs.

A fork bomb must stop at linux.resources.pids.limit, a memory hog must be
OOM-killed at linux.resources.memory.limit, the host must stay usable,
and nothing (process, cgroup, state) may be left behind afterwards.

Against runc 1.1.5: defended.  The companion checks (the counts a
container reaches without limits) show the limits are what stops them.
"""

import os


from conftest import leftovers

PIDS_LIMIT = 32
MEM_LIMIT = 32 << 20


def test_fork_bomb_stops_at_pids_limit(rt, bundle):
    bundle.config["linux"]["resources"]["pids"] = {"limit": PIDS_LIMIT}
    bundle.config["process"]["args"] = ["/attack", "forkbomb", "2000"]
    r = rt.run(bundle, timeout=30)
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("FORKED")]
    assert line, r.stdout
    _, n, err = line[0].split()
    assert int(n) < PIDS_LIMIT, f"forked {n} children past pids.max {PIDS_LIMIT}"
    assert err == "EAGAIN", line
    assert leftovers(rt, bundle) == []


def test_fork_bomb_unlimited_goes_further(rt, bundle):
    """Companion: without a pids limit the same bomb passes the limit
    (bounded at 200 children so the host is never at risk)."""
    bundle.config["process"]["args"] = ["/attack", "forkbomb", "200"]
    r = rt.run(bundle, timeout=30)
    assert "FORKED 200 none" in r.stdout, r.stdout + r.stderr


def test_memory_hog_is_oom_killed(rt, bundle):
    bundle.config["linux"]["resources"]["memory"] = {"limit": MEM_LIMIT,
                                                     "swap": MEM_LIMIT}
    bundle.config["process"]["args"] = ["/attack", "memhog", "256"]
    r = rt.run(bundle, timeout=30)
    assert "ALLOCATED" not in r.stdout, "256 MiB allocated under a 32 MiB limit"
    # killed by SIGKILL (the OOM killer): exit status 128 + 9
    assert r.returncode == 137, (r.returncode, r.stdout, r.stderr)
    assert leftovers(rt, bundle) == []
    # the host is fine: we can still fork and allocate
    assert os.system("true") == 0


def test_memory_hog_unlimited_succeeds(rt, bundle):
    """Companion: 256 MiB is fine without the limit."""
    bundle.config["process"]["args"] = ["/attack", "memhog", "256"]
    r = rt.run(bundle, timeout=30)
    assert "ALLOCATED 256" in r.stdout, r.stdout + r.stderr
