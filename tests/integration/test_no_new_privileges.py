"""process.noNewPrivileges, checked both as a flag and by its effect."""

import os
import shutil

import pytest


@pytest.mark.parametrize("nnp", [True, False])
def test_flag(rt, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    assert rt.probe(bundle, "caps")["no_new_privs"] == int(nnp)


def test_absent_means_false(rt, bundle):
    del bundle.process["noNewPrivileges"]
    assert rt.probe(bundle, "caps")["no_new_privs"] == 0


@pytest.mark.parametrize("nnp", [True, False])
def test_setuid_binary(rt, bundle, nnp):
    # a setuid-root copy of the probe gains euid 0 only without no_new_privs
    suid = os.path.join(bundle.rootfs, "bin", "suid-probe")
    shutil.copy(os.path.join(bundle.rootfs, "bin", "probe"), suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    bundle.process["noNewPrivileges"] = nnp
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("/bin/suid-probe", "ids")
    r = rt.run(bundle)
    assert r.rc == 0, r
    ids = r.lines()[0]
    assert ids["uid"] == 1000
    assert ids["euid"] == (1000 if nnp else 0)
