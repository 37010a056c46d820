"""hostname and domainname (need a new UTS namespace)."""

import socket

import pytest

from conftest import is_runc


def test_hostname(rt, bundle):
    bundle.config["hostname"] = "box-1.example"
    assert rt.probe(bundle, "hostname")["hostname"] == "box-1.example"
    assert socket.gethostname() != "box-1.example"


@pytest.mark.skipif(is_runc(), reason="runc 1.1 ignores domainname")
def test_domainname(rt, bundle):
    bundle.config["domainname"] = "corp.example"
    out = rt.probe(bundle, "hostname")
    assert out["domainname"] == "corp.example"
    assert out["hostname"] == "itest"


def test_no_hostname_keeps_the_new_namespace_copy(rt, bundle):
    del bundle.config["hostname"]
    assert rt.probe(bundle, "hostname")["hostname"] == socket.gethostname()


def test_hostname_without_uts_namespace_fails(rt, bundle):
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "uts"]
    bundle.config["hostname"] = "not-allowed"
    r = rt.run(bundle)
    assert r.rc != 0
    assert socket.gethostname() != "not-allowed"
    rt.assert_nothing_left()


def test_empty_hostname_keeps_the_new_namespace_copy(rt, bundle):
    bundle.config["hostname"] = ""
    assert rt.probe(bundle, "hostname")["hostname"] == socket.gethostname()


def test_empty_hostname_needs_no_uts_namespace(rt, bundle):
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "uts"]
    bundle.config["hostname"] = ""
    assert rt.probe(bundle, "hostname")["hostname"] == socket.gethostname()
