#!/bin/sh
# `make demo`: build a busybox bundle next to the husk binary (build/demo-bundle
# for `make demo`), run it with husk, show what the container sees, and print
# the commands to try next with that bundle. Needs root and Debian's
# busybox-static (scripts/deps.sh installs it).
set -eu

husk=$(realpath "${1:-build/husk}")
busybox=${BUSYBOX:-/bin/busybox}

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (husk creates namespaces, mounts and cgroups)" >&2
	exit 1
fi
if [ ! -x "$husk" ]; then
	echo "demo: no husk binary at $husk (run make first)" >&2
	exit 1
fi
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
	echo "demo: needs Debian's busybox-static (apt-get install busybox-static)" >&2
	exit 1
fi

# The bundle stays for the user to reuse; the state of this run does not.
bundle=$(dirname "$husk")/demo-bundle
work=$(mktemp -d /tmp/husk-demo.XXXXXX)
id=husk-demo-$$
root=$work/state
cleanup() {
	"$husk" --root "$root" delete --force "$id" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== building a busybox bundle in $bundle"
rm -rf "$bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$bundle/rootfs/proc" \
	"$bundle/rootfs/sys" "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
cp "$busybox" "$bundle/rootfs/bin/busybox"
# Relative links, so they resolve inside the container's root.
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$bundle/rootfs/etc/passwd"
echo "root:x:0:" >"$bundle/rootfs/etc/group"
cat >"$bundle/rootfs/bin/demo" <<'SCRIPT'
#!/bin/sh
echo "-- hostname: $(hostname)"
echo "-- id: $(id)"
echo "-- processes (a PID namespace of its own; the shell is PID 1):"
ps
echo "-- the root filesystem:"
ls /
echo "-- capabilities (a small default set):"
grep Cap /proc/self/status
echo "-- mounts:"
mount | head -n 8
SCRIPT
chmod 755 "$bundle/rootfs/bin/demo"

echo "== husk spec (default, hardened config.json), then run /bin/demo without a terminal"
(cd "$bundle" && "$husk" spec)
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's|^\( *\)"sh"$|\1"/bin/demo"|' "$bundle/config.json"

echo "== husk run $id"
echo
status=0
"$husk" --root "$root" run --bundle "$bundle" "$id" || status=$?
echo
echo "== the container exited with status $status; husk run deleted it:"
"$husk" --root "$root" list
echo
echo "== the bundle stays in $bundle; try next (as root):"
echo "  $husk run --bundle $bundle demo"
echo "  $husk --debug run --bundle $bundle demo 2>&1 | grep -E 'step=\"(mount|pivot_root|exec)\"'"
echo "  $husk create --bundle $bundle demo && $husk state demo && $husk delete --force demo"
exit "$status"
