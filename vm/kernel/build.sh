#!/bin/sh
# Build husk's guest kernel (an uncompressed vmlinux that QEMU's microvm boots
# through PVH) from Debian's linux-source package and vm/kernel/guest.config.
#
#   vm/kernel/build.sh OUT
#
# The result is cached under HUSK_VM_CACHE (default /var/cache/husk-vm), keyed
# by the source package's version and this directory's files, so it is built
# once per machine and again only when the source or the config changes. OUT
# receives a copy. About 13 minutes on 2 cores.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=${HUSK_VM_CACHE:-/var/cache/husk-vm}
src=/usr/src/linux-source-6.1.tar.xz
[ -r "$src" ] || { echo "vm/kernel: $src missing (apt-get install linux-source-6.1)" >&2; exit 1; }

srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1)
key=$( (echo "$srcver"; cat "$here/guest.config" "$here/build.sh") | sha256sum | cut -c1-16)
kernel=$cache/vmlinux-$key
mkdir -p "$cache" "$(dirname "$out")"
exec 9>"$cache/lock"
flock 9
if [ ! -s "$kernel" ]; then
	work=$cache/build-$key
	rm -rf "$work"
	mkdir -p "$work"
	echo "vm/kernel: building the guest kernel (linux-source $srcver, key $key)" >&2
	tar -C "$work" -xf "$src"
	tree=$work/linux-source-6.1
	make -C "$tree" -s tinyconfig >/dev/null
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$here/guest.config" >/dev/null
	make -C "$tree" -s olddefconfig >/dev/null
	# Every option the fragment sets must have survived olddefconfig: a
	# dependency it lacks silently drops it otherwise.
	missing=$(grep '^CONFIG_' "$here/guest.config" | while read -r opt; do
		grep -qx "$opt" "$tree/.config" || echo "$opt"; done)
	[ -z "$missing" ] || { echo "vm/kernel: options dropped by kconfig: $missing" >&2; exit 1; }
	make -C "$tree" -s -j"$(nproc)" vmlinux KBUILD_BUILD_USER=husk KBUILD_BUILD_HOST=husk
	cp "$tree/vmlinux" "$kernel.tmp"
	strip --strip-debug "$kernel.tmp" 2>/dev/null || true
	mv "$kernel.tmp" "$kernel"
	rm -rf "$work"
fi
cp "$kernel" "$out.tmp"
mv "$out.tmp" "$out"
