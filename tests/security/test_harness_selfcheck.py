"""Self-check of the suite's own cleanup detector: leftovers() must see a
running container (state dir, cgroup, process) and nothing after delete,
or every "leaves nothing behind" assertion in this suite is hollow."""

from conftest import leftovers


def test_leftovers_sees_a_running_container(rt, bundle, tmp_path):
    bundle.config["process"]["args"] = ["/bin/sleep", "30"]
    bundle.config["linux"]["resources"]["pids"] = {"limit": 100}
    with open(tmp_path / "out", "w") as f:
        assert rt.create(bundle, stdout=f).returncode == 0
    assert rt("start", bundle.cid).returncode == 0
    found = leftovers(rt, bundle)
    kinds = {f.split()[0] for f in found}
    assert {"state", "cgroup", "process"} <= kinds, found
    rt("kill", bundle.cid, "KILL")
    rt.wait_stopped(bundle.cid)
    assert rt("delete", bundle.cid).returncode == 0
    assert leftovers(rt, bundle) == []
