#!/bin/sh
# husk and runc (the reference) must build the same mount table and /dev
# for one config.json: runc's default config and a Docker-like one, compared
# line by line once mount ids, device numbers and times are taken out.
# Usage: parity.sh /path/to/husk. Skips (77) without root, runc or busybox.
set -u
HUSK=$(readlink -f "$1")
[ "$(id -u)" = 0 ] && command -v runc >/dev/null && [ -x /bin/busybox ] &&
	command -v python3 >/dev/null || exit 77

tmp=$(mktemp -d /tmp/husk-parity.XXXXXX) || exit 1
id=parity-$$
cleanup() {
	"$HUSK" --root "$tmp/state-husk" delete -f "$id" >/dev/null 2>&1
	runc --root "$tmp/state-runc" delete -f "$id" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bundle/rootfs/bin" "$tmp/host/shm" "$tmp/host/etc"
cp /bin/busybox "$tmp/bundle/rootfs/bin/"
for t in sh cat ls; do ln -s busybox "$tmp/bundle/rootfs/bin/$t"; done
echo "nameserver 192.0.2.1" >"$tmp/host/etc/resolv.conf"
(cd "$tmp/bundle" && runc spec) || exit 1

# $1: "default" or "docker"
configure() {
	python3 - "$tmp" "$1" <<'PY'
import json, sys
tmp, kind = sys.argv[1], sys.argv[2]
path = tmp + "/bundle/config.json"
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "exec 2>&1; cat /proc/self/mountinfo; ls -l /dev /etc"]
if kind == "docker":
    c["root"]["readonly"] = False
    c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev/shm"] + [
        {"destination": "/dev/shm", "type": "bind", "source": tmp + "/host/shm",
         "options": ["rbind", "rprivate"]},
        {"destination": "/etc/resolv.conf", "type": "bind",
         "source": tmp + "/host/etc/resolv.conf", "options": ["rbind", "rprivate"]},
    ]
    c["linux"]["maskedPaths"] += ["/proc/interrupts", "/sys/devices/virtual/powercap"]
json.dump(c, open(path, "w"))
PY
}

# Mount ids, parent ids, device numbers and dates differ between any two runs.
normalise() {
	sed -E 's/^[0-9]+ [0-9]+ [0-9]+:[0-9]+ //; s/[A-Z][a-z]{2} +[0-9]+ +[0-9:]+ //'
}

# The deliberate difference: where the cgroup mount is "ro", husk makes the
# cgroup tmpfs read-only too (runc leaves it read-write, mode 0555).
deliberate() {
	sed -E 's|^(/ /sys/fs/cgroup )ro,(.* - tmpfs tmpfs )|\1rw,\2|'
}

status=0
for kind in default docker; do
	configure "$kind"
	rm -rf "$tmp/bundle/rootfs/etc" "$tmp/bundle/rootfs/proc" "$tmp/bundle/rootfs/dev"
	(cd "$tmp/bundle" && runc --root "$tmp/state-runc" run "$id") 2>&1 | normalise >"$tmp/runc.out"
	runc --root "$tmp/state-runc" delete -f "$id" >/dev/null 2>&1
	rm -rf "$tmp/bundle/rootfs/etc" "$tmp/bundle/rootfs/proc" "$tmp/bundle/rootfs/dev"
	(cd "$tmp/bundle" && "$HUSK" --root "$tmp/state-husk" run "$id") 2>&1 | normalise | deliberate >"$tmp/husk.out"
	"$HUSK" --root "$tmp/state-husk" delete -f "$id" >/dev/null 2>&1
	if ! grep -q ' /proc ' "$tmp/runc.out"; then
		echo "runc did not run ($kind):"; cat "$tmp/runc.out"; exit 77
	fi
	if diff -u "$tmp/runc.out" "$tmp/husk.out"; then
		echo "ok   $kind config: same mounts and /dev as runc"
	else
		echo "FAIL $kind config: differs from runc (- runc, + husk)"
		status=1
	fi
done
exit $status
