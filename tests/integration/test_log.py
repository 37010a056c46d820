"""--log and --log-format: engines read the runtime's errors from the log file."""

import json

from conftest import is_husk


def test_json_log_on_error(rt, tmp_path):
    log = tmp_path / "log.json"
    r = rt.cmd("state", "it-missing-container", global_args=("--log", str(log),
                                                               "--log-format", "json"))
    assert r.rc == 1
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines, "an error must be logged"
    for entry in lines:
        assert {"level", "msg", "time"} <= set(entry), entry
    errors = [e for e in lines if e["level"] == "error"]
    assert errors
    if is_husk():
        assert "it-missing-container" in errors[-1]["msg"]


def test_json_log_on_failed_run(rt, bundle, tmp_path):
    log = tmp_path / "log.json"
    bundle.config["root"]["path"] = "no-such-rootfs"
    r = rt.run(bundle, None, global_args=("--log", str(log), "--log-format", "json"))
    assert r.rc != 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(e["level"] == "error" for e in lines)
    rt.assert_nothing_left()


def test_text_log(rt, tmp_path):
    log = tmp_path / "log.txt"
    r = rt.cmd("state", "it-missing-container", global_args=("--log", str(log)))
    assert r.rc == 1
    text = log.read_text()
    assert "error" in text
    if is_husk():
        assert "it-missing-container" in text


def test_log_appends(rt, tmp_path):
    log = tmp_path / "log.json"
    log.write_text('{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n')
    rt.cmd("state", "it-missing", global_args=("--log", str(log), "--log-format", "json"))
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])["msg"] == "earlier"
    assert len(lines) >= 2


def test_success_is_quiet(rt, bundle, tmp_path):
    log = tmp_path / "log.json"
    r = rt.run(bundle, None, global_args=("--log", str(log), "--log-format", "json"))
    assert r.rc == 0, r
    if log.exists():
        for line in log.read_text().splitlines():
            assert json.loads(line)["level"] not in ("error", "fatal")
