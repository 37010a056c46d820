"""Engine tests: Podman, containerd (ctr) and Docker from Debian's packages
drive the freshly built husk through the recipes beside this file."""
import os
import re
import signal
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ["podman", "containerd", "docker"]
# The checks each recipe's `smoke` reports (see README.md beside this file).
BASE_CHECKS = [
    "run-echo", "exit-code", "run-detached", "runtime-selected", "exec", "exec-tty",
    "logs", "pause", "unpause", "stop", "rm", "run-tty", "memory-limit",
    "memory-oom-kill", "pids-limit", "cpu-quota", "user", "read-only", "bind-mount",
    "cap-drop", "network-none",
]
# What each engine exposes beyond those (ctr 1.6 has no restart/wait/bridge/--sysctl/--ulimit
# flags: restart is a new task, hostname/sysctl/ulimit come from a --config spec).
MORE_CHECKS = {
    "podman": [
        "top", "stats", "exec-user", "exec-env", "exec-exit-code", "kill-signal", "kill-paused", "update",
        "join-namespaces", "network-bridge", "network-ping", "restart", "wait", "rm-state",
        "privileged", "privileged-userns", "userns-map", "exec-userns", "userns-auto",
        "userns-auto-disjoint", "tmpfs", "device", "sysctl", "ulimit", "hostname", "env", "workdir",
        "init",
    ],
    "containerd": [
        "top", "stats", "exec-user", "exec-cwd", "exec-exit-code", "kill-signal", "kill-paused",
        "restart", "join-namespaces", "rm-state", "privileged", "userns-map", "userns-auto", "tmpfs", "device", "env", "workdir",
        "hostname", "sysctl", "ulimit",
    ],
    "docker": [
        "top", "stats", "exec-user", "exec-env", "exec-exit-code", "kill-signal", "kill-paused", "update",
        "join-namespaces", "network-bridge", "network-ping", "restart", "wait", "rm-state",
        "privileged", "cap-add-all", "userns-remap", "tmpfs", "device", "sysctl", "ulimit", "hostname", "env", "workdir",
        "init",
    ],
}
CHECKS = {engine: BASE_CHECKS + MORE_CHECKS[engine] for engine in ENGINES}
# Host limitations that only other runtimes trip over: (engine, check) -> reason. These are
# expected to fail unless the runtime under test is husk (named husk), which must pass them.
XFAIL_OTHER_RUNTIMES = {
    ("docker", "privileged"):
        "docker --privileged asks for every capability and this host's root lacks "
        "CAP_SYS_RESOURCE, so the run must fail; the check wants the error to name the "
        "capability, and runc 1.1.5 says only 'unable to apply caps: operation not permitted'",
    ("containerd", "userns-auto"):
        "husk's own annotations (husk.userns=auto, husk.rootfs.idmap=true): another runtime "
        "has no range to give the user namespace",
}
# VM=1 (test_engines_vm.py): the recipes drive husk-vm, each container in its own VM. A smaller
# set: what acts on the host kernel from inside (sysctl, devices, --privileged, user namespaces)
# or joins another container's namespaces does not apply to a VM.
VM_BASE_CHECKS = [
    "run-echo", "in-vm", "exit-code", "run-detached", "runtime-selected", "logs", "exec",
    "exec-exit-code", "exec-tty", "run-tty", "memory-vm", "network-none",
]
VM_MORE_CHECKS = {
    "podman": ["exec-env", "pause", "unpause", "stop", "rm", "stop-kill", "rm-state", "user",
               "bind-mount", "network-bridge"],
    "containerd": ["exec-cwd", "top", "kill-signal", "stop", "rm", "kill"],
    "docker": ["exec-env", "stop", "rm", "stop-kill", "rm-state", "bind-mount", "network-bridge"],
}
CHECKS_VM = {engine: VM_BASE_CHECKS + VM_MORE_CHECKS[engine] for engine in ENGINES}
# vm checks expected to fail: (engine, check) -> reason. None now: Docker's
# bridge network works since prestart hooks run before the VM boots.
XFAIL_VM = {}
LINE = re.compile(r"^(ok|not ok) - (\S+)")


# Step limits (s). A step past its limit is killed with everything it started (its own process
# group), so one hung engine command costs minutes, never the whole CI run.
STEP_LIMIT = {"setup": 600, "start": 180, "smoke": 420, "teardown": 180}


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def recipe(engine, action, env):
    p = subprocess.Popen(["sh", os.path.join(HERE, f"{engine}.sh"), action], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    limit = STEP_LIMIT[action]
    try:
        out, err = p.communicate(timeout=limit)
        return Result(p.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        try:  # a daemon started by the step may still hold the pipes: do not wait on it
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        p.wait()
        return Result(124, out, f"{err}\n{engine}.sh {action}: killed after {limit} s\n")


@pytest.fixture(scope="session")
def engine_env(tmp_path_factory):
    runtime = os.environ.get("HUSK")
    if not runtime:
        pytest.skip("HUSK is not set")
    env = dict(os.environ)
    env["RUNTIME"] = os.path.realpath(runtime)
    env["ENGINES_DIR"] = os.environ.get("HUSK_ENGINES_DIR", "/tmp/husk-eng")
    env.pop("ASAN_OPTIONS", None)
    env.pop("UBSAN_OPTIONS", None)
    return env


@pytest.fixture(scope="session")
def vm_engine_env():
    """RUNTIME is husk-vm beside HUSK (HUSK_VM overrides it), by its own name: a symlink to
    husk, so no realpath. Without a guest kernel or agent beside it: skip, or fail with
    HUSK_VM_REQUIRED=1."""
    husk = os.environ.get("HUSK")
    if not husk:
        pytest.skip("HUSK is not set")
    if os.environ.get("HUSK_SKIP_VM") == "1":
        pytest.skip("HUSK_SKIP_VM=1")
    runtime = os.path.abspath(os.environ.get("HUSK_VM") or
                              os.path.join(os.path.dirname(os.path.realpath(husk)), "husk-vm"))
    missing = pytest.fail if os.environ.get("HUSK_VM_REQUIRED") == "1" else pytest.skip
    vm_dir = os.path.join(os.path.dirname(os.path.realpath(runtime)), "vm")
    for path in (runtime, os.path.join(vm_dir, "vmlinux"), os.path.join(vm_dir, "husk-agent.cpio")):
        if not os.path.exists(path):
            missing(f"no {path} (ninja -C build && make vm-kernel)")
    env = dict(os.environ)
    env["RUNTIME"] = runtime
    env["VM"] = "1"
    env["ENGINES_DIR"] = os.environ.get("HUSK_ENGINES_DIR", "/tmp/husk-eng")
    env.pop("ASAN_OPTIONS", None)
    env.pop("UBSAN_OPTIONS", None)
    return env


class SmokeRun:
    def __init__(self, engine, env):
        self.engine = engine
        self.results = {}
        self.log = ""
        steps = ["setup"] + (["start"] if engine != "podman" else []) + ["smoke"]
        try:
            for step in steps:
                p = recipe(engine, step, env)
                self.log += f"$ {engine}.sh {step} (rc={p.returncode})\n{p.stdout}{p.stderr}"
                if step != "smoke" and p.returncode != 0:
                    break
                if step == "smoke":
                    for line in p.stdout.splitlines():
                        m = LINE.match(line)
                        if m:
                            self.results[m.group(2)] = m.group(1) == "ok"
        finally:
            p = recipe(engine, "teardown", env)
            self.log += f"$ {engine}.sh teardown (rc={p.returncode})\n{p.stdout}{p.stderr}"
            self.teardown_rc = p.returncode


@pytest.fixture(scope="session")
def smoke_runs(engine_env):
    return {}


@pytest.fixture
def smoke(smoke_runs, engine_env, request):
    engine = request.param
    if engine not in smoke_runs:
        smoke_runs[engine] = SmokeRun(engine, engine_env)
    return smoke_runs[engine]


@pytest.fixture
def smoke_vm(smoke_runs, vm_engine_env, request):
    engine = request.param
    if (engine, "vm") not in smoke_runs:
        smoke_runs[(engine, "vm")] = SmokeRun(engine, vm_engine_env)
    return smoke_runs[(engine, "vm")]
