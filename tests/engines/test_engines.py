"""Each smoke check of each engine is one test: the engine runs a busybox
container through husk and checks what a user of that engine would see."""
import os

import pytest

from conftest import CHECKS, ENGINES, XFAIL_OTHER_RUNTIMES

CASES = [(engine, check) for engine in ENGINES for check in CHECKS[engine]]


@pytest.mark.parametrize("smoke,check", CASES, indirect=["smoke"],
                         ids=[f"{check}-{engine}" for engine, check in CASES])
def test_engine_check(smoke, check, engine_env, request):
    reason = XFAIL_OTHER_RUNTIMES.get((smoke.engine, check))
    if reason and os.path.basename(engine_env["RUNTIME"]) != "husk":
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))
    if check not in smoke.results:
        pytest.fail(f"{smoke.engine}: check {check} did not run\n{smoke.log[-4000:]}")
    assert smoke.results[check], f"{smoke.engine}: {check} failed\n{smoke.log[-4000:]}"


@pytest.mark.parametrize("smoke", ENGINES, indirect=True)
def test_engine_teardown_clean(smoke):
    assert smoke.teardown_rc == 0, smoke.log[-4000:]


@pytest.mark.parametrize("smoke", ENGINES, indirect=True)
def test_engine_checks_listed(smoke):
    unlisted = sorted(set(smoke.results) - set(CHECKS[smoke.engine]))
    assert not unlisted, f"{smoke.engine}: checks missing from conftest.CHECKS: {unlisted}"
