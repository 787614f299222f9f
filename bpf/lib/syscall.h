/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Syscall events are taken at sys_exit_* tracepoints, where the result is known, with the
 * arguments read from the registers saved at syscall entry: one program per syscall, so an
 * uninteresting call costs one tracepoint and not two. (kprobes and fentry, which would see
 * the kernel's own view of the arguments, are not available on every kernel we meet.)
 */
#ifndef VIGIL_LIB_SYSCALL_H
#define VIGIL_LIB_SYSCALL_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* The user registers saved at syscall entry. */
static __always_inline struct pt_regs *vg_syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * Argument @n (0-4) of the current syscall, by the architecture's syscall convention. Plain
 * loads: the registers come from bpf_task_pt_regs as a pointer the verifier trusts, and a load
 * costs about 25 ns less than a probe read per argument.
 */
#define VG_SYSCALL_ARG0(regs) PT_REGS_PARM1_SYSCALL(regs)
#define VG_SYSCALL_ARG1(regs) PT_REGS_PARM2_SYSCALL(regs)
#define VG_SYSCALL_ARG2(regs) PT_REGS_PARM3_SYSCALL(regs)
#define VG_SYSCALL_ARG3(regs) PT_REGS_PARM4_SYSCALL(regs)
#define VG_SYSCALL_ARG4(regs) PT_REGS_PARM5_SYSCALL(regs)

#endif /* VIGIL_LIB_SYSCALL_H */
