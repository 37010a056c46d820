"""The command line itself: version, help, spec, features, unknown commands."""

import json
import os
import re

import pytest

from conftest import is_husk

COMMANDS = ["create", "start", "run", "state", "kill", "delete", "list", "exec", "ps", "pause",
            "resume", "update", "events", "spec", "features"]


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version(rt, flag):
    r = rt.cmd(flag).check()
    lines = r.out.splitlines()
    assert re.match(r"^\S+ version \S+", lines[0]), r.out
    assert any(line.startswith("spec: ") for line in lines), r.out
    if is_husk():
        # as runc prints it: the commit built from, the spec, libseccomp's version
        fields = dict(line.split(": ", 1) for line in lines[1:])
        assert fields.get("commit"), r.out
        assert re.match(r"^\d+\.\d+\.\d+$", fields.get("libseccomp", "")), r.out
        assert re.match(r"^1\.\d+\.\d+$", fields["spec"]), r.out


def test_spec_state_and_version_agree_on_oci_version(rt, bundle):
    """One ociVersion: what `spec` writes, what `state` reports, what
    --version and features name."""
    rt.cmd("spec", "--bundle", bundle.path).check()
    with open(os.path.join(bundle.path, "config.json")) as f:
        written = json.load(f)["ociVersion"]
    bundle.set_args("/bin/probe", "sleep", "30")
    r = rt.create(bundle)
    assert r.rc == 0, r
    assert rt.state(r.cid)["ociVersion"] == written
    version = rt.cmd("--version").check().out
    assert f"spec: {written}" in version.splitlines(), version
    if is_husk():
        assert json.loads(rt.cmd("features").check().out)["ociVersionMax"] == written


def test_help(rt):
    r = rt.cmd("--help").check()
    for c in ("create", "start", "run", "delete", "state", "kill", "list"):
        assert c in r.out


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(rt, command):
    r = rt.cmd(command, "--help").check()
    assert command in r.out.lower()


def test_unknown_command(rt):
    r = rt.cmd("no-such-command")
    assert r.rc != 0
    if is_husk():
        assert r.rc == 1
        assert "no-such-command" in r.err


def test_spec_writes_a_runnable_config(rt, bundle):
    assert not os.path.exists(os.path.join(bundle.path, "config.json"))
    rt.cmd("spec", "--bundle", bundle.path).check()
    with open(os.path.join(bundle.path, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    kinds = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= kinds
    assert any(m["destination"] == "/proc" for m in cfg["mounts"])
    # what it wrote runs, once made non-interactive
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/probe", "pid"]
    bundle.config = cfg
    res = rt.run(bundle)
    assert res.rc == 0, res
    assert res.lines()[0]["pid"] == 1


def test_spec_refuses_to_overwrite(rt, bundle):
    path = os.path.join(bundle.path, "config.json")
    with open(path, "w") as f:
        f.write("keep me")
    r = rt.cmd("spec", "--bundle", bundle.path)
    assert r.rc != 0
    with open(path) as f:
        assert f.read() == "keep me"


def test_features(rt):
    r = rt.cmd("features").check()
    f = json.loads(r.out)
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMin"])
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMax"])
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                                "startContainer", "poststart", "poststop"}
    assert {"bind", "rbind", "ro", "nosuid"} <= set(f["mountOptions"])
    linux = f["linux"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= set(
        linux["namespaces"])
    assert "CAP_SYS_ADMIN" in linux["capabilities"]
    assert linux["seccomp"]["enabled"] is True
    assert "SCMP_ACT_ERRNO" in linux["seccomp"]["actions"]


def test_root_option_isolates_state(rt, bundle, tmp_path):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    other = rt.cmd("list", "--quiet", global_args=()).out.split()
    assert cid in other
    from conftest import Runtime
    elsewhere = Runtime(str(tmp_path / "other-root"), rt.iodir)
    assert elsewhere.state_raw(cid).rc != 0
    assert elsewhere.list(quiet=True).out.split() == []


def test_global_options_as_engines_write_them(rt, bundle, tmp_path):
    # conmon writes `--log-format=json`; go-runc writes `--log L --log-format json`
    log = tmp_path / "log.json"
    bundle.set_args("/bin/probe", "pid")
    bundle.write()
    cid = rt.new_id()
    r = rt.cmd_files(cid, "create", "--bundle", bundle.path, "--pid-file",
                     str(tmp_path / "pid"), "--no-new-keyring", cid,
                     global_args=(f"--log={log}", "--log-format=json", "--debug"))
    assert r.rc == 0, r
    assert rt.state(cid)["status"] == "created"


def test_short_options(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "30")
    bundle.write()
    cid = rt.new_id()
    rt.cmd_files(cid, "create", "-b", bundle.path, cid).check()
    entries = json.loads(rt.cmd("list", "-f", "json").check().out)
    assert [e["id"] for e in entries] == [cid]
    assert rt.cmd("list", "-q").check().out.split() == [cid]
    rt.cmd("delete", "-f", cid).check()


def test_rootless_false_is_accepted(rt):
    r = rt.cmd("list", global_args=("--rootless", "false"))
    assert r.rc == 0, r


# ---------------------------------------------------------------------------
# One voice: every failure is ONE stderr line `husk: error: COMMAND [ID]: ...`.
# Each case: (name, argv, what the config.json of the bundle is, usage error?).
# "{b}" is replaced by the bundle path, "{id}" by a fresh container id.
# ---------------------------------------------------------------------------
MISSING = "it-missing-container"
BAD_INVOCATIONS = [
    # usage errors: unknown option, missing argument, too many arguments
    ("no command", [], None, True),
    ("unknown command", ["no-such-command"], None, True),
    ("unknown global option", ["--bogus", "list"], None, True),
    ("global option without its value", ["--log"], None, True),
    ("bad log format", ["--log-format", "xml", "list"], None, True),
    ("create without id", ["create"], None, True),
    ("create with two ids", ["create", "a", "b"], None, True),
    ("create unknown option", ["create", "--bogus", "{id}"], None, True),
    ("create option without value", ["create", "{id}", "--bundle"], None, True),
    ("create short option without value", ["create", "{id}", "-b"], None, True),
    ("create bad preserve-fds", ["create", "--preserve-fds", "x", "{id}"], None, True),
    ("run without id", ["run"], None, True),
    ("run unknown option", ["run", "--bogus", "{id}"], None, True),
    ("start without id", ["start"], None, True),
    ("start unknown option", ["start", "--bogus", "x"], None, True),
    ("state without id", ["state"], None, True),
    ("state with two ids", ["state", "a", "b"], None, True),
    ("kill without id", ["kill"], None, True),
    ("kill too many", ["kill", "a", "KILL", "c"], None, True),
    ("kill unknown signal", ["kill", MISSING, "NOSIG"], None, True),
    ("kill unknown short option", ["kill", "-x", MISSING], None, True),
    ("delete without id", ["delete"], None, True),
    ("delete unknown option", ["delete", "--bogus", MISSING], None, True),
    ("list with an argument", ["list", "x"], None, True),
    ("list unknown option", ["list", "--bogus"], None, True),
    ("list bad format", ["list", "--format", "yaml"], None, True),
    ("exec without id", ["exec"], None, True),
    ("exec without command", ["exec", MISSING], None, True),
    ("exec unknown option", ["exec", "--bogus", MISSING, "sh"], None, True),
    ("exec bad user", ["exec", "--user", "x:y:z", MISSING, "sh"], None, True),
    ("ps without id", ["ps"], None, True),
    ("ps unknown option", ["ps", "--bogus", MISSING], None, True),
    ("pause without id", ["pause"], None, True),
    ("resume two ids", ["resume", "a", "b"], None, True),
    ("update without id", ["update"], None, True),
    ("update bad value", ["update", "--memory", "lots", MISSING], None, True),
    ("events without id", ["events"], None, True),
    ("events option without value", ["events", MISSING, "--interval"], None, True),
    ("spec with an argument", ["spec", "x"], None, True),
    ("spec unknown option", ["spec", "--bogus"], None, True),
    ("features with an argument", ["features", "x"], None, True),
    # the container does not exist
    ("state missing", ["state", MISSING], None, False),
    ("start missing", ["start", MISSING], None, False),
    ("kill missing", ["kill", MISSING], None, False),
    ("delete missing", ["delete", MISSING], None, False),
    ("exec missing", ["exec", MISSING, "sh"], None, False),
    ("ps missing", ["ps", MISSING], None, False),
    ("pause missing", ["pause", MISSING], None, False),
    ("resume missing", ["resume", MISSING], None, False),
    ("update missing", ["update", "--memory", "64m", MISSING], None, False),
    ("events missing", ["events", "--stats", MISSING], None, False),
    # bad input: ids, bundles, config.json syntax and validation
    ("bad id", ["create", "--bundle", "{b}", "bad/id"], "default", False),
    ("id with a newline", ["create", "--bundle", "{b}", "a\nb"], "default", False),
    ("no bundle", ["create", "--bundle", "/nonexistent-bundle", "{id}"], None, False),
    ("config syntax", ["create", "--bundle", "{b}", "{id}"], "{", False),
    ("config not an object", ["create", "--bundle", "{b}", "{id}"], "[1]", False),
    ("relative cwd", ["create", "--bundle", "{b}", "{id}"], "relative-cwd", False),
    ("no root.path", ["create", "--bundle", "{b}", "{id}"], "no-root", False),
    ("terminal without console socket", ["create", "--bundle", "{b}", "{id}"], "terminal",
     False),
    ("bad signal name in kill of missing", ["kill", MISSING, "0x"], None, True),
    ("spec over an existing config", ["spec", "--bundle", "{b}"], "default", False),
    ("binary not in PATH", ["create", "--bundle", "{b}", "{id}"], "missing-binary", False),
]


def _write_case_config(bundle, kind):
    path = os.path.join(bundle.path, "config.json")
    cfg = json.loads(json.dumps(bundle.config))
    if kind in ("{", "[1]"):
        with open(path, "w") as f:
            f.write(kind)
        return
    if kind == "relative-cwd":
        cfg["process"]["cwd"] = "relative/dir"
    elif kind == "no-root":
        del cfg["root"]
    elif kind == "terminal":
        cfg["process"]["terminal"] = True
    elif kind == "missing-binary":
        cfg["process"]["args"] = ["no-such-binary"]
    with open(path, "w") as f:
        json.dump(cfg, f)


DOUBLED = re.compile(r"(?:^|[\s:])([\w./-]+): \1:")


@pytest.mark.husk_only
@pytest.mark.parametrize("name,argv,config,usage", BAD_INVOCATIONS,
                         ids=[c[0] for c in BAD_INVOCATIONS])
def test_errors_have_one_form(rt, bundle, tmp_path, name, argv, config, usage):
    if config is not None:
        _write_case_config(bundle, config)
    cid = rt.new_id()
    args = [a.replace("{b}", bundle.path).replace("{id}", cid) for a in argv]
    log = tmp_path / "log.json"
    # global options go before the command: split them off the case's argv
    r = rt.cmd(*args, global_args=("--log", str(log), "--log-format", "json"))
    assert r.rc == 1, r
    lines = r.err.splitlines()
    assert len(lines) == 1, f"want one stderr line, got {r.err!r}"
    line = lines[0]
    assert re.match(r"^husk: error: \S", line), line
    assert "Usage:" not in r.err and "unrecognized" not in r.err, line
    assert not DOUBLED.search(line), f"doubled name: {line}"
    assert "Invalid argument" not in line, line
    # a reason said in words is not followed by the errno's text saying it again
    assert not re.search(r"not found[^:]*: No such file or directory$", line), line
    if usage:
        if args and args[0] in COMMANDS:
            assert line.startswith(f"husk: error: {args[0]}: "), line
            assert line.endswith(f"(see 'husk {args[0]} --help')"), line
        else:
            assert line.endswith("(see 'husk --help')"), line
    elif args[0] in COMMANDS and not line.startswith("husk: error: open log"):
        # COMMAND ID: step: reason, the id once
        rest = line[len("husk: error: "):]
        assert rest.startswith(args[0] + " ") or rest.startswith(args[0] + ":"), line
        if MISSING in args:
            assert rest.count(MISSING) == 1, line
            assert "does not exist" in rest, line
    if name in ("unknown global option", "global option without its value", "bad log format"):
        return  # the log is not open yet: its options are what failed
    # the same message reaches the JSON log, where engines read it ("msg")
    entries = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    errors = [e for e in entries if e["level"] == "error"]
    assert errors, entries
    msg = errors[-1]["msg"]
    shown = line[len("husk: error: "):]
    assert shown.startswith(msg.replace("\n", "\\n")), (msg, line)
    rt.assert_nothing_left()
