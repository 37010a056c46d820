"""The tmpfs that holds the v1 hierarchies at /sys/fs/cgroup (v1 and hybrid
hosts) is the container's to read, not to write: mode 0555 as runc leaves
it, and, where the config's cgroup mount is read-only, the tmpfs itself
mounted read-only, so that even a root with CAP_DAC_OVERRIDE cannot add to
or hide what it shows."""


import pytest

from conftest import CGROUP_V2, husk_only, is_husk

CGROUP2_SUPER_MAGIC = 0x63677270

pytestmark = pytest.mark.skipif(
    CGROUP_V2, reason="a cgroup2-only host mounts cgroup2 there, no tmpfs")

SCRIPT = """
stat -c 'mode=%a' /sys/fs/cgroup
awk '$5 == "/sys/fs/cgroup" { split($6, o, ","); print "tmpfs=" o[1] }' /proc/self/mountinfo
mkdir /sys/fs/cgroup/husk-test-dir 2>/dev/null && echo mkdir=ok || echo mkdir=refused
"""


def _run(rt, bundle, option, caps=()):
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                    "source": "cgroup",
                                    "options": ["nosuid", "noexec", "nodev", "relatime", option]})
    for k in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][k] += list(caps)
    bundle.set_args("/bin/sh", "-c", SCRIPT)
    r = rt.run(bundle)
    assert r.rc == 0, r
    return dict(line.split("=", 1) for line in r.out.split())


@pytest.mark.parametrize("option", ["ro", "rw"])
def test_cgroup_tmpfs_is_mode_0555(rt, bundle, option):
    got = _run(rt, bundle, option)
    assert got["mode"] == "555", got
    assert got["mkdir"] == "refused", got


@husk_only
def test_read_only_cgroup_mount_makes_the_tmpfs_read_only(rt, bundle):
    # CAP_DAC_OVERRIDE passes the 0555 mode: only a read-only tmpfs stops it
    got = _run(rt, bundle, "ro", caps=["CAP_DAC_OVERRIDE"])
    assert got["tmpfs"] == "ro", got
    assert got["mkdir"] == "refused", got


def test_writable_cgroup_mount_keeps_the_tmpfs_writable(rt, bundle):
    # runc's behaviour: a "rw" cgroup mount leaves the tmpfs read-write
    got = _run(rt, bundle, "rw", caps=["CAP_DAC_OVERRIDE"])
    assert got["tmpfs"] == "rw", got
    if is_husk():
        assert got["mkdir"] == "ok", got
