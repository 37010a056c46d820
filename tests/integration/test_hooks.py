"""hooks: all six kinds, their order, the state on stdin, failures, timeouts."""

import json
import os
import time

import pytest

from conftest import is_runc, processes

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


@pytest.fixture
def hookdir(tmp_path):
    d = tmp_path / "hooks"
    d.mkdir()
    return str(d)


def recorder(hookdir, kind):
    """A hook that saves its stdin (the state) and appends its name to `order`.
    /bin/sh exists on the host and in the rootfs: startContainer runs inside."""
    return {"path": "/bin/sh",
            "args": ["sh", "-c", f"cat > {hookdir}/{kind}.json; echo {kind} >> {hookdir}/order"]}


def share_hookdir(bundle, hookdir):
    # the same path inside the container, for hooks run in its namespaces
    bundle.config["mounts"].append({"destination": hookdir, "type": "bind", "source": hookdir,
                                    "options": ["bind"]})


def order(hookdir):
    try:
        with open(os.path.join(hookdir, "order")) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def hook_state(hookdir, kind):
    with open(os.path.join(hookdir, f"{kind}.json")) as f:
        return json.load(f)


def wait_for(pred, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def lifecycle_with_all_hooks(rt, bundle, hookdir):
    """create, start, kill, delete; returns (id, init pid, order after each step)."""
    share_hookdir(bundle, hookdir)
    bundle.config["hooks"] = {k: [recorder(hookdir, k)] for k in KINDS}
    bundle.set_args("/bin/probe", "signal-wait")
    cid = rt.create(bundle).check().cid
    pid = rt.state(cid)["pid"]
    steps = {"create": order(hookdir)}
    rt.start(cid).check()
    rt.wait_output(cid, "ready")
    steps["start"] = order(hookdir)
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    steps["exit"] = order(hookdir)
    rt.delete(cid).check()
    steps["delete"] = order(hookdir)
    return cid, pid, steps


def test_hook_order(rt, bundle, hookdir):
    cid, pid, steps = lifecycle_with_all_hooks(rt, bundle, hookdir)
    created = [k for k in steps["create"] if k != "poststart"]  # see the next test
    assert sorted(created[:2]) == ["createRuntime", "prestart"]
    assert created[2:] == ["createContainer"]
    assert "startContainer" in steps["start"]
    assert "poststop" not in steps["exit"], "poststop runs at delete, not at exit"
    assert steps["delete"][-1] == "poststop"
    assert sorted(steps["delete"]) == sorted(KINDS)


@pytest.mark.skipif(is_runc(), reason="runc 1.1 runs poststart hooks during create")
def test_poststart_runs_at_start_after_start_container(rt, bundle, hookdir):
    cid, pid, steps = lifecycle_with_all_hooks(rt, bundle, hookdir)
    assert "poststart" not in steps["create"]
    assert steps["start"][3:] == ["startContainer", "poststart"]


def test_hook_state_on_stdin(rt, bundle, hookdir):
    cid, pid, steps = lifecycle_with_all_hooks(rt, bundle, hookdir)
    for kind in KINDS:
        st = hook_state(hookdir, kind)
        assert st["id"] == cid, kind
        assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path), kind
        assert "ociVersion" in st, kind
        if kind in ("createContainer", "startContainer") and is_runc():
            continue  # runc 1.1 gives the pid as seen inside the container (1)
        if kind != "poststop":
            assert st["pid"] == pid, kind
    assert hook_state(hookdir, "createRuntime")["status"] == "creating"
    assert hook_state(hookdir, "prestart")["status"] == "creating"
    assert hook_state(hookdir, "createContainer")["status"] == "creating"
    assert hook_state(hookdir, "startContainer")["status"] == "created"
    if not is_runc():  # runc 1.1 runs poststart during create
        assert hook_state(hookdir, "poststart")["status"] == "running"
    assert hook_state(hookdir, "poststop")["status"] == "stopped"


def test_hooks_run_with_run(rt, bundle, hookdir):
    share_hookdir(bundle, hookdir)
    bundle.config["hooks"] = {k: [recorder(hookdir, k)] for k in KINDS}
    r = rt.run(bundle)
    assert r.rc == 0, r
    got = order(hookdir)
    assert sorted(got) == sorted(KINDS)
    assert sorted(got[:2]) == ["createRuntime", "prestart"]
    assert got[2] == "createContainer"
    assert got[-1] == "poststop"


def test_several_hooks_of_a_kind_run_in_order(rt, bundle, hookdir):
    bundle.config["hooks"] = {"prestart": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"echo {n} >> {hookdir}/order"]}
        for n in ("one", "two", "three")]}
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert order(hookdir) == ["one", "two", "three"]


def test_hook_args_and_env(rt, bundle, hookdir):
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f'echo "$0|$1|$FOO|$PATH" > {hookdir}/out',
                                     "zero", "one"],
         "env": ["FOO=bar baz", "PATH=/usr/bin:/bin"]}]}
    r = rt.run(bundle)
    assert r.rc == 0, r
    with open(os.path.join(hookdir, "out")) as f:
        assert f.read() == "zero|one|bar baz|/usr/bin:/bin\n"


def env_dumper(hookdir, kind, env=None):
    h = {"path": "/bin/sh", "args": ["sh", "-c", f"env > {hookdir}/{kind}.env"]}
    if env is not None:
        h["env"] = env
    return h


# What the shells add to an environment that lacks them (dash: PWD; busybox,
# which runs startContainer hooks from the image: also SHLVL and a PATH).
SHELL_ADDED = {"PWD": None, "SHLVL": None, "PATH": "/sbin:/usr/sbin:/bin:/usr/bin"}


def hook_env(hookdir, kind, given=()):
    with open(os.path.join(hookdir, f"{kind}.env")) as f:
        env = dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
    names = {e.split("=", 1)[0] for e in given}
    for name, value in SHELL_ADDED.items():
        if name in env and name not in names and value in (None, env[name]):
            del env[name]
    return env


def test_hook_without_env_gets_the_runtime_environment(rt, bundle, hookdir, monkeypatch):
    # as runc: the environment of the process that runs it, the runtime's,
    # except the createContainer and startContainer hooks that runc runs in
    # its init once it took process.env
    monkeypatch.setenv("HUSK_HOOK_MARK", "mark 42")
    monkeypatch.setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin:/opt/hook-test")
    share_hookdir(bundle, hookdir)
    bundle.config["hooks"] = {k: [env_dumper(hookdir, k)] for k in KINDS}
    bundle.process["env"] = ["PATH=/bin:/container-only", "TERM=xterm"]
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    for kind in KINDS:
        env = hook_env(hookdir, kind)
        if kind in ("createContainer", "startContainer"):
            assert env.get("PATH") == "/bin:/container-only", (kind, env)
            assert env.get("TERM") == "xterm", (kind, env)
            assert "HUSK_HOOK_MARK" not in env, (kind, env)
        else:
            assert env.get("HUSK_HOOK_MARK") == "mark 42", (kind, env)
            assert env.get("PATH") == "/usr/sbin:/usr/bin:/sbin:/bin:/opt/hook-test", (kind, env)


@pytest.mark.parametrize("given", [["ONLY=this"], []], ids=["one", "empty"])
def test_hook_with_env_gets_exactly_it(rt, bundle, hookdir, monkeypatch, given):
    monkeypatch.setenv("HUSK_HOOK_MARK", "mark 42")
    share_hookdir(bundle, hookdir)
    bundle.config["hooks"] = {k: [env_dumper(hookdir, k, given)] for k in KINDS}
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    for kind in KINDS:
        env = hook_env(hookdir, kind, given)
        assert env == dict(e.split("=", 1) for e in given), (kind, env)


def test_failing_prestart_hook_fails_create(rt, bundle, hookdir):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}],
                              "poststart": [recorder(hookdir, "poststart")]}
    bundle.set_args("/bin/probe", "sleep", "60")
    r = rt.create(bundle)
    assert r.rc != 0
    rt.assert_nothing_left([r.cid])
    assert "poststart" not in order(hookdir)


def test_failing_create_runtime_hook_with_run(rt, bundle):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_missing_hook_binary_fails(rt, bundle):
    bundle.config["hooks"] = {"prestart": [{"path": "/no/such/hook"}]}
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_hook_timeout(rt, bundle):
    token = f"HOOK_TOKEN={bundle.marker}".encode()
    bundle.config["hooks"] = {"prestart": [
        {"path": "/bin/sleep", "args": ["sleep", "20"], "env": [token.decode()], "timeout": 1}]}
    bundle.set_args("/bin/probe", "sleep", "60")
    t0 = time.monotonic()
    r = rt.create(bundle)
    assert r.rc != 0
    assert time.monotonic() - t0 < 10
    rt.assert_nothing_left([r.cid])
    assert wait_for(lambda: not any(token in env for _, env, _ in processes())), \
        "the timed-out hook is still running"


def test_failing_poststop_hook_does_not_block_delete(rt, bundle):
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/false"}]}
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    rt.assert_nothing_left([cid])
    assert rt.state_raw(cid).rc != 0


@pytest.mark.skipif(is_runc(), reason="runc 1.1 runs poststart hooks during create")
def test_failing_poststart_hook_fails_start_and_stops_the_container(rt, bundle, hookdir):
    """As runc (from 1.2), crun and youki: the hooks after the failing one do not
    run, start exits 1 and the container is killed; delete then cleans up."""
    log = os.path.join(hookdir, "order")
    hooks = [{"path": "/bin/sh", "args": ["sh", "-c", f"echo {name} >> {log}{tail}"]}
             for name, tail in (("one", ""), ("two", "; exit 1"), ("three", ""))]
    bundle.config["hooks"] = {"poststart": hooks}
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    r = rt.start(cid)
    assert r.rc == 1, r
    assert "poststart hook #1" in r.err, r.err
    assert order(hookdir) == ["one", "two"]
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])
