"""What the README tells a new user to type works: `make demo` leaves its
bundle to reuse and says what to try next, and "Using husk by hand" runs
line by line."""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import HUSK, REPO, husk_only, spawn

needs_busybox = pytest.mark.skipif(not os.path.exists("/bin/busybox"),
                                   reason="needs Debian's busybox-static")


def _sh(cmd, cwd, env, input=None, timeout=60):
    """Output to files, not pipes: a detached container keeps its stdio."""
    with open(os.path.join(cwd, ".out"), "w+b") as out, \
            open(os.path.join(cwd, ".err"), "w+b") as err:
        p = spawn(["bash", "-ec", cmd], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=out,
                  stderr=err)
        p.communicate(input.encode() if input else None, timeout=timeout)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read().decode(errors="replace"), err.read().decode(
            errors="replace")


@husk_only
@needs_busybox
def test_demo_leaves_its_bundle_and_says_what_to_try(tmp_path):
    bindir = tmp_path / "build"
    bindir.mkdir()
    shutil.copy2(HUSK, bindir / "husk")
    rc, out, err = _sh(f"sh {REPO}/scripts/demo.sh {bindir}/husk", str(tmp_path), os.environ)
    assert rc == 0, (out, err)
    bundle = bindir / "demo-bundle"
    assert (bundle / "config.json").exists() and (bundle / "rootfs" / "bin" / "busybox").exists()
    tail = out.rstrip().splitlines()[-4:]
    assert str(bundle) in tail[0], tail
    commands = [line.strip() for line in tail[1:]]
    assert all(str(bundle) in c for c in commands), commands
    # the first one runs the demo again from the bundle it left
    root = tmp_path / "state"
    rc, out, err = _sh(commands[0].replace(" run ", f" --root {root} run ", 1), str(tmp_path),
                       os.environ)
    assert rc == 0, (out, err)
    assert "-- hostname:" in out


def _readme_by_hand():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    section = text.split("## Using husk by hand", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


@husk_only
@needs_busybox
def test_readme_by_hand_works_line_by_line(tmp_path):
    root = tmp_path / "state"
    cid = f"it-readme-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PATH=f"{os.path.dirname(HUSK)}:{os.environ['PATH']}")
    # run in our own state root and with a fresh id, as written otherwise
    wrapper = tmp_path / "wrap"
    wrapper.mkdir()
    (wrapper / "husk").write_text(f'#!/bin/sh\nexec {HUSK} --root {root} "$@"\n')
    (wrapper / "husk").chmod(0o755)
    env["PATH"] = f"{wrapper}:{env['PATH']}"
    cwd = str(tmp_path)
    try:
        for line in _readme_by_hand():
            cmd = re.sub(r"\bdemo\b", cid, line.split("  #")[0].strip())
            if "&& cd " in cmd:
                first, target = cmd.split("&& cd ")
                rc, out, err = _sh(first, cwd, env)
                assert rc == 0, (line, out, err)
                cwd = os.path.join(cwd, target.strip())
                continue
            if cmd.startswith("cd "):
                cwd = os.path.join(cwd, cmd[3:].strip())
                continue
            if re.match(rf"husk run {cid}$", cmd):
                # interactive: a terminal of its own, and a shell to leave
                cmd = f"script -qec 'husk run {cid}' /dev/null"
                rc, out, err = _sh(cmd, cwd, env, input="echo in-the-box; exit 3\n")
                assert rc == 3 and "in-the-box" in out, (line, rc, out, err)
                continue
            rc, out, err = _sh(cmd, cwd, env)
            assert rc == 0, (line, out, err)
    finally:
        subprocess.run([HUSK, "--root", str(root), "delete", "--force", cid],
                       capture_output=True)
    assert subprocess.run([HUSK, "--root", str(root), "list", "-q"], capture_output=True,
                          text=True).stdout.split() == []
