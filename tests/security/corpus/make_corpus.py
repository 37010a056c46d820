#!/usr/bin/python3
"""Regenerates the bad-input corpus: each case is the default config with
one hostile or malformed change, written as <name>.json, plus expect.json
mapping each file to the words husk's error must contain (any one of
them: the field's JSON path or its key).  Files starting with exec_ are
process.json files for `exec --process`.  Run from this directory."""

import copy
import json
import sys

sys.path.insert(0, "..")
from conftest import default_config  # noqa: E402

BASE = default_config(["/bin/true"], "@CGROUP@")
PROC = copy.deepcopy(BASE["process"])
expect = {}
raw = {}


def case(name, fields, mutate=None, text=None, base=BASE):
    cfg = copy.deepcopy(base)
    if mutate:
        mutate(cfg)
    raw[name] = text if text is not None else json.dumps(cfg, indent=1) + "\n"
    expect[name] = fields


def put(path, value):
    def m(cfg):
        *parents, last = path
        node = cfg
        for p in parents:
            node = node.setdefault(p, {}) if isinstance(p, str) else node[p]
        node[last] = value
    return m


def delete(path):
    def m(cfg):
        *parents, last = path
        node = cfg
        for p in parents:
            node = node[p]
        del node[last]
    return m


R = ("linux", "resources")
case("not_json", ["config.json", "line"], text="{ this is not json\n")
case("empty_file", ["config.json"], text="")
case("top_level_array", ["config.json", "object"], text="[]\n")
case("trailing_garbage", ["config.json", "line"],
     text=json.dumps(BASE) + "\n}}}garbage\n")
case("no_root", ["root"], delete(("root",)))
case("root_path_missing", ["root.path", "root"],
     put(("root", "path"), "no-such-rootfs"))
case("root_path_wrong_type", ["root.path", "root"], put(("root", "path"), 42))
case("no_process", ["process"], delete(("process",)))
case("args_wrong_type", ["process.args", "args"],
     put(("process", "args"), "/bin/true"))
case("args_empty", ["process.args", "args"], put(("process", "args"), []))
case("args_not_strings", ["process.args", "args"],
     put(("process", "args"), ["/bin/true", 7]))
case("env_not_strings", ["process.env", "env"], put(("process", "env"), [1, 2]))
case("cwd_relative", ["process.cwd", "cwd"], put(("process", "cwd"), "tmp"))
case("uid_negative", ["process.user.uid", "uid"],
     put(("process", "user", "uid"), -1))
case("uid_too_big", ["process.user.uid", "uid"],
     put(("process", "user", "uid"), 4294967296))
case("gid_huge", ["process.user.gid", "gid"],
     put(("process", "user", "gid"), 10 ** 30))
case("memory_limit_negative", ["memory.limit", "limit"],
     put(R + ("memory",), {"limit": -12345}))
case("memory_limit_huge", ["memory.limit", "limit"],
     put(R + ("memory",), {"limit": 10 ** 30}))
case("memory_limit_string", ["memory.limit", "limit"],
     put(R + ("memory",), {"limit": "64M"}))
case("pids_limit_huge", ["pids.limit", "limit"],
     put(R + ("pids",), {"limit": 10 ** 25}))
case("cpu_shares_overflow", ["config.json", "cpu", "shares"],
     text=json.dumps(BASE).replace('"resources": {',
                                   '"resources": {"cpu": {"shares": 1e400}, ', 1))
case("rlimit_unknown", ["rlimits", "RLIMIT_BOGUS"],
     put(("process", "rlimits"), [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]))
case("rlimit_soft_above_hard", ["rlimits", "soft"],
     put(("process", "rlimits"), [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 100}]))
case("capability_unknown", ["CAP_BOGUS", "capabilities"],
     put(("process", "capabilities", "bounding"), ["CAP_BOGUS"]))
case("capabilities_wrong_type", ["capabilities", "effective"],
     put(("process", "capabilities", "effective"), "CAP_KILL"))
case("namespace_unknown", ["namespaces", "bogus"],
     put(("linux", "namespaces"), [{"type": "bogus"}, {"type": "mount"}]))
case("namespace_duplicate", ["namespaces", "pid"],
     put(("linux", "namespaces"),
         [{"type": "pid"}, {"type": "pid"}, {"type": "mount"}]))
case("hostname_without_uts", ["hostname", "uts"],
     put(("linux", "namespaces"), [{"type": "pid"}, {"type": "mount"}]))
case("sysctl_unknown", ["sysctl", "kernel.bogus_sysctl_name"],
     put(("linux", "sysctl"), {"kernel.bogus_sysctl_name": "1"}))
case("sysctl_path_traversal", ["sysctl", "../"],
     put(("linux", "sysctl"), {"../../../tmp/husk-sysctl-escape": "1"}))
case("mount_destination_dotdot", ["mounts", "destination"],
     lambda c: c["mounts"].append({"destination": "/../../../../tmp/husk-evil",
                                   "type": "tmpfs", "source": "tmpfs"}))
# A relative destination is taken from "/" (runtime-spec 1.1, runc), so the
# hostile form climbs out of it.
case("mount_destination_relative_climb", ["mounts", "destination"],
     lambda c: c["mounts"].append({"destination": "relative/../../../tmp/husk-evil",
                                   "type": "tmpfs", "source": "tmpfs"}))
case("mount_options_wrong_type", ["mounts", "options"],
     lambda c: c["mounts"].append({"destination": "/mnt", "type": "tmpfs",
                                   "source": "tmpfs", "options": "ro"}))
case("device_path_dotdot", ["devices", "path"],
     put(("linux", "devices"), [{"path": "/dev/../../tmp/husk-evil-node",
                                 "type": "c", "major": 1, "minor": 3}]))
case("device_major_negative", ["devices", "major"],
     put(("linux", "devices"), [{"path": "/dev/evil", "type": "c",
                                 "major": -1, "minor": 3}]))
case("device_type_bogus", ["devices", "type"],
     put(("linux", "devices"), [{"path": "/dev/evil", "type": "z",
                                 "major": 1, "minor": 3}]))
case("masked_path_relative", ["maskedPaths"],
     put(("linux", "maskedPaths"), ["proc/kcore"]))
case("oom_score_adj_out_of_range", ["oomScoreAdj"],
     put(("process", "oomScoreAdj"), 5000))
case("uid_mapping_overflow", ["uidMappings", "hostID", "size"],
     lambda c: (c["linux"]["namespaces"].append({"type": "user"}),
                c["linux"].update(
                    uidMappings=[{"containerID": 0, "hostID": 4294967295, "size": 10}],
                    gidMappings=[{"containerID": 0, "hostID": 0, "size": 1}])))
case("seccomp_action_bogus", ["seccomp", "defaultAction"],
     put(("linux", "seccomp"), {"defaultAction": "SCMP_ACT_BOGUS"}))
case("cgroups_path_dotdot", ["cgroupsPath"],
     put(("linux", "cgroupsPath"), "/../../../husk-sec-escape"))
case("oci_version_wrong_type", ["ociVersion"], put(("ociVersion",), 1.0))

# process.json files for `exec --process`
case("exec_args_wrong_type", ["args"], put(("args",), "/bin/true"), base=PROC)
case("exec_args_missing", ["args"], delete(("args",)), base=PROC)
case("exec_cwd_relative", ["cwd"], put(("cwd",), "relative"), base=PROC)
case("exec_uid_negative", ["uid"], put(("user", "uid"), -5), base=PROC)
case("exec_capability_unknown", ["CAP_BOGUS", "capabilities"],
     put(("capabilities", "effective"), ["CAP_BOGUS"]), base=PROC)
case("exec_not_json", ["process", "line", "json"], text="{\"args\": [\n")

for name, text in raw.items():
    with open(f"{name}.json", "w") as f:
        f.write(text)
with open("expect.json", "w") as f:
    json.dump(expect, f, indent=1, sort_keys=True)
    f.write("\n")
