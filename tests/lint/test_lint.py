"""The house rules CI checks: every C file clang-format clean, every shell
script shellcheck clean (warnings and errors), cppcheck finding nothing
in src/, and the library line: the CLI includes only the public header (and
printing helpers), and what husk/husk.h declares is declared nowhere else.
One test per file, so a failure names it."""

import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tracked(*patterns):
    out = subprocess.run(["git", "ls-files", "--", *patterns], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return sorted(p for p in out.split() if os.path.exists(os.path.join(REPO, p)))


def shell_scripts():
    scripts = tracked("*.sh")
    for extra in (".ci/run",):
        if os.path.exists(os.path.join(REPO, extra)):
            scripts.append(extra)
    return scripts


def need(tool):
    if not shutil.which(tool):
        pytest.fail(f"{tool} is not installed: scripts/deps.sh installs it")


def run(argv):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize("path", tracked("*.c", "*.h"))
def test_clang_format(path):
    need("clang-format")
    r = run(["clang-format", "--dry-run", "-Werror", path])
    assert r.returncode == 0, f"run clang-format -i {path}\n{r.stderr[:3000]}"


@pytest.mark.parametrize("path", shell_scripts())
def test_shellcheck(path):
    need("shellcheck")
    r = run(["shellcheck", "-x", "-S", "warning", "-f", "gcc", path])
    assert r.returncode == 0, r.stdout[:3000]


# memleak and its kin: cppcheck does not model __attribute__((cleanup)),
# which frees husk's _cleanup_free_ and _cleanup_close_ variables on every
# return; leaks are found by the ASan+UBSan (LeakSanitizer) run instead.
CPPCHECK_SUPPRESS = ["missingIncludeSystem", "memleak", "resourceLeak", "leakReturnValNotUsed"]


def test_cppcheck():
    need("cppcheck")
    argv = ["cppcheck", "-q", "--std=c11", "--enable=warning,portability", "--inline-suppr",
            "--error-exitcode=1", "-I", "src", "-I", "include", "-D__linux__", "-j2"]
    argv += [f"--suppress={s}" for s in CPPCHECK_SUPPRESS]
    r = run(argv + ["src"])
    assert r.returncode == 0, r.stderr[:5000]


# What src/cli may include besides system headers: the public API, its own
# header, the generated version, and two header-only helpers that reach no
# libhusk internals: escape (printing user strings) and cleanup (the
# cleanup-attribute macros every C file of the house uses).
CLI_INCLUDES = {"husk/husk.h", "cli/cli.h", "husk_version.h", "util/escape.h",
                "util/cleanup.h"}


@pytest.mark.parametrize("path", tracked("src/cli/*.c", "src/cli/*.h"))
def test_cli_includes_only_public_api(path):
    with open(os.path.join(REPO, path)) as f:
        local = re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)
    assert set(local) <= CLI_INCLUDES, f"{path} includes {sorted(set(local) - CLI_INCLUDES)}"


def declared(text):
    """Names of the functions a header declares or defines at file scope."""
    return set(re.findall(r"^[a-z][^;{}()#]*?\b(husk_\w+)\(", text, re.M))


def test_public_declarations_are_not_repeated():
    with open(os.path.join(REPO, "include/husk/husk.h")) as f:
        public = declared(f.read())
    assert len(public) > 20
    repeated = []
    for path in tracked("src/*.h"):
        with open(os.path.join(REPO, path)) as f:
            repeated += [f"{path}: {name}" for name in sorted(declared(f.read()) & public)]
    assert not repeated, "declared in husk/husk.h and again in " + ", ".join(repeated)
