"""Kernel attack surface: the default seccomp profile and capabilities.

With the config that the runtime's own `spec` writes (husk's hardened
default seccomp profile), calls that reach rarely-needed kernel code must
be denied inside the container: keyctl, add_key, bpf, perf_event_open,
unshare(CLONE_NEWUSER), mount, kexec_load, open_by_handle_at, ptrace of
another process.  The attack helper uses harmless arguments and reports
DENIED (EPERM/EACCES/ENOSYS) or REACHED/ALLOWED for each call.

Skipped when the runtime under test is runc: its `spec` has no seccomp
profile.  The companion test runs the same helper in a container without
a seccomp profile and sees several calls reach the kernel, so the check
can fail.
"""

import json
import subprocess

import pytest

CALLS = ["keyctl", "add_key", "bpf", "perf_event_open",
         "unshare(CLONE_NEWUSER)", "mount", "kexec_load",
         "open_by_handle_at", "ptrace"]


def syscall_report(stdout):
    out = {}
    for line in stdout.splitlines():
        if line.startswith("SYSCALL "):
            _, name, verdict, *rest = line.split()
            out[name] = (verdict, rest[0] if rest else "")
    return out


def run_attack(rt, bundle):
    bundle.config["process"]["args"] = ["/attack", "syscalls", "/tmp"]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = syscall_report(r.stdout)
    assert set(rep) == set(CALLS), r.stdout
    return rep


def use_runtime_spec(rt, bundle):
    """Replace the bundle's config by the runtime's own `spec` output."""
    if rt.is_runc:
        pytest.skip("runc's `spec` writes no seccomp profile")
    r = subprocess.run([rt.binary, "spec"], cwd=bundle.path,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    spec = json.loads((bundle.path / "config.json").read_text())
    assert spec.get("linux", {}).get("seccomp"), "`spec` wrote no seccomp"
    spec["root"] = {"path": "rootfs"}
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = bundle.cgroups_path
    bundle.config = spec


def test_default_profile_denies_dangerous_syscalls(rt, bundle):
    use_runtime_spec(rt, bundle)
    rep = run_attack(rt, bundle)
    reached = {k: v for k, v in rep.items() if v[0] != "DENIED"}
    assert not reached, f"calls got past the default profile: {reached}"


def test_no_seccomp_lets_calls_through(rt, bundle):
    """Companion: the same helper without a seccomp profile (default caps
    only): keyctl, add_key, a user namespace and ptrace reach the kernel."""
    assert "seccomp" not in bundle.config["linux"]
    rep = run_attack(rt, bundle)
    for name in ("keyctl", "add_key", "unshare(CLONE_NEWUSER)", "ptrace"):
        assert rep[name][0] != "DENIED", rep


def test_explicit_deny_profile_is_enforced(rt, bundle):
    """A config's own seccomp profile denying these calls is enforced
    (this also checks the helper's DENIED verdicts against runc)."""
    names = ["keyctl", "add_key", "bpf", "perf_event_open", "unshare",
             "mount", "kexec_load", "open_by_handle_at", "ptrace"]
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1}]}
    rep = run_attack(rt, bundle)
    reached = {k: v for k, v in rep.items() if v[0] != "DENIED"}
    assert not reached, reached


def ptrace_outside(rt, make_bundle, tmp_path, hardened):
    """Container B shares container A's pid namespace and ptraces A's
    init, a process outside B."""
    a = make_bundle()
    a.config["process"]["args"] = ["/bin/sleep", "30"]
    with open(tmp_path / "a.out", "w") as f:
        assert rt.create(a, stdout=f).returncode == 0
    assert rt("start", a.cid).returncode == 0
    pid = rt.state(a.cid)["pid"]
    b = make_bundle()
    if hardened:
        use_runtime_spec(rt, b)
    # A's pid namespace belongs to the host's user namespace, so B cannot
    # mount its /proc from a user namespace of its own (the kernel refuses,
    # for runc too): B keeps the hardened profile but no user namespace.
    b.config["linux"]["namespaces"] = [
        {"type": "pid", "path": f"/proc/{pid}/ns/pid"}] + [
        n for n in b.config["linux"]["namespaces"]
        if n["type"] not in ("pid", "user")]
    b.config["linux"].pop("uidMappings", None)
    b.config["linux"].pop("gidMappings", None)
    b.config.pop("annotations", None)  # husk.userns=auto needs the user namespace
    b.config["process"]["args"] = ["/attack", "ptrace-pid", "1"]
    r = rt.run(b)
    assert r.returncode == 0, r.stdout + r.stderr
    return syscall_report(r.stdout)["ptrace-pid"]


def test_default_profile_denies_ptrace_of_other_container(rt, make_bundle,
                                                          tmp_path):
    verdict = ptrace_outside(rt, make_bundle, tmp_path, hardened=True)
    assert verdict[0] == "DENIED", verdict


def test_ptrace_of_other_container_without_seccomp(rt, make_bundle, tmp_path):
    """Companion: without a profile the same ptrace attaches."""
    verdict = ptrace_outside(rt, make_bundle, tmp_path, hardened=False)
    assert verdict[0] == "ALLOWED", verdict
