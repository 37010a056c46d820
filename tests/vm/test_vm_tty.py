"""process.terminal and exec --tty on the vm backend: a host pty whose master
goes to the console socket (or to husk's own foreground relay), relayed to
the process's own pty in the guest. The size set on the master reaches the
guest (before and during the run), ^C written to it interrupts the process
there, and the exit status comes back."""

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

import husktest
from conftest import alive, find_cgroups, mounts_mentioning


def receive_master(console, proc=None):
    """The master, with the payload runc sends; a VM boots slowly under TCG."""
    return console.receive_master(proc, timeout=120, payload=b"/dev/ptmx")


@pytest.fixture
def console(workdir):
    c = husktest.ConsoleSocket(os.path.join(workdir, "console.sock"))
    yield c
    c.close()


@pytest.fixture
def tty_bundle(bundle):
    """The busybox bundle with tty and stty, /dev and a devpts of its own."""
    for applet in ("tty", "stty", "["):
        os.symlink("busybox", os.path.join(bundle.rootfs, "bin", applet))
    bundle.config["process"]["terminal"] = True
    bundle.config["mounts"] += [
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    ]
    return bundle


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Reader:
    """What comes out of a pty master, read as it comes."""

    def __init__(self, fd):
        self.fd, self.data = fd, b""

    def _more(self, deadline, what):
        left = deadline - time.monotonic()
        assert left > 0, f"no {what!r} from the terminal; got {self.data!r}"
        if not select.select([self.fd], [], [], min(left, 0.2))[0]:
            return
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: no one holds the slave any more
            chunk = b""
        assert chunk, f"the terminal ended before {what!r}; got {self.data!r}"
        self.data += chunk

    def until(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.data:
            self._more(deadline, text)
        return self.text()

    def line(self, prefix, timeout=60):
        """Everything up to the end of the line that starts with prefix."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.data.partition(prefix.encode())[2]:
            self._more(deadline, prefix + "...\\n")
        return self.text()

    def text(self):
        return self.data.decode(errors="replace").replace("\r", "")


def slave_closed(master, timeout=10):
    """True once no process holds the pty's slave (a read gives EIO)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                if not os.read(master, 4096):
                    return True
            except OSError:
                return True
    return False


def wait_child(pid, timeout=60):
    """The exit status (code, or 128+signal) of a child of ours: the
    container's monitor or an exec relay, reparented to us (subreaper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) \
                else 128 + os.WTERMSIG(status)
        time.sleep(0.1)
    raise AssertionError(f"{pid} did not exit within {timeout} s")


def create_with_console(husk, bundle, console, cid):
    """create --console-socket: (the master, the monitor's pid)."""
    bundle.write()
    out = os.path.join(husk.iodir, f"create-{cid}")
    with open(out, "w") as o:
        p = subprocess.Popen([husk.binary, "--root", husk.root, "create", "--console-socket",
                              console.path, "--bundle", bundle.path, cid],
                             stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.STDOUT)
    try:
        master = receive_master(console, p)
    except AssertionError as e:
        p.wait(30)
        raise AssertionError(f"{e}; create said: {open(out).read()}")
    assert p.wait(120) == 0, open(out).read()
    return master, husk.state(cid)["pid"]


def test_console_socket_missing_fails_before_boot(husk, tty_bundle, workdir):
    cid = husk.new_id()
    missing = os.path.join(workdir, "nope.sock")
    p = husk("create", "--console-socket", missing, "--bundle", tty_bundle.path, cid,
             bundle=tty_bundle)
    assert p.returncode != 0
    assert f"connect to console socket {missing}" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(husk.root, cid))


def test_create_tty_size_resize_and_status(vm_ready, husk, tty_bundle, console):
    cid = husk.new_id()
    tty_bundle.config["process"]["consoleSize"] = {"height": 40, "width": 123}
    tty_bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; first=$(stty size); '
        'echo "first=$first"; while [ "$(stty size)" = "$first" ]; do sleep 0.1; done; '
        'echo "now=$(stty size)"; exit 3']
    master, monitor = create_with_console(husk, tty_bundle, console, cid)
    facts = husk.vm_facts(cid)
    try:
        set_size(master, 33, 101)  # the engine resizes before start
        assert husk("start", cid).returncode == 0
        out = Reader(master)
        text = out.line("first=")
        assert "/dev/pts/" in text and "stdio-is-a-tty" in text, text
        assert "first=33 101\n" in text, text
        set_size(master, 50, 150)  # and while it runs
        assert "now=50 150" in out.until("now=50 150")
        assert wait_child(monitor) == 3
        assert husk.state(cid)["status"] == "stopped"
        assert husk("delete", cid).returncode == 0
        # nothing of the terminal is left: no one holds the slave
        assert slave_closed(master), "the pty slave is still held after delete"
    finally:
        os.close(master)
    for pid in (monitor, facts["vmm_pid"], facts["virtiofsd_pid"]):
        assert not alive(pid), f"process {pid} left"
    assert not find_cgroups(cid) and not mounts_mentioning(cid)
    assert not os.path.exists(os.path.join(husk.root, cid))


def test_ctrl_c_interrupts_the_process(vm_ready, husk, tty_bundle, console):
    cid = husk.new_id()
    # The init of a pid namespace ignores a SIGINT it has no handler for:
    # the shell traps it; ^C's SIGINT goes to the terminal's foreground
    # group, sleep and the shell, and only the guest's pty makes one.
    tty_bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "trap 'exit 130' INT; echo sleeping; sleep 100; exit 7"]
    master, monitor = create_with_console(husk, tty_bundle, console, cid)
    try:
        assert husk("start", cid).returncode == 0
        Reader(master).until("sleeping")
        time.sleep(0.5)  # the exec of sleep
        os.write(master, b"\x03")
        assert wait_child(monitor, timeout=30) == 128 + signal.SIGINT
    finally:
        os.close(master)
    assert husk("delete", cid).returncode == 0


# A foreground husk sizes the master from its terminal once the process
# runs (for linux containers too): wait for that size, for a while.
WAIT_SIZED = ('i=0; while [ "$(stty size)" = "0 0" ] && [ $i -lt 100 ]; '
              'do sleep 0.1; i=$((i+1)); done; ')


def run_in_pty(argv, rows, cols, timeout=120):
    """argv with a pty as its terminal (a user's): (exit status, output)."""
    master, slave = pty.openpty()
    set_size(slave, rows, cols)
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = Reader(master)
    try:
        deadline = time.monotonic() + timeout
        while p.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    out.data += os.read(master, 4096)
                except OSError:
                    pass
        if p.poll() is None:
            p.kill()
        rc = p.wait(5)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out.data += chunk
    finally:
        os.close(master)
    return rc, out.text()


def test_foreground_run_tty(vm_ready, husk, tty_bundle):
    cid = husk.new_id()
    tty_bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "tty; [ -t 0 ] && echo stdin-is-a-tty; " + WAIT_SIZED + "echo size=$(stty size); exit 6"]
    tty_bundle.write()
    rc, text = run_in_pty([husk.binary, "--root", husk.root, "run", "--bundle",
                           tty_bundle.path, cid], 27, 91)
    assert rc == 6, text
    assert "/dev/pts/" in text and "stdin-is-a-tty" in text, text
    assert "size=27 91" in text, text
    assert not os.path.exists(os.path.join(husk.root, cid))


def test_exec_tty(vm_ready, husk, tty_bundle, console, workdir):
    cid = husk.new_id()
    tty_bundle.config["process"]["terminal"] = False
    tty_bundle.config["process"]["args"] = ["/bin/sleep", "1000"]
    rc, _, err = husk.detached("run", "-d", "--bundle", tty_bundle.path, cid, bundle=tty_bundle)
    assert rc == 0, open(err).read()

    # as conmon runs `podman exec -it`: detached, the master to a socket
    pid_file = os.path.join(workdir, "exec.pid")
    p = husk("exec", "-d", "-t", "--console-socket", console.path, "--pid-file", pid_file, cid,
             "/bin/sh", "-c", "tty; read x; echo size=$(stty size) got=$x; exit 4")
    assert p.returncode == 0, p.stderr
    master = receive_master(console)
    try:
        relay = int(open(pid_file).read())
        out = Reader(master)
        assert "/dev/pts/" in out.until("/dev/pts/")
        set_size(master, 24, 77)  # a resize while it runs
        time.sleep(1)
        os.write(master, b"hello\r")
        text = out.until("got=hello")
        assert "size=24 77 got=hello" in text, text
        # echoed once, by the guest's pty: ours is raw
        assert text.count("hello") == 2, text
        assert wait_child(relay) == 4
        assert slave_closed(master), "the exec's pty slave is still held"
    finally:
        os.close(master)

    # ^C reaches the exec'd process through the guest's pty
    p = husk("exec", "-d", "-t", "--console-socket", console.path, "--pid-file", pid_file, cid,
             "/bin/sh", "-c", "echo sleeping; exec sleep 100")
    assert p.returncode == 0, p.stderr
    master = receive_master(console)
    try:
        relay = int(open(pid_file).read())
        Reader(master).until("sleeping")
        time.sleep(0.5)
        os.write(master, b"\x03")
        assert wait_child(relay, timeout=30) == 128 + signal.SIGINT
    finally:
        os.close(master)

    # foreground exec -t: husk relays its own terminal
    rc, text = run_in_pty([husk.binary, "--root", husk.root, "exec", "-t", cid, "/bin/sh", "-c",
                           "tty; " + WAIT_SIZED + "echo size=$(stty size); exit 9"], 31, 97)
    assert rc == 9, text
    assert "/dev/pts/" in text and "size=31 97" in text, text
    assert husk("delete", "--force", cid).returncode == 0
