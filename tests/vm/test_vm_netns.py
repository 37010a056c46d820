"""The container's network namespace in a VM is the guest's own network:
net.* sysctls (every engine sets some: docker always sets
net.ipv4.ip_unprivileged_port_start) apply there, not refused as the host's."""

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
