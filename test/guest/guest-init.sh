# Second stage of the guest's init, run by busybox sh from the initramfs (see
# initramfs-init.sh) with the host's root at /host and the job directory at /job. It gives the
# host's root what a running system has (proc, sys, dev, writable /tmp and /run, bpffs,
# tracefs, securityfs, cgroup2), then moves it over / and runs /job/command chrooted into it, with the job
# directory at /run/vigil-guest, and leaves the exit status in /job/status.
h=/host
say() { echo "vigil-guest: $*" >/dev/console; }
must() { "$@" || say "failed: $*"; }

must mount -t proc proc $h/proc
must mount -t sysfs sysfs $h/sys
must mount -t devtmpfs devtmpfs $h/dev
mkdir -p $h/dev/pts $h/dev/shm
must mount -t devpts devpts $h/dev/pts
must mount -t tmpfs tmpfs $h/dev/shm
must mount -t bpf bpf $h/sys/fs/bpf
must mount -t tracefs tracefs $h/sys/kernel/tracing
must mount -t debugfs debugfs $h/sys/kernel/debug
must mount -t securityfs securityfs $h/sys/kernel/security
must mount -t cgroup2 cgroup2 $h/sys/fs/cgroup

# The root is read-only: /tmp, /var/tmp and /run get a tmpfs each. Paths below /tmp that the
# command needs (a checkout there, its node_modules) are listed in /job/keep; they are moved
# over the tmpfs at the same place so that they stay visible.
i=0
while read -r p || [ -n "$p" ]; do
  [ -n "$p" ] || continue
  i=$((i + 1))
  mkdir -p /keep/$i && must mount -o bind "$h$p" /keep/$i
done </job/keep
must mount -t tmpfs -o mode=1777 tmpfs $h/tmp
must mount -t tmpfs -o mode=1777 tmpfs $h/var/tmp
must mount -t tmpfs -o mode=0755 tmpfs $h/run
i=0
while read -r p || [ -n "$p" ]; do
  [ -n "$p" ] || continue
  i=$((i + 1))
  mkdir -p "$h$p" && must mount -o move /keep/$i "$h$p"
done </job/keep
mkdir -p $h/run/vigil-guest
must mount -o bind /job $h/run/vigil-guest
ip link set lo up

say "ready $(cut -d' ' -f1 /proc/uptime)"
# The host's root goes over / before the chroot, as switch_root does: a chroot alone leaves it
# below /host in the mount tree, and kernel programs, which walk paths up to the tree's root,
# would see every path under /host.
cd $h && must mount --move . /
chroot . /bin/sh /run/vigil-guest/command >/job/output 2>&1
echo $? >/job/status
say "done $(cut -d' ' -f1 /proc/uptime)"
