#!/bin/sh
# Build the test host's boot files, once, into a cache directory:
#   root.img   Debian 12 root filesystem (debootstrap from Debian's archive,
#              the packages of packages.txt, systemd as init), raw ext4
#   vmlinux    Debian's kernel (linux-image-amd64 of this host), unpacked
#              once so that QEMU under TCG does not spend seconds in XZ
#   initrd     a tiny initramfs: busybox plus the ~20 modules that find and
#              mount root.img and the 9p shares (Debian's drivers are modules)
#   stamp      hash of everything the files are made from; a different hash
#              (package list, this script, the guest files, the kernel)
#              rebuilds them, an equal one reuses them.
# The debootstrapped tree itself is cached as base.tar (with base.stamp: the
# suite, mirror and package list), so that changing only the guest's
# configuration or the kernel skips debootstrap.
# Prints the cache directory. Needs root and HUSK_HOSTS_DEPS=1 scripts/deps.sh.
#
# Environment: HUSK_TESTHOST_CACHE (default /var/cache/husk-testhost),
# HUSK_TESTHOST_MIRROR (default: the Debian archive in this host's apt
# sources, else http://deb.debian.org/debian).
set -eu
# stdout carries only the cache directory; the tools' chatter goes to stderr
exec 3>&1 1>&2
here=$(cd "$(dirname "$0")" && pwd)
cache=${HUSK_TESTHOST_CACHE:-/var/cache/husk-testhost}
suite=bookworm

log() { echo "testhost: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "building the image needs root (debootstrap, mkfs)"
for tool in debootstrap mkfs.ext4 cpio gzip busybox; do
	command -v "$tool" >/dev/null || die "$tool missing: run HUSK_HOSTS_DEPS=1 sh scripts/deps.sh"
done

# The Debian archive this host already uses (deb822 or one-line sources),
# so that the image comes from the same mirror or snapshot.
debian_mirror() {
	if [ -n "${HUSK_TESTHOST_MIRROR:-}" ]; then
		echo "$HUSK_TESTHOST_MIRROR"
		return
	fi
	url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's,^URIs: *\(http[^ ]*/debian\)/*$,\1,p' \
			-e 's,^deb  *\(\[[^]]*\]  *\)\{0\,1\}\(http[^ ]*/debian\)/*  *'"$suite"' .*,\2,p' |
		head -n 1)
	echo "${url:-http://deb.debian.org/debian}"
}

# Debian's kernel: the version linux-image-amd64 points at on this host.
kernel_version() {
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) ||
		die "linux-image-amd64 missing: run HUSK_HOSTS_DEPS=1 sh scripts/deps.sh"
	echo "$dep" | sed -n 's/.*linux-image-\([0-9][^ ,]*\).*/\1/p'
}

mirror=$(debian_mirror)
kver=$(kernel_version)
if [ -z "$kver" ] || [ ! -f "/boot/vmlinuz-$kver" ] || [ ! -d "/lib/modules/$kver" ]; then
	die "Debian kernel $kver: /boot/vmlinuz-$kver or /lib/modules/$kver missing"
fi
packages=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')

stamp=$({
	echo "$suite $mirror $kver $packages"
	dpkg-query -W -f='${Version}\n' "linux-image-$kver"
	cat "$here/build-image.sh" "$here/packages.txt" "$here"/guest/*
} | sha256sum | cut -d' ' -f1)

# One build at a time; a second caller waits and then finds it up to date.
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9

if [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$cache/root.img" ] && [ -f "$cache/vmlinux" ] && [ -f "$cache/initrd" ]; then
	log "image up to date in $cache"
	echo "$cache" >&3
	exit 0
fi

log "building the image in $cache (kernel $kver, mirror $mirror)"
mkdir -p "$cache/debs"
work=$(mktemp -d "$cache/build.XXXXXX")
cleanup() {
	# debootstrap may leave proc/sys mounted in the chroot on failure
	for m in proc sys dev/pts dev; do
		mountpoint -q "$work/root/$m" 2>/dev/null && umount -l "$work/root/$m"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
root=$work/root

# 1. Debian's root filesystem; downloaded .debs stay in the cache, and so
#    does the result, until the package list changes.
start=$(date +%s)
base_stamp=$(echo "$suite $mirror $packages" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$cache/base.stamp" 2>/dev/null)" != "$base_stamp" ] || [ ! -f "$cache/base.tar" ]; then
	debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs" \
		"$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log" >&2
		die "debootstrap failed"
	}
	rm -f "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*_Packages
	tar -C "$root" --numeric-owner --xattrs -cf "$work/base.tar" .
	mv -f "$work/base.tar" "$cache/base.tar"
	echo "$base_stamp" >"$cache/base.stamp"
	log "debootstrap: $(($(date +%s) - start)) s"
else
	mkdir "$root"
	tar -C "$root" --numeric-owner --xattrs -xf "$cache/base.tar"
fi

# 2. The kernel's modules, without the hardware drivers a VM never needs.
mkdir -p "$root/lib/modules"
tar -C /lib/modules -cf - \
	--exclude="$kver/kernel/drivers/gpu" --exclude="$kver/kernel/drivers/media" \
	--exclude="$kver/kernel/drivers/infiniband" --exclude="$kver/kernel/drivers/net/wireless" \
	--exclude="$kver/kernel/drivers/net/ethernet" --exclude="$kver/kernel/drivers/staging" \
	--exclude="$kver/kernel/drivers/usb" --exclude="$kver/kernel/drivers/hid" \
	--exclude="$kver/kernel/drivers/iio" --exclude="$kver/kernel/drivers/input" \
	--exclude="$kver/kernel/drivers/bluetooth" --exclude="$kver/kernel/sound" \
	--exclude="$kver/kernel/net/wireless" --exclude="$kver/kernel/net/mac80211" \
	--exclude="$kver/kernel/net/bluetooth" "$kver" | tar -C "$root/lib/modules" -xf -
depmod -b "$root" "$kver"

# 3. The guest's configuration: systemd on the unified hierarchy, no
#    login prompts or timers, and the unit that runs the host's command.
echo husk-testhost >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 husk-testhost\n' >"$root/etc/hosts"
: >"$root/etc/fstab"
: >"$root/etc/machine-id"
mkdir -p "$root/mnt/out"
install -m 0644 "$here/guest/husk-testhost.service" "$root/etc/systemd/system/"
install -m 0755 "$here/guest/husk-testhost-start" "$root/usr/local/sbin/"
ln -sf /etc/systemd/system/husk-testhost.service \
	"$root/etc/systemd/system/multi-user.target.wants/husk-testhost.service"
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
# masked: seconds each under TCG, and nothing the tests use
for unit in getty@tty1.service serial-getty@ttyS0.service getty.target \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	fstrim.timer systemd-tmpfiles-clean.timer e2scrub_reap.service \
	modprobe@dm_mod.service modprobe@efi_pstore.service modprobe@loop.service \
	sys-kernel-debug.mount sys-kernel-tracing.mount; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/testhost.conf"
chroot "$root" passwd -d root >/dev/null

# 4. The root filesystem as a raw ext4 image: its size plus 1 GiB for the
#    tests (the VM writes to a throw-away snapshot, never to the image).
size_mb=$(($(du -sm "$root" | cut -f1) + 1024))
mkfs.ext4 -q -F -L husk-root -E root_owner=0:0 -d "$root" "$work/root.img" "${size_mb}M"

# 5. The kernel, unpacked from its XZ bzImage.
sh "$here/extract-vmlinux.sh" "/boot/vmlinuz-$kver" >"$work/vmlinux"

# 6. The initramfs: modules in dependency order, then busybox's init.
sh "$here/make-initrd.sh" "$root/lib/modules/$kver" "$here/guest/initrd-init" "$work/initrd"

for f in root.img vmlinux initrd; do
	mv -f "$work/$f" "$cache/$f"
done
echo "$stamp" >"$cache/stamp"
log "image built in $(($(date +%s) - start)) s: $(du -sh "$cache/root.img" | cut -f1) root.img"
echo "$cache" >&3
