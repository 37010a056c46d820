"""The vm backend's container networking: the engine's network namespace
(a veth with addresses and routes) joined to the VM's card by a tap and tc
mirred, the guest card set as the veth was (MAC, addresses, MTU, routes)."""

import os
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest

CAPS = ["CAP_NET_RAW", "CAP_NET_BIND_SERVICE"]


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class NetNS:
    """A network namespace as an engine makes one: eth0, one end of a veth
    pair, with an address, a MAC and a default route via the host's end."""

    def __init__(self, n):
        tag = uuid.uuid4().hex[:6]
        self.name = f"husk-t-{tag}"
        self.path = f"/run/netns/{self.name}"
        self.host_if = f"hv{tag}"
        self.net = f"10.200.{n}"
        self.host_ip, self.guest_ip = f"{self.net}.1", f"{self.net}.2"
        self.mac = f"02:42:0a:c8:{n:02x}:02"
        self.mtu = 1400

    def create(self):
        ip("netns", "add", self.name)
        ip("link", "add", self.host_if, "type", "veth", "peer", "name", "eth0",
           "netns", self.name)
        ip("addr", "add", f"{self.host_ip}/24", "dev", self.host_if)
        ip("link", "set", self.host_if, "mtu", str(self.mtu), "up")
        ns = ["-n", self.name]
        ip(*ns, "link", "set", "eth0", "address", self.mac, "mtu", str(self.mtu), "up")
        ip(*ns, "addr", "add", f"{self.guest_ip}/24", "dev", "eth0")
        ip(*ns, "route", "add", "default", "via", self.host_ip)
        ip(*ns, "route", "add", "192.0.2.0/24", "via", self.host_ip)

    def destroy(self):
        ip("link", "del", self.host_if, check=False)
        ip("netns", "del", self.name, check=False)

    def run(self, *args):
        return ip("-n", self.name, *args, check=False).stdout


@pytest.fixture
def netns(request):
    ns = NetNS(100 + int(uuid.uuid4().int % 100))
    request.addfinalizer(ns.destroy)
    ns.create()
    return ns


@pytest.fixture
def net_bundle(bundle):
    for applet in ("ip", "ping", "nc", "dd", "head"):
        os.symlink("busybox", os.path.join(bundle.rootfs, "bin", applet))
    bundle.config["process"]["capabilities"] = {k: CAPS for k in
                                                ("bounding", "effective", "permitted")}
    return bundle


def tc_qdiscs(ns):
    return subprocess.run(["tc", "-n", ns.name, "qdisc", "show", "dev", "eth0"],
                          capture_output=True, text=True, check=True).stdout


def with_netns(bundle, path):
    entry = {"type": "network", "path": path} if path else {"type": "network"}
    bundle.config["linux"]["namespaces"].append(entry)


def test_guest_card_is_the_veth(vm_ready, husk, net_bundle, netns):
    with_netns(net_bundle, netns.path)
    net_bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "ip -o link show eth0; ip -o addr show eth0; ip route; "
        f"ping -c1 -W5 {netns.host_ip} && echo ping-ok"]
    p = husk("run", "--bundle", net_bundle.path, husk.new_id(), bundle=net_bundle)
    assert p.returncode == 0, p
    out = p.stdout
    assert f"link/ether {netns.mac}" in out, out
    assert f"mtu {netns.mtu}" in out, out
    assert re.search(rf"eth0\s+inet {re.escape(netns.guest_ip)}/24", out), out
    assert f"default via {netns.host_ip} dev eth0" in out, out
    assert f"192.0.2.0/24 via {netns.host_ip} dev eth0" in out, out
    assert "ping-ok" in out, out


def connect_retry(addr, deadline):
    while True:
        try:
            return socket.create_connection(addr, timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_host_reaches_guest_tcp(vm_ready, husk, net_bundle, netns):
    with_netns(net_bundle, netns.path)
    net_bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "echo hello-from-guest | nc -l -p 5555"]
    cid = husk.new_id()
    net_bundle.write()
    proc = subprocess.Popen([husk.binary, "--root", husk.root, "run", "--bundle",
                             net_bundle.path, cid], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the guest answers on the veth's address, from the host's side
        with connect_retry((netns.guest_ip, 5555), time.monotonic() + 90) as s:
            s.settimeout(30)
            got = b""
            while b"\n" not in got:
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
        assert got == b"hello-from-guest\n"
        # while it runs the namespace holds the tap, joined by tc
        taps = netns.run("-o", "link", "show", "type", "tun")
        assert "husktap" in taps or proc.poll() is not None
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()


def test_running_then_deleted_leaves_nothing(vm_ready, husk, net_bundle, netns):
    with_netns(net_bundle, netns.path)
    net_bundle.config["process"]["args"] = ["/bin/sleep", "600"]
    cid = husk.new_id()
    rc, _, err = husk.detached("create", "--bundle", net_bundle.path, cid, bundle=net_bundle)
    assert rc == 0, open(err).read()
    assert "husktap" in netns.run("-o", "link", "show", "type", "tun")
    assert "ingress" in tc_qdiscs(netns)
    filters = subprocess.run(["tc", "-n", netns.name, "filter", "show", "dev", "eth0",
                              "ingress"], capture_output=True, text=True).stdout
    assert "mirred (Egress Redirect to device husktap" in filters, filters
    # from the host, while the container's init only sleeps: the guest's kernel answers
    host_ping = subprocess.run(["busybox", "ping", "-c1", "-W5", netns.guest_ip],
                               capture_output=True)
    assert host_ping.returncode == 0, host_ping
    p = husk("delete", "--force", cid)
    assert p.returncode == 0, p
    assert "husktap" not in netns.run("-o", "link")
    # the namespace is the caller's: still there, eth0 as it was
    assert os.path.exists(netns.path)
    assert f"{netns.guest_ip}/24" in netns.run("-o", "addr", "show", "eth0")


def test_normal_exit_removes_tc(vm_ready, husk, net_bundle, netns):
    with_netns(net_bundle, netns.path)
    p = husk("run", "--bundle", net_bundle.path, husk.new_id(), bundle=net_bundle)
    assert p.returncode == 0, p
    qdiscs = tc_qdiscs(netns)
    assert "ingress" not in qdiscs, qdiscs
    assert "husktap" not in netns.run("-o", "link")


@pytest.mark.parametrize("how", ["kill-monitor", "delete-force"])
def test_killed_monitor_tc_removed_at_delete(vm_ready, husk, net_bundle, netns, how):
    """A monitor killed by SIGKILL cannot take its tc set-up off the veth;
    delete does, from what the monitor recorded in the state directory."""
    with_netns(net_bundle, netns.path)
    net_bundle.config["process"]["args"] = ["/bin/sleep", "600"]
    cid = husk.new_id()
    husk.run_detached(net_bundle, cid)
    assert "ingress" in tc_qdiscs(netns)
    if how == "kill-monitor":
        os.kill(husk.state(cid)["pid"], signal.SIGKILL)
        assert husk.wait_stopped(cid, 10)
        assert "ingress" in tc_qdiscs(netns)  # what delete must undo
        p = husk("delete", cid)
    else:
        p = husk("delete", "--force", cid)
    assert p.returncode == 0, p
    qdiscs = tc_qdiscs(netns)
    assert "ingress" not in qdiscs, qdiscs


@pytest.mark.parametrize("entry", ["new", "none"])
def test_no_namespace_path_gives_only_lo(vm_ready, husk, net_bundle, entry):
    if entry == "new":
        with_netns(net_bundle, None)
    # a bundle's own setting is never passed on: only the monitor sets it
    net_bundle.config["annotations"] = {
        "org.husk.vm.network": '{"interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01",'
                               '"mtu":1500,"addresses":["10.9.9.9/24"],"routes":[]}]}'}
    net_bundle.config["process"]["args"] = ["/bin/sh", "-c", "ip -o link; ip -o addr"]
    p = husk("run", "--bundle", net_bundle.path, husk.new_id(), bundle=net_bundle)
    assert p.returncode == 0, p
    assert " lo:" in p.stdout and "link/ether" not in p.stdout, p.stdout
    assert "10.9.9.9" not in p.stdout


def test_prestart_hook_configures_the_new_namespace(vm_ready, husk, net_bundle, workdir):
    """Docker's way: a new network namespace (no path) that a prestart hook
    fills (libnetwork-setkey moves the veth in and names it eth0). The hooks
    run before the VM boots, so the guest gets that card."""
    tag = uuid.uuid4().hex[:6]
    host_if, n = f"hk{tag}", 100 + int(uuid.uuid4().int % 100)
    host_ip, guest_ip = f"10.201.{n}.1", f"10.201.{n}.2"
    hook = os.path.join(workdir, "prestart.sh")
    with open(hook, "w") as f:
        f.write(f"""#!/bin/sh
set -e
pid=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p')
ip link add {host_if} type veth peer name eth0 netns /proc/$pid/ns/net
ip addr add {host_ip}/24 dev {host_if}
ip link set {host_if} up
nsenter --net=/proc/$pid/ns/net ip addr add {guest_ip}/24 dev eth0
nsenter --net=/proc/$pid/ns/net ip link set eth0 up
""")
    os.chmod(hook, 0o755)
    try:
        with_netns(net_bundle, None)
        net_bundle.config["hooks"] = {"prestart": [{"path": hook}]}
        net_bundle.config["process"]["args"] = [
            "/bin/sh", "-c", f"ip -o -4 addr show eth0; ping -c1 -W5 {host_ip} && echo ping-ok"]
        p = husk("run", "--bundle", net_bundle.path, husk.new_id(), bundle=net_bundle)
        assert p.returncode == 0, p.stderr
        assert f"inet {guest_ip}/24" in p.stdout, p.stdout
        assert "ping-ok" in p.stdout, p.stdout
    finally:
        ip("link", "del", host_if, check=False)
