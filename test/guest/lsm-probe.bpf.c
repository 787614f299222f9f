// SPDX-License-Identifier: GPL-2.0-only
/*
 * The smallest BPF-LSM enforcement, for the guest's own test (lsm-probe.guest.ts): file_open of
 * an inode in `denied` fails with EPERM. file_open because it is the hook every open of an
 * existing file passes, after the path is resolved, so the file is known by its inode and not
 * by one of its names. The hook also counts the files `watched_tgid` opens, by device and
 * inode as the hook sees them, to show which device number that is (on overlayfs not stat()'s).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "lsm-probe.h"

#define EPERM 1

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 watched_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct probe_file);
	__type(value, __u64); /* denials */
} denied SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct probe_file);
	__type(value, __u64); /* opens */
} opened SEC(".maps");

SEC("lsm/file_open")
int BPF_PROG(probe_file_open, struct file *file, int ret)
{
	struct probe_file id = {};
	__u64 *denials, *opens, one = 1;

	/* An earlier LSM already refused: keep its answer. */
	if (ret)
		return ret;
	id.ino = BPF_CORE_READ(file, f_inode, i_ino);
	id.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	if (watched_tgid && (bpf_get_current_pid_tgid() >> 32) == watched_tgid) {
		opens = bpf_map_lookup_elem(&opened, &id);
		if (opens)
			__sync_fetch_and_add(opens, 1);
		else
			bpf_map_update_elem(&opened, &id, &one, BPF_NOEXIST);
	}
	denials = bpf_map_lookup_elem(&denied, &id);
	if (!denials)
		return 0;
	__sync_fetch_and_add(denials, 1);
	return -EPERM;
}
