/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Syscall events are taken at the syscall's exit, where the result is known, with the arguments
 * read from the registers saved at entry. One program, vg_sys_exit (syscall.bpf.c), is attached
 * to the sys_exit BTF tracepoint that every syscall passes, and tail-calls the handler the agent
 * put at the syscall's number in vg_sys_exit_progs (src/sensor/kernel/syscalls.ts). A syscall
 * without a handler (read, close, ...) costs that program and a missed tail call; nothing else.
 *
 * Why not a syscalls:sys_exit_<name> tracepoint per syscall: each is a perf event, and
 * detaching one waits for RCU grace periods under a global mutex (60-90 ms here), so sixty-five
 * of them take five seconds to stop; and an open+close loop runs slightly faster with the
 * dispatcher than with them. kprobes and fentry, which would see the kernel's own view of the
 * arguments, are not available on every kernel we meet.
 *
 * The entries of the credential syscalls, the only ones taken (bpf/proc.bpf.c), stay classic
 * sys_enter_<name> tracepoints: a dispatcher on sys_enter would cost every syscall of the host
 * a program run (about 40 ns here, +10% on an open+close loop), where the classic ones cost the
 * syscalls they are not on next to nothing. Nine of them take about 0.6 s to detach.
 *
 * A handler is a tp_btf program on the same tracepoint as its dispatcher (a tail call needs the
 * same program type and attach point), defined with VG_SYSCALL_EXIT below. It must never be
 * attached itself: it would run for every syscall of the host.
 */
#ifndef VIGIL_LIB_SYSCALL_H
#define VIGIL_LIB_SYSCALL_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lib/filter.h"

/* arch/x86/include/asm/thread_info.h; uapi asm/ptrace.h (arm64). #defines, so vmlinux.h lacks them. */
#define VG_X86_TS_COMPAT 0x0002
#define VG_ARM64_PSR_MODE32_BIT 0x10

/* The number of the syscall that @regs (saved at its entry) belongs to. */
#if defined(__TARGET_ARCH_x86)
#define VG_SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define VG_SYSCALL_NR(regs) ((regs)->syscallno)
#else
#error "syscall numbers are read for x86 and arm64 only"
#endif

/*
 * Whether the current syscall comes from the 32-bit compat ABI (ia32 on x86-64, AArch32 on
 * arm64). Those have their own numbers, which index the 64-bit handlers by mistake (ia32's
 * link is x86-64's mmap), and their own argument registers; the syscalls:* tracepoints never
 * reported them either. x32 calls carry bit 30 in their number: past every handler.
 */
static __always_inline bool vg_syscall_compat(const struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return bpf_get_current_task_btf()->thread_info.status & VG_X86_TS_COMPAT;
#else
	return regs->pstate & VG_ARM64_PSR_MODE32_BIT;
#endif
}

/*
 * Argument @n (0-4) of the current syscall, by the architecture's syscall convention. Plain
 * loads: the tracepoint hands the registers over as a pointer the verifier trusts, and a load
 * costs about 25 ns less than a probe read per argument.
 */
#define VG_SYSCALL_ARG0(regs) PT_REGS_PARM1_SYSCALL(regs)
#define VG_SYSCALL_ARG1(regs) PT_REGS_PARM2_SYSCALL(regs)
#define VG_SYSCALL_ARG2(regs) PT_REGS_PARM3_SYSCALL(regs)
#define VG_SYSCALL_ARG3(regs) PT_REGS_PARM4_SYSCALL(regs)
#define VG_SYSCALL_ARG4(regs) PT_REGS_PARM5_SYSCALL(regs)

/*
 * Defines @prog, a handler of a syscall's exit that vg_sys_exit tail-calls, followed by its
 * body: a function of @regs, the registers saved at the syscall's entry, and @ret, the
 * syscall's result. The body runs for 64-bit syscalls only.
 */
#define VG_SYSCALL_EXIT(prog)                                                   \
	static __always_inline int prog##_body(struct pt_regs *regs, long ret); \
	SEC("tp_btf/sys_exit")                                                  \
	int BPF_PROG(prog, struct pt_regs *regs, long ret)                      \
	{                                                                       \
		return vg_syscall_compat(regs) ? 0 : prog##_body(regs, ret);    \
	}                                                                       \
	static __always_inline int prog##_body(struct pt_regs *regs, long ret)

/*
 * As VG_SYSCALL_EXIT, for a handler that reports event kind @op and does nothing else: its
 * body runs only when the kind is wanted (vg_interest), with @kind, @regs and @ret.
 */
#define VG_SYSCALL_EXIT_OF(op, prog)                                                                       \
	static __always_inline int prog##_of(const struct vg_kind_config *kind, struct pt_regs *regs, long ret); \
	VG_SYSCALL_EXIT(prog)                                                                              \
	{                                                                                                  \
		const struct vg_kind_config *kind = vg_interest(op);                                       \
                                                                                                           \
		return kind ? prog##_of(kind, regs, ret) : 0;                                              \
	}                                                                                                  \
	static __always_inline int prog##_of(const struct vg_kind_config *kind, struct pt_regs *regs, long ret)

#endif /* VIGIL_LIB_SYSCALL_H */
