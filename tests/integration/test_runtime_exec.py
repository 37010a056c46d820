"""exec flags the exec tests do not cover: short spellings, env override,
capabilities, groups, no_new_privs, a pty held by husk, paused containers."""

import time

import pytest

from conftest import husk_only


@pytest.fixture
def running(rt, bundle):
    bundle.process["noNewPrivileges"] = False
    bundle.process["user"]["additionalGids"] = [5]
    bundle.process["env"].append("KEEP=1")
    bundle.process["env"].append("OVER=old")
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    return cid


def probe(rt, *args, input=None):
    r = rt.cmd("exec", *args, input=input)
    assert r.rc == 0, r
    out = r.lines()
    return out[0] if len(out) == 1 else out


def cap_bit(mask_hex, cap):
    return (int(mask_hex, 16) >> cap) & 1


def test_short_flags_and_env_override(rt, running):
    out = probe(rt, "-e", "OVER=new", "-e", "ADDED=2", "-u", "1000:100", running,
                "/bin/probe", "env", "+", "ids")
    env = out[0]["env"]
    assert "OVER=new" in env and "OVER=old" not in env, "--env replaces the same key"
    assert "KEEP=1" in env and "ADDED=2" in env
    assert (out[1]["uid"], out[1]["gid"]) == (1000, 100)


def test_additional_gids_are_added(rt, running):
    out = probe(rt, "-g", "100", "-g", "1000", running, "/bin/probe", "ids")
    assert {5, 100, 1000} <= set(out["groups"])


def test_cap_adds_to_bounding_effective_and_permitted(rt, running):
    CAP_SYS_ADMIN = 21
    base = probe(rt, running, "/bin/probe", "caps")
    assert not cap_bit(base["effective"], CAP_SYS_ADMIN)
    out = probe(rt, "--cap", "CAP_SYS_ADMIN", running, "/bin/probe", "caps")
    for s in ("bounding", "effective", "permitted"):
        assert cap_bit(out[s], CAP_SYS_ADMIN), s
    for s in ("inheritable", "ambient"):
        assert out[s] == base[s], s


def test_cap_leaves_the_configs_inheritable_and_ambient(rt, bundle):
    """As runc: the config's inheritable and ambient sets stay as they are."""
    CAP_CHOWN, CAP_KILL, CAP_SYSLOG = 0, 5, 34
    bundle.process["capabilities"] = {
        "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG"], "effective": [],
        "inheritable": ["CAP_CHOWN"], "permitted": ["CAP_KILL", "CAP_CHOWN"],
        "ambient": ["CAP_CHOWN"]}
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    out = probe(rt, "--cap", "CAP_SYSLOG", cid, "/bin/probe", "caps")
    assert int(out["inheritable"], 16) == 1 << CAP_CHOWN
    assert int(out["ambient"], 16) == 1 << CAP_CHOWN
    want = (1 << CAP_CHOWN) | (1 << CAP_KILL) | (1 << CAP_SYSLOG)
    for s in ("bounding", "effective", "permitted"):
        assert int(out[s], 16) == want, s


def test_no_new_privs_flag(rt, running):
    assert probe(rt, running, "/bin/probe", "caps")["no_new_privs"] == 0
    assert probe(rt, "--no-new-privs", running, "/bin/probe", "caps")["no_new_privs"] == 1


@husk_only
def test_exec_tty_without_console_socket_is_relayed_by_husk(rt, running):
    r = rt.cmd("exec", "-t", running, "/bin/sh", "-c", "tty; read x; echo got:$x",
               input="hey\n")
    assert r.rc == 0, r
    assert "/dev/pts/" in r.out
    assert "got:hey" in r.out


def test_exec_needs_ignore_paused_on_a_paused_container(rt, running):
    rt.cmd("pause", running).check()
    try:
        r = rt.cmd("exec", running, "/bin/true")
        assert r.rc != 0
        assert "paused" in r.err
    finally:
        rt.cmd("resume", running).check()
    assert probe(rt, running, "/bin/probe", "pid")


def test_exec_options_stop_at_the_container_id(rt, running):
    # everything after the id belongs to the command, even if it looks like a flag
    r = rt.cmd("exec", running, "/bin/sh", "-c", 'printf "%s %s" "$0" "$1"', "-e", "--tty")
    assert r.rc == 0, r
    assert r.out.strip() == "-e --tty"
