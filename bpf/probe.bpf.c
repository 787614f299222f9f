// SPDX-License-Identifier: GPL-2.0-only
/*
 * One trivial program per kernel capability the agent may rely on. The agent's preflight loads
 * (and attaches) them one at a time, with autoload off for the others, to learn which program
 * types, attach points and helpers this kernel accepts before it picks its data and enforcement
 * paths. None of them does anything when it runs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Never a running task's pid: the verifier must check the bpf_send_signal call, the CPU never runs it. */
const volatile __u32 probe_signal_pid = 0;

/* BTF tracepoints: the process programs. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(probe_tp_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return 0;
}

/* Raw tracepoints: syscall entry without tracefs. */
SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx)
{
	return 0;
}

/* Classic tracepoints: per-syscall hooks; attaching needs tracefs. */
SEC("tracepoint/syscalls/sys_enter_getpid")
int probe_tracepoint(void *ctx)
{
	return 0;
}

/* BPF-LSM: enforcement that stops an operation before it happens. */
SEC("lsm/bprm_check_security")
int BPF_PROG(probe_lsm, struct linux_binprm *bprm)
{
	return 0;
}

/*
 * fentry (BPF trampolines). The target exists so that BPF can be tested against it: it is in
 * every kernel with BPF and networking, never inlined, in BTF, and only runs under
 * BPF_PROG_TEST_RUN. An ordinary function (do_nanosleep) could be inlined by some builds and
 * make the probe fail for a reason that says nothing about fentry.
 */
SEC("fentry/bpf_fentry_test1")
int BPF_PROG(probe_fentry)
{
	return 0;
}

/* kprobes, on the same function. */
SEC("kprobe/bpf_fentry_test1")
int probe_kprobe(void *ctx)
{
	return 0;
}

/* cgroup connect4: network enforcement (1 lets the connect through). */
SEC("cgroup/connect4")
int probe_cgroup_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

/* cgroup sock_create: socket creation enforcement (1 allows). */
SEC("cgroup/sock_create")
int probe_cgroup_sock_create(struct bpf_sock *ctx)
{
	return 1;
}

/* bpf_send_signal from a tracepoint: the kill fallback where LSM is refused. */
SEC("tracepoint/syscalls/sys_enter_getpid")
int probe_send_signal(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == probe_signal_pid)
		bpf_send_signal(9);
	return 0;
}
