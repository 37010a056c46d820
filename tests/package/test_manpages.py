"""The man pages in docs/man/ against the binary: every command has a page,
and each page documents exactly the options `husk CMD --help` lists (both
ways), each of which the binary really accepts. A new option without docs,
or docs for an option that went away, fails here."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN_DIR = os.path.join(ROOT, "docs", "man")
HUSK = os.environ.get("HUSK", os.path.join(ROOT, "build", "husk"))

# An option token: --long-name, or -x standing alone (not -ef, -1, or a-b).
OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?![\w-])")


def husk(*args):
    return subprocess.run([HUSK, *args], capture_output=True, text=True, timeout=30)


def help_text(cmd):
    r = husk(cmd, "--help") if cmd else husk("--help")
    assert r.returncode == 0, r.stderr
    return r.stdout


def section(text, start, stop=r"^\S"):
    """The lines after the line matching START up to the next matching STOP."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(start, line):
            out = []
            for rest in lines[i + 1:]:
                if re.match(stop, rest):
                    break
                out.append(rest)
            return out
    return []


def help_options(cmd):
    start = r"^Global options:" if cmd is None else r"^Options:"
    lines = section(help_text(cmd), start)
    return set(OPTION.findall("\n".join(lines)))


def help_commands():
    return [line.split()[0] for line in section(help_text(None), r"^Commands:") if line.strip()]


def man_source(page):
    with open(os.path.join(MAN_DIR, page + ".8")) as f:
        return f.read()


def unroff(line):
    """Plain text of one roff line: font escapes dropped, \\- made a hyphen."""
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-")


def man_options(page):
    """{option: takes an argument} from the .TP tags of OPTIONS (or GLOBAL OPTIONS)."""
    name = "GLOBAL OPTIONS" if page == "husk" else "OPTIONS"
    lines = section(man_source(page), rf"^\.SH {name}$", r"^\.SH ")
    found = {}
    for i, line in enumerate(lines):
        if line.startswith(".TP") and i + 1 < len(lines):
            tag = unroff(lines[i + 1])
            takes_arg = OPTION.sub("", tag).replace(",", "").strip() != ""
            for opt in OPTION.findall(tag):
                found[opt] = takes_arg
    return found


COMMANDS = help_commands()


def test_every_command_has_a_page_and_no_page_is_stale():
    assert COMMANDS, "husk --help lists no commands"
    pages = sorted(f[:-2] for f in os.listdir(MAN_DIR) if f.endswith(".8"))
    # husk-vm(8): husk under its second name (the vm backend), not a command
    assert pages == sorted(["husk", "husk-vm"] + [f"husk-{c}" for c in COMMANDS])


def test_husk8_lists_every_command():
    lines = section(man_source("husk"), r"^\.SH COMMANDS$", r"^\.SH ")
    listed = [line.split()[1] for line in lines if line.startswith(".B ")]
    assert listed == COMMANDS


@pytest.mark.parametrize("cmd", [None] + COMMANDS, ids=lambda c: c or "global")
def test_man_page_options_match_help(cmd):
    page = f"husk-{cmd}" if cmd else "husk"
    in_man = set(man_options(page))
    in_help = help_options(cmd)
    assert in_help, f"no options found in husk {cmd or ''} --help"
    assert in_help - in_man == set(), f"in --help but not in {page}(8)"
    assert in_man - in_help == set(), f"in {page}(8) but not in --help"


@pytest.mark.parametrize("cmd", [None] + COMMANDS, ids=lambda c: c or "global")
def test_documented_options_are_accepted(cmd, tmp_path):
    """Each documented option, given an argument when its page shows one,
    gets past getopt: --help after it then prints the usage."""
    page = f"husk-{cmd}" if cmd else "husk"
    for opt, takes_arg in man_options(page).items():
        if opt in ("--help", "-h", "--version", "-v"):
            continue
        value = ["1"] if takes_arg else []
        if cmd is None:
            args = [opt, *value, "--help"]
        else:
            args = ["--root", str(tmp_path), cmd, opt, *value, "--help"]
        r = husk(*args)
        assert "unrecognized option" not in r.stderr and "invalid option" not in r.stderr, (
            f"{page}(8) documents {opt}, which husk does not accept: {r.stderr}")
        assert "requires an argument" not in r.stderr, f"{opt}: {r.stderr}"
