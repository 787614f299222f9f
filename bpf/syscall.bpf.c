// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall dispatcher (see lib/syscall.h): the one program attached to sys_exit. It
 * tail-calls the handler at the syscall's number in vg_sys_exit_progs, which the agent fills
 * before it attaches the dispatcher; an empty slot ends the tail call at once, and so does a
 * number past the table.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lib/syscall.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	/* Every syscall number of x86-64 and arm64 is below 512 (the newest, in 6.18, are near 470). */
	__uint(max_entries, 512);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} vg_sys_exit_progs SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	bpf_tail_call(ctx, &vg_sys_exit_progs, VG_SYSCALL_NR(regs));
	return 0;
}
