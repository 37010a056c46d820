#!/bin/sh
# Print the uncompressed ELF kernel inside an x86 bzImage (Debian's vmlinuz).
# QEMU boots it through its PVH entry point; under TCG that saves the seconds
# the kernel would spend undoing its own XZ compression. The payload's place
# comes from the boot protocol header: setup_sects (0x1f1) gives where the
# protected-mode code starts, payload_offset (0x248) where the compressed
# kernel lies within it.
set -eu
img=$1
u8() { od -An -j "$1" -N 1 -t u1 "$img" | tr -d ' '; }
u32() { od -An -j "$1" -N 4 -t u4 --endian=little "$img" | tr -d ' '; }
setup_sects=$(u8 $((0x1f1)))
[ "$setup_sects" = 0 ] && setup_sects=4
offset=$(( (setup_sects + 1) * 512 + $(u32 $((0x248))) ))
length=$(u32 $((0x24c)))
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
tail -c +$((offset + 1)) "$img" | head -c "$length" >"$tmp"
case $(od -An -N 6 -t x1 "$tmp" | tr -d ' ') in
fd377a585a00) xz -dc --single-stream "$tmp" ;;
28b52ffd*) zstd -dc "$tmp" ;;
1f8b*) gzip -dc "$tmp" 2>/dev/null || true ;;
*) echo "extract-vmlinux: $img: unknown kernel compression" >&2; exit 1 ;;
esac
