"""process.capabilities: every set, functional checks, bad names."""

import pytest

from conftest import husk_only, is_husk

CAP = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
       "CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18,
       "CAP_SYS_ADMIN": 21, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SYS_RESOURCE": 24}


def mask(names):
    m = 0
    for n in names:
        m |= 1 << CAP[n]
    return m


def caps_of(rt, bundle, *extra):
    out = rt.probe(bundle, "caps", *extra)
    c = out if isinstance(out, dict) else out[0]
    return {k: int(c[k], 16) for k in ("inheritable", "permitted", "effective", "bounding",
                                       "ambient")}, out


def set_caps(bundle, **sets):
    bundle.process["capabilities"] = {k: list(v) for k, v in sets.items()}


DEFAULT = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def test_default_sets(rt, bundle):
    caps, _ = caps_of(rt, bundle)
    assert caps["bounding"] == mask(DEFAULT)
    assert caps["effective"] == mask(DEFAULT)
    assert caps["permitted"] == mask(DEFAULT)
    assert caps["inheritable"] == 0, "inheritable must be empty unless the config asks"
    assert caps["ambient"] == 0


def test_each_set_is_independent(rt, bundle):
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT", "CAP_NET_RAW", "CAP_MKNOD"]
    prm = ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT", "CAP_NET_RAW"]
    eff = ["CAP_CHOWN", "CAP_SYS_CHROOT"]
    inh = ["CAP_KILL"]
    set_caps(bundle, bounding=bnd, permitted=prm, effective=eff, inheritable=inh)
    caps, _ = caps_of(rt, bundle)
    assert caps["bounding"] == mask(bnd)
    assert caps["permitted"] == mask(prm)
    # execve as uid 0 raises the effective set to the permitted one
    assert caps["effective"] == mask(prm)
    assert caps["inheritable"] == mask(inh)
    assert caps["ambient"] == 0


def test_ambient(rt, bundle):
    s = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    set_caps(bundle, bounding=s, permitted=s, effective=s, inheritable=s, ambient=["CAP_KILL"])
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps, _ = caps_of(rt, bundle)
    assert caps["ambient"] == mask(["CAP_KILL"])
    # a non-root user's exec keeps exactly the ambient set
    assert caps["effective"] == mask(["CAP_KILL"])


def test_no_capabilities(rt, bundle):
    set_caps(bundle, bounding=[], permitted=[], effective=[], inheritable=[], ambient=[])
    caps, _ = caps_of(rt, bundle)
    assert all(v == 0 for v in caps.values()), caps


def test_missing_capabilities_object_means_none(rt, bundle):
    del bundle.process["capabilities"]
    caps, _ = caps_of(rt, bundle)
    assert caps["effective"] == 0 and caps["permitted"] == 0 and caps["inheritable"] == 0


def test_non_root_user_loses_caps_without_ambient(rt, bundle):
    # execve by a non-root user clears permitted/effective unless ambient
    s = ["CAP_CHOWN", "CAP_SYS_CHROOT"]
    set_caps(bundle, bounding=s, permitted=s, effective=s)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps, out = caps_of(rt, bundle, "+", "ids", "+", "syscall", "chroot")
    assert out[1]["uid"] == 1000
    assert caps["bounding"] == mask(s)
    assert caps["effective"] == 0 and caps["permitted"] == 0
    assert out[2]["chroot"] == 1  # EPERM


def test_non_root_user_with_ambient_caps(rt, bundle):
    s = ["CAP_CHOWN", "CAP_SYS_CHROOT"]
    set_caps(bundle, bounding=s, permitted=s, effective=s, inheritable=s, ambient=s)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps, out = caps_of(rt, bundle, "+", "syscall", "chroot")
    assert caps["effective"] == mask(s)
    assert out[1]["chroot"] == 0


@pytest.mark.parametrize("granted", [False, True])
def test_capability_is_enforced(rt, bundle, granted):
    s = DEFAULT + (["CAP_SYS_CHROOT", "CAP_MKNOD"] if granted else [])
    set_caps(bundle, bounding=s, permitted=s, effective=s)
    # mknod is also governed by the devices cgroup; allow it so only the cap matters
    bundle.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1,
                                                 "minor": 3, "access": "rwm"})
    out = rt.probe(bundle, "syscall", "chroot", "mknod")
    expect = 0 if granted else 1  # EPERM
    assert out["chroot"] == expect
    assert out["mknod"] == expect


def test_capability_outside_host_bounding_set_fails(rt, bundle):
    # root on the test host lacks CAP_SYS_RESOURCE; asking for it cannot work
    with open("/proc/self/status") as f:
        bnd = int([line for line in f if line.startswith("CapBnd:")][0].split()[1], 16)
    if bnd & (1 << CAP["CAP_SYS_RESOURCE"]):
        pytest.skip("this host's root has CAP_SYS_RESOURCE")
    s = DEFAULT + ["CAP_SYS_RESOURCE"]
    set_caps(bundle, bounding=s, permitted=s, effective=s)
    bundle.set_args("/bin/true")
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "CAP_SYS_RESOURCE" in r.err or "capab" in r.err.lower()
    rt.assert_nothing_left()


@husk_only  # runc 1.1 warns and ignores unknown capabilities
def test_unknown_capability_is_an_error(rt, bundle):
    s = DEFAULT + ["CAP_NOT_A_THING"]
    set_caps(bundle, bounding=s, permitted=s, effective=s)
    r = rt.run(bundle)
    assert r.rc == 1
    assert "CAP_NOT_A_THING" in r.err
    rt.assert_nothing_left()


ALL_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
            "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
            "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
            "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]


def test_every_capability_the_host_has(rt, bundle):
    # every name the kernel knows, minus what root on this host lacks
    with open("/proc/self/status") as f:
        host = int([line for line in f if line.startswith("CapBnd:")][0].split()[1], 16)
    names = [n for i, n in enumerate(ALL_CAPS) if host & (1 << i)]
    set_caps(bundle, bounding=names, permitted=names, effective=names)
    caps, _ = caps_of(rt, bundle)
    want = sum(1 << ALL_CAPS.index(n) for n in names)
    assert caps["bounding"] == want
    assert caps["effective"] == want


def test_default_posture_denies_privileged_syscalls(rt, bundle):
    # the default set has no CAP_SYS_ADMIN, CAP_MKNOD or CAP_SYS_CHROOT
    out = rt.probe(bundle, "syscall", "mount", "mknod", "chroot", "sethostname", "bpf",
                   "getpid")
    assert out == {"mount": 1, "mknod": 1, "chroot": 1, "sethostname": 1, "bpf": 1,
                   "getpid": 0}
