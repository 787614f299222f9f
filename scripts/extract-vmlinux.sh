#!/usr/bin/env bash
# Writes the uncompressed kernel (an ELF vmlinux) inside an x86 bzImage to stdout.
#
# QEMU boots an ELF vmlinux directly through its PVH entry, which skips the kernel's own
# decompressor: under software emulation that decompression costs seconds on every boot. The
# kernel tree's scripts/extract-vmlinux is in no Debian binary package, and it scans for every
# compression magic; the x86 boot protocol header says exactly where the payload is instead:
# it starts payload_offset (u32 at 0x248) bytes into the protected-mode part, which follows
# setup_sects (u8 at 0x1f1) + 1 sectors of 512 bytes, and is payload_length (u32 at 0x24c) long.
set -euo pipefail

image=${1:?usage: extract-vmlinux.sh BZIMAGE}
die() { printf 'extract-vmlinux: %s: %s\n' "$image" "$*" >&2; exit 1; }
u() { od -An -t"u$2" -j "$1" -N "$2" "$image" | tr -d ' '; }

[ "$(od -An -c -j $((0x202)) -N 4 "$image" | tr -d ' ')" = HdrS ] || die "not a bzImage (no HdrS header)"
setup_sects=$(u $((0x1f1)) 1)
[ "$setup_sects" -ne 0 ] || setup_sects=4
start=$(((setup_sects + 1) * 512 + $(u $((0x248)) 4)))
length=$(u $((0x24c)) 4)
payload() { dd if="$image" iflag=skip_bytes,count_bytes skip="$start" count="$1" bs=1M status=none; }

# Except for gzip, the kernel's build appends the uncompressed size (4 bytes) to the payload.
case $(payload 4 | od -An -tx1 | tr -d ' ') in
  fd377a58) payload "$length" | xz -dc --single-stream ;;
  28b52ffd) payload $((length - 4)) | zstd -dcq ;;
  1f8b*) payload "$length" | gzip -dc ;;
  *) die "payload compressed in a format this script does not know (CONFIG_KERNEL_XZ, _ZSTD or _GZIP only)" ;;
esac
