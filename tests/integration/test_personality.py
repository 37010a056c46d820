"""linux.personality (runc 1.1 does not implement it)."""

import pytest

from conftest import is_runc

pytestmark = pytest.mark.skipif(is_runc(), reason="runc 1.1 ignores linux.personality")

PER_LINUX, PER_LINUX32 = 0x0000, 0x0008


def test_linux32(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert rt.probe(bundle, "personality")["personality"] & 0xff == PER_LINUX32


def test_linux(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX"}
    assert rt.probe(bundle, "personality")["personality"] & 0xff == PER_LINUX


def test_linux32_changes_uname_machine(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    bundle.set_args("/bin/uname", "-m")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.strip() in ("i686", "i386")


def test_unknown_domain_fails(rt, bundle):
    bundle.linux["personality"] = {"domain": "WINDOWS"}
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()
