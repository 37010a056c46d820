"""create / start / state / kill / delete / run / list, as engines drive them."""

import json
import os
import signal
import threading

import time

import pytest

from conftest import _proc_state, is_runc


def test_create_start_exit_delete(rt, bundle):
    bundle.set_args("/bin/probe", "signal-wait")
    r = rt.create(bundle).check()
    cid = r.cid
    st = rt.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert _proc_state(st["pid"]) not in (None, "Z"), "init of a created container must be alive"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert "ociVersion" in st
    # the user program has not run yet
    assert "ready" not in rt.output(cid)

    rt.start(cid).check()
    rt.wait_output(cid, "ready")
    st = rt.state(cid)
    assert st["status"] == "running"

    rt.kill(cid, "USR1").check()
    st = rt.wait_status(cid, "stopped")
    assert '"signal":10' in rt.output(cid)

    rt.delete(cid).check()
    assert rt.state_raw(cid).rc == 1
    rt.assert_nothing_left([cid])


def test_state_fields_match_oci(rt, bundle):
    bundle.config["annotations"] = {"org.example.key": "value"}
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "30")
    st = rt.state(cid)
    for field in ("ociVersion", "id", "status", "pid", "bundle"):
        assert field in st, f"state lacks {field}: {st}"
    assert st["pid"] == pid
    assert st.get("annotations") == {"org.example.key": "value"}


@pytest.mark.parametrize("code", [0, 7, 255])
def test_run_foreground_exit_code(rt, bundle, code):
    bundle.set_args("/bin/probe", "exit", str(code))
    r = rt.run(bundle)
    assert r.rc == code, r
    rt.assert_nothing_left([r.cid])


def test_run_foreground_passes_stdio(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "read line; echo out:$line; echo err:$line >&2")
    r = rt.run(bundle, input="hello\n")
    assert r.rc == 0, r
    assert r.out == "out:hello\n"
    assert "err:hello" in r.err


def test_run_foreground_killed_by_signal(rt, bundle):
    bundle.set_args("/bin/probe", "signal-wait")
    # probe blocks every signal it can; SIGKILL still ends it
    cid, p = rt.run_bg(bundle)
    rt.wait_status(cid, "running")
    rt.kill(cid, "KILL").check()
    r = rt.finish(p)
    assert r.rc == 128 + signal.SIGKILL, r


def test_run_foreground_self_signal_without_pid_ns(rt, bundle):
    # outside a pid namespace the shell is not an init and dies of SIGTERM
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    bundle.set_args("/bin/sh", "-c", "kill -TERM $$; sleep 5")
    r = rt.run(bundle)
    assert r.rc == 128 + signal.SIGTERM, r


def test_run_detach(rt, bundle):
    bundle.set_args("/bin/probe", "signal-wait")
    r = rt.run(bundle, detach=True).check()
    rt.wait_output(r.cid, "ready")
    assert rt.state(r.cid)["status"] == "running"
    rt.kill(r.cid, "KILL").check()
    rt.wait_status(r.cid, "stopped")
    rt.delete(r.cid).check()
    rt.assert_nothing_left([r.cid])


@pytest.mark.parametrize("sig,num", [("USR1", 10), ("SIGUSR2", 12), ("10", 10), ("HUP", 1),
                                     (None, 15)])
def test_kill_signal_names_and_numbers(rt, bundle, sig, num):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "signal-wait")
    rt.wait_output(cid, "ready")
    rt.kill(cid, sig).check()
    rt.wait_status(cid, "stopped")
    assert f'"signal":{num}' in rt.output(cid)


def test_kill_all_reaches_every_process(rt, bundle):
    # without a pid namespace, killing init leaves its children running
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    cid, pid = rt.start_detached(bundle, "/bin/sh", "-c",
                                 "/bin/sleep 100 & /bin/sleep 101 & echo started; wait")
    rt.wait_output(cid, "started")
    marker = bundle.marker.encode()

    def container_pids():
        from conftest import processes
        return [p for p, env, _ in processes() if marker in env]

    # a child caught in the middle of its execve shows no environment for
    # an instant: look again before concluding it is not there
    for _ in range(50):
        if len(container_pids()) >= 3:
            break
        time.sleep(0.1)
    assert len(container_pids()) >= 3
    rt.kill(cid, "KILL", all=True).check()
    rt.wait_status(cid, "stopped")
    rt.assert_nothing_left([], [bundle])  # every process is gone, state remains
    assert rt.state(cid)["status"] == "stopped"


@pytest.mark.parametrize("all_", [False, True], ids=["init", "all"])
def test_kill_signal_0_only_checks_the_container_runs(rt, bundle, all_):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "signal-wait")
    rt.wait_output(cid, "ready")
    rt.kill(cid, "0", all=all_).check()
    time.sleep(0.1)
    assert rt.state(cid)["status"] == "running"
    assert '"signal"' not in rt.output(cid)
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    if not all_:
        assert rt.kill(cid, "0").rc != 0


def test_kill_stopped_container_fails(rt, bundle):
    bundle.set_args("/bin/true")
    r = rt.run(bundle, detach=True).check()
    rt.wait_status(r.cid, "stopped")
    assert rt.kill(r.cid, "KILL").rc != 0


def test_delete_running_needs_force(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    r = rt.delete(cid)
    assert r.rc != 0, "delete of a running container must fail without --force"
    assert rt.state(cid)["status"] == "running"
    rt.delete(cid, force=True).check()
    assert rt.state_raw(cid).rc != 0
    rt.assert_nothing_left([cid])


def test_delete_created_container(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    r = rt.create(bundle).check()
    rt.state(r.cid)
    rt.delete(r.cid).check()
    rt.assert_nothing_left([r.cid])


def test_delete_missing_container_fails(rt):
    assert rt.delete("it-no-such-container").rc != 0
    # --force on a missing container is not an error for engines
    assert rt.delete("it-no-such-container", force=True).rc == 0


def test_start_twice_fails(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    assert rt.start(cid).rc != 0
    assert rt.state(cid)["status"] == "running"


def test_start_stopped_fails(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    assert rt.start(cid).rc != 0


def test_create_same_id_twice_fails(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    pid = rt.state(cid)["pid"]
    r = rt.create(bundle, cid)
    assert r.rc != 0
    st = rt.state(cid)
    assert st["status"] == "created" and st["pid"] == pid


@pytest.mark.skipif(is_runc(), reason="runc 1.1 races here: a loser can make the winner fail "
                    "too, and losers can leave their `runc init` behind")
def test_concurrent_create_same_id(rt, make_bundle):
    bundles = [make_bundle() for _ in range(4)]
    cid = rt.new_id()
    for b in bundles:
        b.set_args("/bin/probe", "sleep", "60")
        b.write()
    procs = [rt.cmd_files_bg(cid, "create", "--bundle", b.path, cid, tag=str(i))
             for i, b in enumerate(bundles)]
    results = [rt.finish_files(p) for p in procs]
    winners = [i for i, r in enumerate(results) if r.rc == 0]
    assert len(winners) == 1, results
    st = rt.state(cid)
    assert st["status"] == "created"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundles[winners[0]].path)
    losers = [b for i, b in enumerate(bundles) if i not in winners]
    rt.assert_nothing_left([], losers)
    # and no loser's half-made process sits in the winner's cgroup
    from conftest import process_cgroups
    tag = f"/{cid}\n".encode()
    assert [pid for pid, cg in process_cgroups() if tag in cg] == [st["pid"]]


def test_state_of_missing_container(rt):
    r = rt.state_raw("it-does-not-exist")
    assert r.rc == 1
    assert r.out.strip() == ""


def test_list_formats(rt, make_bundle):
    ids = []
    for _ in range(2):
        b = make_bundle()
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "60")
        ids.append(cid)
    table = rt.list().check().out.splitlines()
    header = table[0].split()
    for col in ("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"):
        assert col in header
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert set(rows) == set(ids)
    assert all(row[2] == "running" for row in rows.values())

    quiet = rt.list(quiet=True).check().out.split()
    assert sorted(quiet) == sorted(ids)

    entries = json.loads(rt.list(fmt="json").check().out)
    assert sorted(e["id"] for e in entries) == sorted(ids)
    for e in entries:
        assert e["status"] == "running"
        assert e["pid"] == rt.state(e["id"])["pid"]
        assert "bundle" in e and "created" in e


def test_list_empty(rt):
    r = rt.list().check()
    assert len(r.out.splitlines()) <= 1
    assert rt.list(quiet=True).check().out.strip() == ""


def test_pid_file(rt, bundle, tmp_path):
    pid_file = str(tmp_path / "init.pid")
    bundle.set_args("/bin/probe", "sleep", "60")
    r = rt.create(bundle, pid_file=pid_file).check()
    with open(pid_file) as f:
        content = f.read()
    assert content.strip().isdigit()
    assert int(content) == rt.state(r.cid)["pid"]


def test_run_pid_file_detached(rt, bundle, tmp_path):
    pid_file = str(tmp_path / "run.pid")
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    cid = rt.new_id()
    r = rt.cmd_files(cid, "run", "--detach", "--pid-file", pid_file, "--bundle", bundle.path,
                     cid).check()
    assert r.rc == 0
    with open(pid_file) as f:
        assert int(f.read()) == rt.state(cid)["pid"]


def test_exit_is_seen_without_anyone_waiting(rt, bundle):
    """The container's init exits on its own; state must say stopped."""
    cid, pid = rt.start_detached(bundle, "/bin/probe", "exit", "3")
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


def test_many_sequential_containers_leave_nothing(rt, bundle):
    for _ in range(5):
        r = rt.run(bundle)
        assert r.rc == 0, r
    rt.assert_nothing_left()


def test_parallel_runs(rt, make_bundle):
    bundles = [make_bundle() for _ in range(4)]
    results = [None] * len(bundles)

    def go(i):
        bundles[i].set_args("/bin/probe", "pid")
        results[i] = rt.run(bundles[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(bundles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r.rc == 0, r
        assert r.lines()[0]["pid"] == 1


def test_kill_created_container(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


def test_init_killed_from_outside(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    os.kill(pid, signal.SIGKILL)
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


def test_delete_twice_fails(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    assert rt.delete(cid).rc != 0


def test_foreground_run_forwards_signals(rt, bundle):
    bundle.set_args("/bin/probe", "signal-wait")
    bundle.write()
    cid = rt.new_id()
    p = rt.cmd_files_bg(cid, "run", "--bundle", bundle.path, cid)
    rt.wait_output(cid, "ready")
    p.send_signal(signal.SIGUSR2)
    r = rt.finish_files(p)
    assert r.rc == 0, r
    assert '"signal":12' in r.out
    rt.assert_nothing_left([cid])


def test_state_is_stable_while_running(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    first = rt.state(cid)
    for _ in range(3):
        st = rt.state(cid)
        assert st["pid"] == pid and st["status"] == "running"
    assert st.get("created") == first.get("created")


def test_id_reuse_after_delete(rt, make_bundle):
    a = make_bundle()
    cid, pid_a = rt.start_detached(a, "/bin/probe", "sleep", "60")
    rt.delete(cid, force=True).check()
    b = make_bundle()
    b.set_args("/bin/probe", "sleep", "60")
    rt.create(b, cid).check()
    st = rt.state(cid)
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    assert st["pid"] != pid_a


def test_bundle_defaults_to_cwd(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "30")
    bundle.write()
    cid = rt.new_id()
    p = rt.cmd_files_bg(cid, "create", cid, cwd=bundle.path)
    rt.finish_files(p).check()
    assert os.path.realpath(rt.state(cid)["bundle"]) == os.path.realpath(bundle.path)


def test_relative_bundle_is_made_absolute(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "30")
    bundle.write()
    cid = rt.new_id()
    parent, name = os.path.split(bundle.path)
    p = rt.cmd_files_bg(cid, "create", "--bundle", name, cid, cwd=parent)
    rt.finish_files(p).check()
    st = rt.state(cid)
    assert os.path.isabs(st["bundle"])
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)


def test_no_new_keyring_option(rt, bundle):
    bundle.set_args("/bin/probe", "pid")
    r = rt.run(bundle, None, "--no-new-keyring")
    assert r.rc == 0, r


def test_delete_after_bundle_is_gone(rt, bundle):
    import shutil
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    shutil.rmtree(bundle.path)
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


def test_force_delete_after_bundle_is_gone(rt, bundle):
    import shutil
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    # the running container keeps its root; the bundle directory may still go
    moved = bundle.path + "-moved-away"
    os.rename(bundle.path, moved)
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left([cid])
    shutil.rmtree(moved, ignore_errors=True)


def test_start_after_init_died_fails(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    os.kill(rt.state(cid)["pid"], signal.SIGKILL)
    rt.wait_status(cid, "stopped")
    assert rt.start(cid).rc != 0
    assert rt.state(cid)["status"] == "stopped"


def test_list_shows_stopped(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    entries = json.loads(rt.list(fmt="json").check().out)
    assert [(e["id"], e["status"]) for e in entries] == [(cid, "stopped")]


def test_relative_pid_file(rt, bundle, tmp_path):
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    cid = rt.new_id()
    p = rt.cmd_files_bg(cid, "create", "--pid-file", "rel.pid", "--bundle", bundle.path, cid,
                        cwd=str(tmp_path))
    rt.finish_files(p).check()
    with open(tmp_path / "rel.pid") as f:
        assert int(f.read()) == rt.state(cid)["pid"]


def test_state_has_the_fields_go_runc_reads(rt, bundle):
    # containerd's runc shim decodes state and list into go-runc's Container
    # (id, pid, status, bundle, rootfs, created as RFC 3339, annotations)
    import re
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "30")
    st = rt.state(cid)
    assert os.path.realpath(st["rootfs"]) == os.path.realpath(bundle.rootfs)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", st["created"])
    entry = json.loads(rt.list(fmt="json").check().out)[0]
    for key in ("id", "pid", "status", "bundle", "rootfs", "created"):
        assert entry[key] == st[key], key


@pytest.mark.parametrize("sig", ["sigusr1", "usr1", "SIGUSR1"])
def test_kill_signal_names_any_case(rt, bundle, sig):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "signal-wait")
    rt.wait_output(cid, "ready")
    rt.kill(cid, sig).check()
    rt.wait_status(cid, "stopped")
    assert '"signal":10' in rt.output(cid)


def test_delete_kills_leftovers_of_a_container_without_pid_ns(rt, bundle):
    # init exits but a child it left keeps running: delete must not leak it
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    cid, _ = rt.start_detached(bundle, "/bin/sh", "-c", "/bin/sleep 100 & echo bg; exit 0")
    rt.wait_output(cid, "bg")
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


def test_exec_into_user_namespace(rt, bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    idmap = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["uidMappings"] = idmap
    bundle.linux["gidMappings"] = idmap
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    r = rt.cmd("exec", cid, "/bin/probe", "ids", "+", "ns")
    assert r.rc == 0, r
    ids, ns = r.lines()
    assert (ids["uid"], ids["gid"]) == (0, 0)
    assert ns["user"] == os.stat(f"/proc/{pid}/ns/user").st_ino


def test_run_keep(rt, bundle):
    bundle.set_args("/bin/probe", "exit", "3")
    r = rt.run(bundle, None, "--keep")
    assert r.rc == 3, r
    st = rt.state(r.cid)
    assert st["status"] == "stopped"
    rt.delete(r.cid).check()
    rt.assert_nothing_left([r.cid])


def test_run_no_subreaper(rt, bundle):
    bundle.set_args("/bin/probe", "exit", "4")
    r = rt.run(bundle, None, "--no-subreaper")
    assert r.rc == 4, r
    rt.assert_nothing_left([r.cid])


def test_listen_fds_are_passed(rt, bundle, tmp_path):
    # systemd socket activation: with LISTEN_FDS=N and LISTEN_PID naming the
    # runtime, fds 3..3+N-1 pass into the container, like --preserve-fds
    import subprocess
    from conftest import Result, _finish, spawn
    path = tmp_path / "sock-stand-in"
    path.write_text("x")
    fd = os.open(str(path), os.O_RDONLY)
    bundle.set_args("/bin/probe", "fds", "+", "env")
    bundle.write()
    cid = rt.new_id()
    argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh",
            *rt.argv("run", "--bundle", bundle.path, cid)]
    try:
        p = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, pass_fds=(3,), preexec_fn=lambda: os.dup2(fd, 3))
    finally:
        os.close(fd)
    out, err = _finish(p, 30)
    r = Result(argv, p.returncode, out.decode(), err.decode())
    assert r.rc == 0, r
    fds, env = r.lines()
    assert sorted(fds["fds"], key=int) == ["0", "1", "2", "3"]
    assert fds["fds"]["3"].endswith("/sock-stand-in")
    assert "LISTEN_FDS=1" in env["env"]


def test_foreground_run_without_pid_ns_cleans_leftover_children(rt, bundle):
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    # the child's stdio goes elsewhere so only the process, not a pipe, lingers
    bundle.set_args("/bin/sh", "-c", "/bin/sleep 100 </dev/null >/dev/null 2>&1 & exit 5")
    r = rt.run(bundle)
    assert r.rc == 5, r
    rt.assert_nothing_left([r.cid])
