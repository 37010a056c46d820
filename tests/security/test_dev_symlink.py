"""CVE-2026-41579 (and its crun twin): /dev of the image is a symlink.

The image makes /dev a symlink to a host directory (here a temp dir
standing in for, e.g., /etc).  A runtime that sets up /dev/ptmx, the
/dev/fd, /dev/stdin... links or device nodes by joining paths under the
rootfs before pivot_root follows the link and deletes/creates files on the
host.  The host directory must be left exactly as it was.

Demonstrated against runc 1.1.5: escape succeeded (runc removes the decoy
`ptmx` and creates the /dev symlinks in the host directory).
"""

import os

import pytest


def snapshot(d):
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        st = os.lstat(p)
        if os.path.islink(p):
            out[name] = ("link", os.readlink(p))
        elif os.path.isfile(p):
            with open(p) as f:
                out[name] = ("file", f.read())
        else:
            out[name] = ("other", st.st_mode, st.st_rdev)
    return out


@pytest.fixture
def host_dir(tmp_path):
    d = tmp_path / "host-dir"
    d.mkdir()
    (d / "ptmx").write_text("decoy: a host file named ptmx\n")
    (d / "null").write_text("decoy: a host file named null\n")
    return d


def plant_dev_link(bundle, target):
    dev = bundle.rootfs / "dev"
    dev.rmdir()
    os.symlink(str(target), dev)


@pytest.mark.parametrize("dev_tmpfs", [True, False],
                         ids=["with-dev-tmpfs", "image-dev"])
def test_dev_symlink_does_not_touch_host(rt, bundle, host_dir, dev_tmpfs):
    before = snapshot(host_dir)
    plant_dev_link(bundle, host_dir)
    if not dev_tmpfs:
        bundle.without_dev_tmpfs()
    r = rt.run(bundle)
    after = snapshot(host_dir)
    assert after == before, (
        f"runtime modified the host directory through the /dev symlink "
        f"(run rc={r.returncode}): {before} -> {after}")


def test_dev_relative_symlink_does_not_touch_host(rt, bundle, host_dir):
    before = snapshot(host_dir)
    rel = os.path.relpath(host_dir, "/")
    plant_dev_link(bundle, "../" * 40 + rel)
    rt.run(bundle)
    assert snapshot(host_dir) == before
