#!/usr/bin/env bash
# Prepares the guest that the BPF-LSM tests boot under QEMU (test/guest): Debian's stock 6.1
# kernel, uncompressed, and an initramfs that loads the 9p and virtio modules and mounts the
# host's root. The host kernel refuses LSM programs; Debian's 6.1 kernel has `bpf` in its
# default LSM list.
#
# The newest linux-image-6.1.0-*-amd64 in the apt sources is taken unless VIGIL_GUEST_KERNEL
# names a package. Its .deb is fetched with `apt-get download` (never installed) and dropped
# once extracted. Everything lands in VIGIL_GUEST_DIR (default /var/cache/vigil-guest); a run
# with nothing changed only compares a stamp.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup-guest: %s\n' "$*" >&2; }
die() { printf 'setup-guest: error: %s\n' "$*" >&2; exit 1; }

DIR=${VIGIL_GUEST_DIR:-/var/cache/vigil-guest}
INIT=test/guest/initramfs-init.sh
# The initramfs carries only what mounting 9p needs; overlay is there so that tests can build
# the overlayfs case (stat()'s device differs from the one LSM hooks see there).
MODULES=(virtio_pci 9pnet_virtio 9p overlay)

newest_kernel() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | cut -d' ' -f1 | sort -V | tail -n 1
}

# Sets package, version and the stamp that names every input of the image, so that a new
# kernel, busybox or init rebuilds it.
resolve() {
  package=${VIGIL_GUEST_KERNEL:-$(newest_kernel)}
  version=
  [ -z "$package" ] || version=$(apt-cache show --no-all-versions "$package" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
  stamp="$package $version busybox=$(dpkg-query -W -f='${Version}' busybox-static) init=$(sha256sum "$INIT" | cut -c1-16) modules=${MODULES[*]}"
}
cached() {
  [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$stamp" ] && [ -f "$DIR/vmlinux" ] && [ -f "$DIR/initramfs.cpio" ]
}

resolve
if [ -z "$version" ]; then
  log "no ${VIGIL_GUEST_KERNEL:-linux-image-6.1.0-*-amd64} in the apt lists; updating them"
  apt-get update -q >/dev/null
  resolve
fi
[ -n "$version" ] || die "no ${VIGIL_GUEST_KERNEL:-linux-image-6.1.0-*-amd64} package in the apt sources"
cached && exit 0

log "preparing the guest kernel: $package $version"
mkdir -p "$DIR"
work=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# apt-get download writes to the current directory; as root it drops privileges to _apt, which
# must be able to write there.
chown _apt "$work" 2>/dev/null || true
download() { (cd "$work" && apt-get download -q "$package=$version" >/dev/null); }
if ! download; then
  # Stale lists name a version the archive no longer has: update them and look again.
  log "download failed; updating the apt lists"
  apt-get update -q >/dev/null
  resolve
  cached && exit 0
  download || die "cannot download $package $version"
fi
deb=$(ls "$work"/*.deb)

# Only the kernel image and the module tree are needed: the package holds ~400 MB of modules.
mkdir "$work/pkg"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/pkg" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/net/9p/*' './lib/modules/*/kernel/fs/*'
rm -f "$deb"
kver=$(ls "$work/pkg/lib/modules")

scripts/extract-vmlinux.sh "$work"/pkg/boot/vmlinuz-* >"$work/vmlinux"

# The initramfs: busybox, the module tree with its dependencies resolved by busybox's depmod,
# and the init that hands over to the job (see test/guest/initramfs-init.sh).
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,host,job,lib/modules}
cp /bin/busybox "$root/bin/busybox"
mv "$work/pkg/lib/modules/$kver" "$root/lib/modules/$kver"
busybox depmod -b "$root" "$kver"
# Keep only the wanted modules and, transitively, what they depend on.
keep=$(cd "$root/lib/modules/$kver" && for m in "${MODULES[@]}"; do
  grep -E "^kernel/(.*/)?$m\.ko:" modules.dep | cut -d: -f1 || die "module $m is not in $package"
done | sort -u)
while :; do
  more=$(cd "$root/lib/modules/$kver" && grep -F -f <(sed 's/$/:/' <<<"$keep") modules.dep | cut -d: -f2 | tr ' ' '\n' | sed '/^$/d' | cat - <(echo "$keep") | sort -u)
  [ "$more" = "$keep" ] && break
  keep=$more
done
(cd "$root/lib/modules/$kver" && find kernel -name '*.ko' | grep -vxF "$keep" | xargs rm -f && find kernel -type d -empty -delete)
busybox depmod -b "$root" "$kver"
printf '%s\n' "${MODULES[@]}" >"$root/modules"
install -m 0755 "$INIT" "$root/init"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$work/initramfs.cpio"

mv "$work/vmlinux" "$DIR/vmlinux"
mv "$work/initramfs.cpio" "$DIR/initramfs.cpio"
echo "$package $version" >"$DIR/kernel"
echo "$stamp" >"$DIR/stamp"
log "guest ready in $DIR: $(cat "$DIR/kernel")"
