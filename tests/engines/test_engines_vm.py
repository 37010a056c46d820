"""Each vm check of each engine is one test: the engine runs a busybox
container through husk-vm (the recipes' VM=1 mode), each in its own VM."""
import pytest

from conftest import CHECKS_VM, ENGINES, XFAIL_VM

CASES = [(engine, check) for engine in ENGINES for check in CHECKS_VM[engine]]


@pytest.mark.parametrize("smoke_vm,check", CASES, indirect=["smoke_vm"],
                         ids=[f"{check}-{engine}-vm" for engine, check in CASES])
def test_engine_vm_check(smoke_vm, check, request):
    reason = XFAIL_VM.get((smoke_vm.engine, check))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))
    if check not in smoke_vm.results:
        pytest.fail(f"{smoke_vm.engine}: vm check {check} did not run\n{smoke_vm.log[-4000:]}")
    assert smoke_vm.results[check], f"{smoke_vm.engine}: vm {check} failed\n{smoke_vm.log[-4000:]}"


@pytest.mark.parametrize("smoke_vm", ENGINES, indirect=True)
def test_engine_vm_teardown_clean(smoke_vm):
    assert smoke_vm.teardown_rc == 0, smoke_vm.log[-4000:]


@pytest.mark.parametrize("smoke_vm", ENGINES, indirect=True)
def test_engine_vm_checks_listed(smoke_vm):
    listed = set(CHECKS_VM[smoke_vm.engine])
    unlisted = sorted(set(smoke_vm.results) - listed)
    assert not unlisted, f"{smoke_vm.engine}: vm checks missing from conftest.CHECKS_VM: {unlisted}"
