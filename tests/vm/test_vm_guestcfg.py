"""What the guest gets of the bundle: the network namespace is the guest's own
(net.* sysctls, which every engine sets, apply there), blockIO stays with the
host cgroup."""

import os

from conftest import find_cgroups


def test_net_sysctls_apply_in_the_guest(vm_ready, husk, bundle):
    cid = husk.new_id()
    bundle.config["linux"]["namespaces"].append({"type": "network"})
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "0",
                                        "net.ipv4.tcp_keepalive_time": "1234"}
    with open("/proc/sys/net/ipv4/tcp_keepalive_time") as f:
        host_before = f.read()
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start "
        "/proc/sys/net/ipv4/tcp_keepalive_time"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p
    assert p.stdout.split() == ["0", "1234"], p
    with open("/proc/sys/net/ipv4/tcp_keepalive_time") as f:
        assert f.read() == host_before
    assert not find_cgroups(cid)


def test_blockio_stays_with_the_host(vm_ready, husk, bundle):
    """docker always sends blockIO {"weight": 0}; the guest kernel has no io
    controller, and the guest's I/O is done on the host (virtiofsd, QEMU) in
    the container's host cgroup, so the guest must run without it."""
    cid = husk.new_id()
    bundle.config["linux"]["resources"] = {"blockIO": {"weight": 0}}
    bundle.config["process"]["args"] = ["/bin/echo", "ran"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p
    assert p.stdout == "ran\n", p
    assert not find_cgroups(cid)


def test_new_netns_is_the_monitors(vm_ready, husk, bundle, tmp_path):
    """A new network namespace is made for the monitor (the container's pid
    on the host): prestart hooks such as docker's libnetwork-setkey find it
    at /proc/<pid>/ns/net and set up the container's network there, never
    in the host's."""
    cid = husk.new_id()
    seen = tmp_path / "hook-netns"
    bundle.config["linux"]["namespaces"].append({"type": "network"})
    bundle.config["hooks"] = {"prestart": [{"path": "/usr/bin/python3", "args": [
        "python3", "-c",
        "import json, os, sys; s = json.load(sys.stdin); "
        f"open({str(seen)!r}, 'w').write(os.readlink('/proc/%d/ns/net' % s['pid']))"]}]}
    bundle.config["process"]["args"] = ["/bin/true"]
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode == 0, p
    assert seen.read_text().startswith("net:[")
    assert seen.read_text() != os.readlink("/proc/self/ns/net")
