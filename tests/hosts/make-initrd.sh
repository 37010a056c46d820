#!/bin/sh
# Make the test host's initramfs: busybox, the kernel modules that find and
# mount the root disk and the 9p shares (with what they depend on, in load
# order), and the init script. Usage: make-initrd.sh MODULES_DIR INIT OUT
set -eu
mods=$1 init=$2 out=$3
# virtio on PCI (q35) and on MMIO (microvm), the disk, ext4, 9p over virtio
want="virtio_pci virtio_mmio virtio_blk crc32c_generic ext4 9pnet_virtio 9p"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/newroot" "$tmp/lib/modules"
cp /bin/busybox "$tmp/bin/busybox"
for a in sh mount umount insmod switch_root mkdir sleep cat echo; do
	ln -s busybox "$tmp/bin/$a"
done
install -m 0755 "$init" "$tmp/init"

# modules.dep lines are "path: dep dep ..." with the deps needed first last
deps_of() { # module name -> its path, after the paths it needs
	path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$mods/modules.dep" | head -n 1 | cut -d: -f1)
	[ -n "$path" ] || return 0 # built into the kernel
	for d in $(grep -E "^$path:" "$mods/modules.dep" | cut -d: -f2); do
		echo "$d"
	done | tac
	echo "$path"
}
: >"$tmp/order"
for m in $want; do
	for p in $(deps_of "$m"); do
		grep -qx "$p" "$tmp/order" || echo "$p" >>"$tmp/order"
	done
done
while read -r p; do
	name=$(basename "$p")
	case $name in
	*.ko.xz) xz -dc "$mods/$p" >"$tmp/lib/modules/${name%.xz}" ;;
	*.ko.zst) zstd -qdc "$mods/$p" >"$tmp/lib/modules/${name%.zst}" ;;
	*) cp "$mods/$p" "$tmp/lib/modules/$name" ;;
	esac
	echo "${name%.ko*}.ko" >>"$tmp/lib/modules/order"
done <"$tmp/order"
(cd "$tmp" && find . -path ./order -prune -o -print | cpio -o -H newc --quiet) | gzip -1 >"$out"
