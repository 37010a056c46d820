"""The Debian package, built and installed the way a user does it: the
source tree copied into a scratch directory (dpkg-buildpackage writes next
to the tree, so nothing lands outside it), `dpkg-buildpackage -b`, lintian,
then `dpkg --root` installs the .deb into a throw-away root with its own
dpkg database, the installed husk runs a busybox container, and `dpkg
--purge` takes every file away again. The host's dpkg database is never
touched."""
import gzip
import json
import os
import re
import shutil
import subprocess
import pathlib
import sys
import tempfile
import time
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import husktest  # noqa: E402
DEPS_HINT = "HUSK_PKG_DEPS=1 sh scripts/deps.sh installs it"
DROP_IN = "etc/containers/containers.conf.d/50-husk.conf"
COMPLETION = "usr/share/bash-completion/completions/husk"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs into a root and runs a container: needs root")


def sh(cmd, **kw):
    kw.setdefault("timeout", 600)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout


def copy_source(dest):
    """The files git knows (tracked, or new and not ignored): what a clone
    holds, without build directories."""
    files = sh(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    for rel in filter(None, files.split("\0")):
        src = os.path.join(ROOT, rel)
        if not os.path.lexists(src):  # deleted in the work tree, not yet committed
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)


@pytest.fixture(scope="module")
def work():
    """A scratch directory of our own (not pytest's tmp_path, whose old
    numbered directories another pytest run may delete under a container)."""
    d = tempfile.mkdtemp(prefix="husk-pkg-")
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def built(work):
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        assert shutil.which(tool), f"{tool} is missing: {DEPS_HINT}"
    out = work / "deb"
    src = out / "husk"
    copy_source(src)
    # make check has run the unit tests already: nocheck leaves them (and
    # their build) out of the package build, to keep this stage short.
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1))
    sh(["dpkg-buildpackage", "-us", "-uc", "-b", "-Pnocheck"], cwd=src, env=env)
    debs = sorted(out.glob("husk_*.deb"))
    changes = sorted(out.glob("husk_*.changes"))
    assert len(debs) == 1 and len(changes) == 1, os.listdir(out)
    return {"dir": out, "deb": debs[0], "changes": changes[0]}


@pytest.fixture(scope="module")
def installed(built, work):
    """The .deb installed with dpkg into an empty root of its own."""
    root = work / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "usr/bin"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    dpkg = ["dpkg", f"--root={root}", "--force-not-root", "--log=/dev/null"]
    # The root has no libc6 &c. in its database: the host's provide them.
    sh(dpkg + ["--force-depends", "-i", str(built["deb"])])
    return {"root": root, "dpkg": dpkg, "husk": str(root / "usr/bin/husk")}


def commands(husk):
    out = sh([husk, "--help"])
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def test_deb_info(built):
    info = sh(["dpkg-deb", "--info", str(built["deb"])])
    fields = dict(re.findall(r"^ (\S+): (.*)$", info, re.M))
    assert fields["Package"] == "husk"
    assert fields["Version"] == sh(["dpkg-parsechangelog", "-S", "Version", "-l",
                                    os.path.join(ROOT, "debian", "changelog")]).strip()
    assert fields["Architecture"] == sh(["dpkg", "--print-architecture"]).strip()
    assert "conffiles" in info  # the Podman drop-in under /etc


def test_lintian_finds_no_error(built):
    r = subprocess.run(["lintian", "--fail-on", "error", "--no-tag-display-limit",
                        str(built["changes"])], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not re.search(r"^E: ", r.stdout, re.M), r.stdout


def test_package_installs_the_files(built, installed):
    root, husk = installed["root"], installed["husk"]
    listed = set(sh(installed["dpkg"] + ["-L", "husk"]).split())
    man = [f"usr/share/man/man8/husk-{c}.8.gz" for c in commands(husk)] + ["usr/share/man/man8/husk.8.gz"]
    vm = ["usr/bin/husk-vm", "usr/libexec/husk/husk-agent", "usr/lib/husk/vm/husk-agent.cpio",
          "usr/share/man/man8/husk-vm.8.gz"]
    for rel in ["usr/bin/husk", COMPLETION, DROP_IN] + man + vm:
        assert "/" + rel in listed, f"{rel} not in the package"
        assert (root / rel).is_file(), f"{rel} not installed"
    assert os.access(husk, os.X_OK)
    # debian/changelog and meson.build name the same version
    version = sh(["dpkg-deb", "--field", str(built["deb"]), "Version"]).strip()
    assert sh([husk, "--version"]).splitlines()[0] == f"husk version {version}"
    conffiles = (root / "var/lib/dpkg/info/husk.conffiles").read_text().split()
    assert conffiles == ["/" + DROP_IN]


def test_man_pages_render_without_warnings(installed):
    """groff as man --warnings runs it, one page at a time."""
    pages = sorted((installed["root"] / "usr/share/man/man8").glob("husk*.8.gz"))
    assert pages
    for page in pages:
        text = gzip.decompress(page.read_bytes()).decode()
        assert "\n.SH EXAMPLES\n" in text, f"{page.name} has no EXAMPLES"
        r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8"], input=text,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", f"{page.name}: {r.stderr}"


def test_podman_drop_in_registers_husk_by_name(installed):
    with open(installed["root"] / DROP_IN, "rb") as f:
        conf = tomllib.load(f)
    assert conf == {"engine": {"runtimes": {"husk": ["/usr/bin/husk"]}}}


def complete(installed, *words):
    """What the installed completion offers for the last of WORDS."""
    script = f"""
source {installed['root'] / COMPLETION}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_WORDS[0]={installed['husk']}
_husk; printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    return sh(["bash", "-c", script, "bash", *words]).split()


@pytest.fixture
def bundle(work, request):
    """A busybox bundle; config.json comes from write_config()."""
    path = work / request.node.name
    rootfs = path / "rootfs" / "bin"
    rootfs.mkdir(parents=True)
    assert os.path.exists("/bin/busybox"), f"busybox-static is missing: {DEPS_HINT}"
    shutil.copy2("/bin/busybox", rootfs / "busybox")
    (rootfs / "sh").symlink_to("busybox")
    return path


def write_config(husk, bundle, args, **extra):
    sh([husk, "spec", "--bundle", str(bundle)])
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = args
    cfg.update(extra)
    (bundle / "config.json").write_text(json.dumps(cfg))


@pytest.fixture(scope="module", autouse=True)
def subreaper():
    """A created container's init outlives `husk create`: it becomes our
    child (PID 1 here does not reap), and we reap it after the tests."""
    husktest.become_subreaper()
    yield
    husktest.reap_zombies()


def test_installed_husk_runs_a_container(installed, bundle):
    husk, state = installed["husk"], str(bundle / "state")
    write_config(husk, bundle, ["/bin/busybox", "sh", "-c", "echo hello from $(busybox hostname)"],
                 hostname="pkgtest")
    out = sh([husk, "--root", state, "run", "--bundle", str(bundle), "pkg-run"], timeout=60)
    assert out == "hello from pkgtest\n"
    assert sh([husk, "--root", state, "list", "-q"]) == ""  # run deleted it


def test_completion_offers_commands_options_and_ids(installed, bundle):
    husk, state = installed["husk"], str(bundle / "state")
    assert complete(installed, "husk", "cr") == ["create"]
    assert "--no-subreaper" in complete(installed, "husk", "run", "--no")
    assert complete(installed, "husk", "--log-format", "") == ["text", "json"]
    write_config(husk, bundle, ["/bin/busybox", "true"])
    # The created init keeps the stdio it was given: no pipe of ours, which
    # would hold subprocess.run until the container is gone.
    err = bundle / "create.err"
    try:
        with open(err, "w") as f:
            r = subprocess.run([husk, "--root", state, "create", "--bundle", str(bundle), "pkg-complete"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f, timeout=60)
        assert r.returncode == 0, err.read_text()
        assert complete(installed, "husk", "--root", state, "kill", "pkg-") == ["pkg-complete"]
        assert "KILL" in complete(installed, "husk", "--root", state, "kill", "pkg-complete", "KI")
    finally:
        sh([husk, "--root", state, "delete", "--force", "pkg-complete"], timeout=60)
        reap_children()


def reap_children(wait_s=10):
    """Reap the killed init (our child as subreaper) once it has died."""
    for _ in range(wait_s * 20):
        husktest.reap_zombies()
        if not husktest.children():
            return
        time.sleep(0.05)
    pytest.fail(f"children left behind: {husktest.children()}")


def test_purge_leaves_nothing(installed):
    root = installed["root"]
    sh(installed["dpkg"] + ["--purge", "husk"])
    left = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
            if not os.path.relpath(d, root).startswith("var/lib/dpkg")]
    assert left == []
    assert not (root / "usr/bin/husk").exists()
