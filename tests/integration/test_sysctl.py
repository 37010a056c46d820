"""linux.sysctl: namespaced keys are set inside, the host is untouched."""


def host_sysctl(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()


def read_inside(rt, bundle, *keys):
    bundle.set_args("/bin/cat", *["/proc/sys/" + k.replace(".", "/") for k in keys])
    r = rt.run(bundle)
    assert r.rc == 0, r
    return r.out.split()


def test_net_sysctl_in_network_namespace(rt, bundle):
    before = host_sysctl("net.ipv4.ip_forward")
    want = "0" if before == "1" else "1"
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": want,
                              "net.ipv4.ping_group_range": "0 2147483647"}
    got = read_inside(rt, bundle, "net.ipv4.ip_forward", "net.ipv4.ping_group_range")
    assert got == [want, "0", "2147483647"]
    assert host_sysctl("net.ipv4.ip_forward") == before


def test_kernel_ipc_sysctl_in_ipc_namespace(rt, bundle):
    before = host_sysctl("kernel.msgmax")
    bundle.linux["sysctl"] = {"kernel.msgmax": "4096", "kernel.shmmni": "1000"}
    assert read_inside(rt, bundle, "kernel.msgmax", "kernel.shmmni") == ["4096", "1000"]
    assert host_sysctl("kernel.msgmax") == before


def test_net_sysctl_without_network_namespace_fails(rt, bundle):
    before = host_sysctl("net.ipv4.ip_forward")
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"]
                                  if n["type"] != "network"]
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "0" if before == "1" else "1"}
    r = rt.run(bundle)
    assert r.rc != 0
    assert host_sysctl("net.ipv4.ip_forward") == before
    rt.assert_nothing_left()


def test_non_namespaced_sysctl_fails(rt, bundle):
    before = host_sysctl("kernel.panic")
    bundle.linux["sysctl"] = {"kernel.panic": "17"}
    r = rt.run(bundle)
    assert r.rc != 0
    assert host_sysctl("kernel.panic") == before
    rt.assert_nothing_left()


def test_unknown_sysctl_fails(rt, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.no_such_knob": "1"}
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_sysctl_path_escape_is_rejected(rt, bundle):
    bundle.linux["sysctl"] = {"net/../../kernel/panic": "17"}
    before = host_sysctl("kernel.panic")
    r = rt.run(bundle)
    assert r.rc != 0
    assert host_sysctl("kernel.panic") == before
    rt.assert_nothing_left()
