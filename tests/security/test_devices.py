"""Device access: the container must not reach host devices.

A hostile image ships a device node for a host block device (here the
machine's /dev/loop0 or its root disk, opened read-only, never written);
opening it must fail because the devices cgroup (v1 list or v2 eBPF
filter) denies everything not allowed.  mknod of a block device must fail
without CAP_MKNOD (the default); when the config grants CAP_MKNOD the node
may be created but must not open.

Against runc 1.1.5: defended.  The companion test opens the same node
outside any container, showing it is a real, openable device.
"""

import os
import stat

import pytest


def host_block_device():
    for cand in ("/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"):
        try:
            st = os.stat(cand)
        except OSError:
            continue
        if stat.S_ISBLK(st.st_mode):
            return cand, os.major(st.st_rdev), os.minor(st.st_rdev)
    pytest.skip("no host block device found")


def test_image_device_node_cannot_be_opened(rt, bundle):
    path, major, minor = host_block_device()
    node = bundle.rootfs / "hostdisk"
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
    bundle.config["process"]["args"] = ["/attack", "open", "/hostdisk", "r"]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    assert "OPEN-FAILED EPERM" in r.stdout, (
        f"container opened host block device {path} ({major}:{minor}): "
        f"{r.stdout}")


@pytest.mark.parametrize("cap_mknod", [False, True],
                         ids=["default-caps", "with-CAP_MKNOD"])
def test_mknod_block_device_denied(rt, bundle, cap_mknod):
    _, major, minor = host_block_device()
    if cap_mknod:
        for k in ("bounding", "effective", "permitted"):
            bundle.config["process"]["capabilities"][k].append("CAP_MKNOD")
    bundle.config["process"]["args"] = ["/attack", "mknod", "/tmp/disk", "b",
                                        str(major), str(minor)]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    if cap_mknod:
        # With CAP_MKNOD granted, creating the node may be allowed (runc
        # allows `b *:* m`), but the node must stay unusable.
        assert ("MKNOD-FAILED EPERM" in r.stdout
                or "MKNOD-OK open=EPERM" in r.stdout), r.stdout
    else:
        assert "MKNOD-FAILED EPERM" in r.stdout, r.stdout


def test_allowed_devices_still_work(rt, bundle):
    """The default allow list keeps /dev/null and friends usable."""
    bundle.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
    bundle.config["process"]["args"] = ["/attack", "open", "/dev/null", "w"]
    r = rt.run(bundle)
    assert "WROTE 6" in r.stdout, r.stdout + r.stderr


def test_device_open_works_without_defence(attack_bin, tmp_path):
    """Companion: the same node, outside any device cgroup, opens."""
    _, major, minor = host_block_device()
    node = tmp_path / "hostdisk"
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
    import subprocess
    r = subprocess.run([str(attack_bin), "open", str(node), "r"],
                       capture_output=True, text=True, timeout=10)
    assert "OPENED" in r.stdout, r.stdout
