"""Each smoke check of each engine is one test: the engine runs a busybox
container through husk and checks what a user of that engine would see."""
import pytest

from conftest import CHECKS, ENGINES


@pytest.mark.parametrize("smoke", ENGINES, indirect=True)
@pytest.mark.parametrize("check", CHECKS)
def test_engine_check(smoke, check):
    if check not in smoke.results:
        pytest.fail(f"{smoke.engine}: check {check} did not run\n{smoke.log[-4000:]}")
    assert smoke.results[check], f"{smoke.engine}: {check} failed\n{smoke.log[-4000:]}"


@pytest.mark.parametrize("smoke", ENGINES, indirect=True)
def test_engine_teardown_clean(smoke):
    assert smoke.teardown_rc == 0, smoke.log[-4000:]
