"""process.args, process.env, process.cwd, stdio and inherited fds."""

import os

from conftest import is_husk


def test_args_are_passed_verbatim(rt, bundle):
    args = ["a b", "", "ü-ñ", "$HOME", "'quoted'", "-x", "--", "*"]
    bundle.set_args("/bin/sh", "-c", 'for a in "$@"; do printf "<%s>\\n" "$a"; done', "sh",
                    *args)
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.splitlines() == [f"<{a}>" for a in args]


def test_args0_is_looked_up_in_path(rt, bundle):
    bundle.set_args("probe", "pid")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.lines()[0]["pid"] == 1


def test_missing_executable_fails_and_leaves_nothing(rt, bundle):
    bundle.set_args("/bin/no-such-program")
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_missing_executable_in_path_fails(rt, bundle):
    bundle.set_args("no-such-program")
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "no-such-program" in r.err
    rt.assert_nothing_left()


def test_env_is_exactly_the_config(rt, bundle):
    env = ["PATH=/bin", "A=1", "B=with spaces", "C=x=y", "EMPTY=", "HOME=/custom",
           "UTF8=ü-ñ-✓", "QUOTE=\"'\\"]
    bundle.process["env"] = list(env)
    out = rt.probe(bundle, "env")
    seen = [e for e in out["env"] if not e.startswith("HUSK_ITEST_MARK=")]
    assert seen == env


def test_home_defaults_from_passwd(rt, bundle):
    bundle.process["env"] = ["PATH=/bin"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    out = rt.probe(bundle, "env")
    assert "HOME=/home/user" in out["env"]


def test_home_defaults_for_root(rt, bundle):
    bundle.process["env"] = ["PATH=/bin"]
    out = rt.probe(bundle, "env")
    assert "HOME=/root" in out["env"]


def test_cwd(rt, bundle):
    bundle.process["cwd"] = "/tmp"
    assert rt.probe(bundle, "cwd")["cwd"] == "/tmp"


def test_cwd_missing_is_created(rt, bundle):
    bundle.process["cwd"] = "/work/dir"
    assert rt.probe(bundle, "cwd")["cwd"] == "/work/dir"
    assert os.path.isdir(os.path.join(bundle.rootfs, "work", "dir"))


def test_cwd_relative_is_rejected(rt, bundle):
    bundle.process["cwd"] = "tmp"
    bundle.set_args("/bin/probe", "cwd")
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_only_stdio_fds_are_open(rt, bundle):
    # the runtime's own fds (state dir, sockets, cgroup dirs) must not leak
    fds = rt.probe(bundle, "fds")["fds"]
    assert sorted(fds, key=int) == ["0", "1", "2"], fds


def test_preserve_fds(rt, bundle, tmp_path):
    path = tmp_path / "extra"
    path.write_text("x")
    fd = os.open(str(path), os.O_RDONLY)
    try:
        bundle.set_args("/bin/probe", "fds")
        r = rt.run(bundle, None, "--preserve-fds", "1", pass_fds={3: fd})
    finally:
        os.close(fd)
    assert r.rc == 0, r
    fds = r.lines()[0]["fds"]
    assert sorted(fds, key=int) == ["0", "1", "2", "3"]
    assert fds["3"].endswith("/extra")


def test_not_a_terminal_by_default(rt, bundle):
    out = rt.probe(bundle, "tty")
    assert out["isatty"] == [False, False, False]
    assert out["ttyname"] is None


def test_init_is_session_leader(rt, bundle):
    out = rt.probe(bundle, "tty", "+", "pid")
    assert out[1]["pid"] == 1
    assert out[0]["sid"] == 1
