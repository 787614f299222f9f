// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory: mappings that are writable and executable at once (the shape of injected or
 * self-modifying code), and memfd_create (anonymous files, the usual first step of running a
 * program that never touches a disk).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/fd.h"
#include "lib/filter.h"
#include "lib/path.h"
#include "lib/syscall.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

/* include/uapi/asm-generic/mman-common.h; #defines, so vmlinux.h lacks them. */
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MEM_WX (PROT_WRITE | PROT_EXEC)
#if defined(__TARGET_ARCH_mips)
#define MAP_ANONYMOUS 0x800
#else
#define MAP_ANONYMOUS 0x20
#endif

/*
 * Sends one W+X request. Only called once prot asked for W+X and the kind is wanted, so the
 * file's path, the costly part, is resolved only for the few mappings that are sent.
 */
static __always_inline void mem_exec_mapping(struct pt_regs *regs, long ret, __u16 syscall, __u32 prot)
{
	struct vg_exec_mapping *rec = vg_record_start();
	__u32 off = sizeof(*rec);
	struct file *file = NULL;

	if (!rec)
		return;
	rec->hdr.op = VG_OP_MEM_EXEC_MAPPING;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->addr = VG_SYSCALL_ARG0(regs);
	rec->len = VG_SYSCALL_ARG1(regs);
	rec->result = ret;
	rec->prot = prot;
	rec->map_flags = 0;
	rec->fd = -1;
	rec->pkey = -1;
	rec->syscall = syscall;
	rec->path_len = 0;
	rec->mem_flags = 0;
	if (syscall == VG_MEM_MMAP) {
		rec->map_flags = VG_SYSCALL_ARG3(regs);
		rec->fd = VG_SYSCALL_ARG4(regs);
		if (!(rec->map_flags & MAP_ANONYMOUS))
			file = vg_file_of_fd(rec->fd);
	} else if (syscall == VG_MEM_PKEY_MPROTECT) {
		rec->pkey = VG_SYSCALL_ARG3(regs);
	}
	if (file) {
		bool truncated;
		__u32 len = vg_path_copy((char *)rec + off, __builtin_preserve_access_index(&file->f_path),
					 &truncated);

		rec->path_len = len;
		if (truncated)
			rec->mem_flags |= VG_MEM_PATH_TRUNCATED;
		off += len;
	}
	vg_record_send(rec, off);
}

/*
 * mmap and mprotect run constantly (every library load, every allocator arena), so each
 * handler first reads prot from the saved registers and leaves unless it asks for write and
 * execute together; only then is the kind's interest looked up (so the filtered count is a
 * count of W+X requests). The exits are taken for the result (an mmap's address).
 */
static __always_inline int mem_protection(struct pt_regs *regs, long ret, __u16 syscall)
{
	__u32 prot = VG_SYSCALL_ARG2(regs);

	if ((prot & MEM_WX) != MEM_WX || !vg_interest(VG_OP_MEM_EXEC_MAPPING))
		return 0;
	mem_exec_mapping(regs, ret, syscall, prot);
	return 0;
}

VG_SYSCALL_EXIT(vg_mmap)
{
	return mem_protection(regs, ret, VG_MEM_MMAP);
}

/* As vg_mmap: the usual way to make a written buffer executable (or an executable one writable). */
VG_SYSCALL_EXIT(vg_mprotect)
{
	return mem_protection(regs, ret, VG_MEM_MPROTECT);
}

/* As vg_mprotect, with a protection key: the same change by another door. */
VG_SYSCALL_EXIT(vg_pkey_mprotect)
{
	return mem_protection(regs, ret, VG_MEM_PKEY_MPROTECT);
}

/*
 * memfd_create is rare, so every call is sent. The exit gives the new fd, which the agent can
 * tie to a later exec of /proc/self/fd/N or execveat(fd, "", AT_EMPTY_PATH); the name is still
 * in the caller's memory there.
 */
VG_SYSCALL_EXIT_OF(VG_OP_MEM_MEMFD_CREATE, vg_memfd_create)
{
	const char *name = (const char *)VG_SYSCALL_ARG0(regs);
	struct vg_memfd_create *rec;
	long n;

	rec = vg_record_start();
	if (!rec)
		return 0;
	rec->hdr.op = VG_OP_MEM_MEMFD_CREATE;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = ret;
	rec->flags = VG_SYSCALL_ARG1(regs);
	rec->pad = 0;
	rec->mem_flags = 0;
	rec->pad2 = 0;
	n = bpf_probe_read_user_str((char *)rec + sizeof(*rec), VG_MEMFD_NAME_MAX, name);
	if (n < 1)
		n = 1;
	if (n == VG_MEMFD_NAME_MAX) {
		char next = 0;

		/* The buffer is full: the name was cut unless it ended exactly there. */
		bpf_probe_read_user(&next, 1, name + VG_MEMFD_NAME_MAX - 1);
		if (next)
			rec->mem_flags |= VG_MEM_NAME_TRUNCATED;
	}
	rec->name_len = n - 1;
	vg_record_send(rec, sizeof(*rec) + ((n - 1) & (VG_MEMFD_NAME_MAX - 1)));
	return 0;
}
