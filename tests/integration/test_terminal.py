"""process.terminal with --console-socket, as engines allocate a pty."""

import json
import os
import select
import time

import pytest

import husktest


def read_all(fd, timeout=10):
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every slave closed
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


@pytest.fixture
def console(tmp_path):
    c = husktest.ConsoleSocket(str(tmp_path / "console.sock"))
    yield c
    c.close()


def run_with_terminal(rt, bundle, console, *args, size=None):
    bundle.process["terminal"] = True
    if size:
        bundle.process["consoleSize"] = size
    bundle.set_args(*args)
    cid = rt.new_id()
    bundle.write()
    p = rt.cmd_files_bg(cid, "create", "--console-socket", console.path, "--bundle",
                        bundle.path, cid)
    master = console.receive_master()
    try:
        rt.finish_files(p).check()
        rt.start(cid).check()
        out = read_all(master)
    finally:
        os.close(master)
    rt.wait_status(cid, "stopped")
    return cid, out


def json_lines(text):
    return [json.loads(line) for line in text.replace("\r", "").splitlines()
            if line.startswith("{")]


def test_stdio_is_the_pty(rt, bundle, console):
    cid, out = run_with_terminal(rt, bundle, console, "/bin/probe", "tty", "+", "stat",
                                 "/dev/console")
    tty, st = json_lines(out)
    assert tty["isatty"] == [True, True, True]
    assert tty["ttyname"].startswith("/dev/pts/")
    assert tty["ctty"] != 0, "the pty must be the controlling terminal"
    assert tty["sid"] == 1
    assert tty["devtty_errno"] == 0
    assert st["/dev/console"]["type"] == "char"
    assert st["/dev/console"]["major"] == 136


def test_console_size(rt, bundle, console):
    cid, out = run_with_terminal(rt, bundle, console, "/bin/stty", "size",
                                 size={"height": 40, "width": 123})
    assert out.strip() == "40 123"


def test_terminal_output_reaches_master(rt, bundle, console):
    cid, out = run_with_terminal(rt, bundle, console, "/bin/sh", "-c", "echo hello-tty")
    assert "hello-tty" in out


def test_terminal_without_console_socket_fails(rt, bundle):
    bundle.process["terminal"] = True
    bundle.set_args("/bin/true")
    r = rt.create(bundle)
    assert r.rc != 0
    rt.assert_nothing_left([r.cid])


def test_console_socket_missing_fails(rt, bundle, tmp_path):
    bundle.process["terminal"] = True
    bundle.set_args("/bin/true")
    r = rt.create(bundle, None, "--console-socket", str(tmp_path / "nope.sock"))
    assert r.rc != 0
    rt.assert_nothing_left([r.cid])


def test_exec_with_tty(rt, bundle, console):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    # engines (conmon) detach: the pty carries the process's I/O
    p = rt.cmd_files_bg(cid, "exec", "--detach", "--tty", "--console-socket", console.path,
                        cid, "/bin/probe", "tty", tag="-exec")
    try:
        master = console.receive_master()
    except TimeoutError:
        raise AssertionError(f"no pty received: {rt.finish_files(p)}")
    try:
        out = read_all(master)
    finally:
        os.close(master)
    r = rt.finish_files(p)
    assert r.rc == 0, r
    tty = json_lines(out)[0]
    assert tty["isatty"] == [True, True, True]
    assert tty["ttyname"].startswith("/dev/pts/")
