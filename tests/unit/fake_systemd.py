#!/usr/bin/env python3
"""A fake systemd manager for husk's D-Bus client: GLib's own D-Bus code
(Gio) serves org.freedesktop.systemd1.Manager on a private unix socket, as
systemd does on /run/systemd/private; systemd_dbus_driver talks to it.
Checks what arrives (StartTransientUnit's properties as GLib reads them),
answers with a job and its JobRemoved signal, or with an error.
Usage: fake_systemd.py DRIVER. Exit 77 (skipped) without python3-gi."""
import os
import subprocess
import sys
import tempfile
import threading

try:
    import gi
    gi.require_version("Gio", "2.0")
    from gi.repository import Gio, GLib
except (ImportError, ValueError):
    sys.exit(77)

XML = """<node><interface name="org.freedesktop.systemd1.Manager">
<method name="StartTransientUnit"><arg type="s"/><arg type="s"/><arg type="a(sv)"/>
<arg type="a(sa(sv))"/><arg type="o" direction="out"/></method>
<method name="StopUnit"><arg type="s"/><arg type="s"/><arg type="o" direction="out"/></method>
</interface></node>"""
seen = {}


def on_call(conn, sender, path, iface, method, params, inv):
    args = params.unpack()
    seen[method] = args
    if method == "StopUnit" and args[0] == "gone.scope":
        inv.return_dbus_error("org.freedesktop.systemd1.NoSuchUnit", "Unit gone.scope not loaded.")
        return
    job = "/org/freedesktop/systemd1/job/%d" % (len(seen) + 7)
    # An unrelated job's signal first: the client must skip it.
    conn.emit_signal(None, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                     "JobRemoved", GLib.Variant("(uoss)", (1, "/org/freedesktop/systemd1/job/1",
                                                           "other.scope", "failed")))
    inv.return_value(GLib.Variant("(o)", (job,)))
    conn.emit_signal(None, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                     "JobRemoved", GLib.Variant("(uoss)", (9, job, args[0], "done")))


def main():
    driver = sys.argv[1]
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "private")
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    server = Gio.DBusServer.new_sync("unix:path=" + sock, Gio.DBusServerFlags.NONE,
                                     Gio.dbus_generate_guid(), None, None)

    conns = []  # kept: a connection Python lets go of is closed

    def on_conn(_server, conn):
        conns.append(conn)
        conn.register_object("/org/freedesktop/systemd1", node.interfaces[0], on_call, None, None)
        return True

    server.connect("new-connection", on_conn)
    server.start()
    loop = GLib.MainLoop()
    threading.Thread(target=loop.run, daemon=True).start()

    def run(*args):
        out = subprocess.run([driver, sock, *args], capture_output=True, text=True, timeout=20)
        sys.stderr.write(out.stderr)
        return out.returncode, out.stdout.strip()

    failures = []
    rc, out = run("start", "husk-c1.scope")
    if rc != 0 or not out.endswith(" done") or "/job/1 " in out:
        failures.append("start: %d %s" % (rc, out))
    name, mode, props, aux = seen.get("StartTransientUnit", ("", "", [], None))
    props = dict(props)
    want = {"Slice": "system.slice", "Delegate": True, "PIDs": [4242],
            "MemoryMax": 64 << 20, "TasksMax": 42}
    for k, v in want.items():
        if props.get(k) != v:
            failures.append("property %s: %r, wanted %r" % (k, props.get(k), v))
    if name != "husk-c1.scope" or mode != "fail" or aux != []:
        failures.append("start arguments: %r %r %r" % (name, mode, aux))
    rc, out = run("stop", "gone.scope")
    if rc == 0 or "org.freedesktop.systemd1.NoSuchUnit" not in out or "not loaded" not in out:
        failures.append("stop of a unit that is gone: %d %s" % (rc, out))
    server.stop()
    loop.quit()
    for f in failures:
        print("FAIL", f)
    print("ok" if not failures else "%d failures" % len(failures))
    return 1 if failures else 0


sys.exit(main())
