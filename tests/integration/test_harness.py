"""The leak check itself must be able to fail: it sees a live container."""

import os

from conftest import find_cgroups, host_run


def test_leak_check_sees_a_live_container(rt, bundle, tmp_path):
    hostdir = tmp_path / "shared"
    hostdir.mkdir()
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    left = rt.leftovers([cid], [bundle])
    kinds = {entry.split()[0] for entry in left}
    assert "state" in kinds, left
    assert "process" in kinds, left
    assert "container" in kinds, left  # the init pid
    if find_cgroups([cid]):
        assert "cgroup" in kinds
        # found by its cgroup alone, as a runtime helper without our env is
        assert any("in a cgroup of a test container" in e for e in rt.leftovers([cid], []))
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left([cid], [bundle])


def test_leak_check_sees_a_mount(rt, bundle):
    target = os.path.join(bundle.rootfs, "mnt")
    host_run(["mount", "-t", "tmpfs", "itest", target])
    try:
        assert any(e.startswith("mount ") for e in rt.leftovers([], [bundle]))
    finally:
        host_run(["umount", target])
    assert rt.leftovers([], [bundle]) == []
