"""CVE-2025-52565: /dev/console planted as a symlink in the image.

With process.terminal, the runtime bind-mounts the pty peer onto
/dev/console.  If the image makes /dev/console a symlink, a runtime that
creates and mounts by path follows it: it truncates the link target and
mounts the pty over it (here a host file bound into the container, and a
procfs sysctl file).  The runtime must not follow links in the rootfs: the
target is unchanged and /dev/console is the container's pty.

Demonstrated against runc 1.1.5: escape succeeded (runc truncated the host
file through the /dev/console link).
"""

import os
import select
import socket
import subprocess
import threading



class ConsoleReceiver:
    """A console socket: receives the pty master by SCM_RIGHTS and
    collects everything the container writes to its terminal."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(15)
        self.output = b""
        self.got_fd = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not fds:
            return
        self.got_fd = True
        master = fds[0]
        try:
            while True:
                ready, _, _ = select.select([master], [], [], 12)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the last slave fd closed
                    break
                if not chunk:
                    break
                self.output += chunk
        finally:
            os.close(master)

    def wait(self, timeout=15):
        self.thread.join(timeout)
        self.sock.close()
        return self.output.decode(errors="replace")


def run_with_console(rt, bundle, tmp_path):
    bundle.config["process"]["terminal"] = True
    recv = ConsoleReceiver(tmp_path / "console.sock")
    r = rt.create(bundle, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  extra=("--console-socket", recv.path))
    if r.returncode != 0:
        recv.sock.close()
        return r, ""
    rt("start", bundle.cid)
    if not rt.wait_stopped(bundle.cid, timeout=5):
        rt("kill", bundle.cid, "KILL")  # hung (e.g. reading a pty): end it
        rt.wait_stopped(bundle.cid, timeout=5)
    return r, recv.wait(timeout=5)


def plant_console(bundle, target):
    bundle.without_dev_tmpfs()
    os.symlink(target, bundle.rootfs / "dev" / "console")


def test_console_symlink_to_host_file(rt, bundle, tmp_path):
    host = tmp_path / "host-file"
    host.write_text("host content\n")
    (bundle.rootfs / "hostfile").write_text("")
    bundle.config["mounts"].append(
        {"destination": "/hostfile", "type": "bind", "source": str(host),
         "options": ["bind", "rw"]})
    plant_console(bundle, "/hostfile")
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "/attack stat /hostfile; /attack stat /dev/console; "
        "echo DONE"]
    r, out = run_with_console(rt, bundle, tmp_path)
    assert host.read_text() == "host content\n", (
        f"runtime wrote/truncated the host file via /dev/console: {out}")
    if r.returncode == 0:
        assert "DONE" in out, f"no terminal output received: {out!r}"
        first = [l for l in out.splitlines() if l.startswith("STAT")]
        assert first and first[0].startswith("STAT file"), (
            f"/hostfile was mounted over: {out}")


def test_console_symlink_to_procfs(rt, bundle, tmp_path):
    """/dev/console -> /proc/sys/kernel/hostname: the sysctl file must
    not be covered by the pty (nor truncated)."""
    plant_console(bundle, "/proc/sys/kernel/hostname")
    bundle.config["hostname"] = "original"
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c", "/attack stat /proc/sys/kernel/hostname; "
        "echo HOST=$(timeout 1 cat /proc/sys/kernel/hostname); echo DONE"]
    r, out = run_with_console(rt, bundle, tmp_path)
    if r.returncode != 0:
        return  # refused the hostile image: defended
    assert "DONE" in out, f"no terminal output received: {out!r}"
    assert "HOST=original" in out, out
    assert "STAT file" in out, f"sysctl file covered by the console: {out}"


def test_console_works_normally(rt, bundle, tmp_path):
    """Sanity for the receiver: a plain image gets a working console."""
    bundle.config["process"]["args"] = ["/bin/sh", "-c",
                                        "/attack stat /dev/console; echo DONE"]
    r, out = run_with_console(rt, bundle, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "DONE" in out, out
    assert "STAT char 136:" in out, out
