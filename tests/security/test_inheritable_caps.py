"""CVE-2022-29162: non-empty inheritable capabilities by default.

A non-empty inheritable set lets a program with file capabilities regain
capabilities the container was supposed to drop (and ambient capabilities
survive exec outright).  With a config that does not ask for them, the
container's CapInh and CapAmb must be 0; with the runtime's own default
config (`spec`) too.

Against runc 1.1.5: defended (runc >= 1.1.2 leaves inheritable empty).
The companion test shows the measurement seeing a non-empty set when a
config does ask for one, so the check can fail.
"""

import json
import subprocess



def caps(stdout):
    out = {}
    for line in stdout.splitlines():
        for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            if line.startswith(key + ":"):
                out[key] = int(line.split()[1], 16)
    return out


def status_caps(rt, bundle):
    bundle.config["process"]["args"] = ["/bin/cat", "/proc/self/status"]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    return caps(r.stdout)


def test_no_inheritable_key_gives_empty_inheritable(rt, bundle):
    assert "inheritable" not in bundle.config["process"]["capabilities"]
    c = status_caps(rt, bundle)
    assert c["CapInh"] == 0, f"inheritable set not empty: {c['CapInh']:#x}"
    assert c["CapAmb"] == 0, f"ambient set not empty: {c['CapAmb']:#x}"
    assert c["CapEff"] != 0  # the configured caps did apply


def test_non_root_user_gets_no_caps(rt, bundle):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    c = status_caps(rt, bundle)
    assert c["CapInh"] == 0 and c["CapAmb"] == 0
    assert c["CapEff"] == 0 and c["CapPrm"] == 0, c


def test_runtime_spec_default_has_empty_inheritable(rt, bundle, tmp_path):
    d = tmp_path / "specdir"
    d.mkdir()
    r = subprocess.run([rt.binary, "spec"], cwd=d, capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    spec = json.loads((d / "config.json").read_text())
    capcfg = spec["process"].get("capabilities", {})
    assert not capcfg.get("inheritable"), capcfg
    assert not capcfg.get("ambient"), capcfg
    bundle.config["process"]["capabilities"] = capcfg
    c = status_caps(rt, bundle)
    assert c["CapInh"] == 0 and c["CapAmb"] == 0, c


def test_inheritable_measurement_can_fail(rt, bundle):
    """Companion: when a config asks for an inheritable cap, the same
    measurement sees it (CAP_KILL = bit 5)."""
    bundle.config["process"]["capabilities"]["inheritable"] = ["CAP_KILL"]
    c = status_caps(rt, bundle)
    assert c["CapInh"] == 1 << 5, c
