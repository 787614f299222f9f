#!/bin/busybox sh
# /init of the guest's initramfs (built by scripts/setup-guest.sh; busybox only). It loads the
# modules that 9p needs, mounts the host's root read-only at /host and the job directory at /job
# (two 9p shares from QEMU), then hands over to /job/init, which the runner copies from
# test/guest/guest-init.sh for every boot, so that changing it needs no new initramfs. Whatever
# happens, the guest powers off and QEMU (run with -no-reboot) exits.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "vigil-guest: $*" >/dev/console; }
say "initramfs $(cut -d' ' -f1 /proc/uptime)"

# shellcheck disable=SC2046
modprobe -a $(cat /modules) || say "modprobe failed"
# cache=loose on the read-only root: the host does not change it under a test, and without a
# page cache over 9p, starting Node alone takes seconds under emulation.
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro,cache=loose host /host &&
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 job /job; then
  if [ -f /job/init ]; then sh /job/init; else say "no /job/init"; fi
else
  say "cannot mount the 9p shares"
fi
poweroff -f
