"""Where engines depend on it, husk answers like runc: the same scenario is
run with both binaries and the results compared. Runs only against husk,
and only where runc is installed."""

import json
import shutil

import pytest

from conftest import Runtime, is_husk

RUNC = shutil.which("runc")
pytestmark = pytest.mark.skipif(not is_husk() or not RUNC,
                                reason="compares husk with an installed runc")


@pytest.fixture
def pair(runtime, tmp_path):
    """(husk, runc) runtimes; the runtime fixture cleans and checks both."""
    other = Runtime(str(tmp_path / "runc-state"), runtime.iodir)
    other.binary = RUNC
    other.ids, other.bundles, other.pids = runtime.ids, runtime.bundles, runtime.pids
    yield runtime, other
    other.cleanup()


def both(pair, fn):
    return [fn(rt) for rt in pair]


def test_state_and_list_fields(pair, make_bundle):
    def scenario(rt):
        b = make_bundle()
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "30")
        state = rt.state(cid)
        listed = json.loads(rt.list(fmt="json").check().out)[0]
        header = rt.list().check().out.splitlines()[0].split()
        return set(state), set(listed), header, state["status"]

    husk, runc = both(pair, scenario)
    assert husk == runc


@pytest.mark.parametrize("args", [["exit", "0"], ["exit", "7"], ["exit", "255"]])
def test_run_exit_codes(pair, make_bundle, args):
    def scenario(rt):
        b = make_bundle()
        b.set_args("/bin/probe", *args)
        return rt.run(b).rc

    husk, runc = both(pair, scenario)
    assert husk == runc


def test_error_exit_codes(pair, make_bundle):
    def scenario(rt):
        codes = {"state-missing": rt.state_raw("it-missing").rc,
                 "delete-missing": rt.delete("it-missing").rc,
                 "kill-missing": rt.kill("it-missing", "KILL").rc}
        b = make_bundle()
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "30")
        codes["delete-running"] = rt.delete(cid).rc
        codes["start-running"] = rt.start(cid).rc
        rt.kill(cid, "KILL").check()
        rt.wait_status(cid, "stopped")
        codes["kill-stopped"] = rt.kill(cid, "KILL").rc
        codes["delete-stopped"] = rt.delete(cid).rc
        b2 = make_bundle()
        b2.config["root"]["path"] = "missing-rootfs"
        codes["run-missing-rootfs"] = rt.run(b2).rc
        return codes

    husk, runc = both(pair, scenario)
    assert husk == runc


def test_features_has_runc_keys(pair):
    husk, runc = both(pair, lambda rt: json.loads(rt.cmd("features").check().out))
    assert set(runc) <= set(husk)
    assert set(runc["linux"]) <= set(husk["linux"])
    assert set(runc["linux"]["namespaces"]) <= set(husk["linux"]["namespaces"])
    assert set(runc["linux"]["capabilities"]) <= set(husk["linux"]["capabilities"])
