/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the memory: writable+executable mappings, memfd_create. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_MEM_H
#define VIGIL_RECORDS_MEM_H

enum vg_mem_limit {
	/* Bytes of a memfd's name kept, NUL included (the kernel allows 249 before the NUL). */
	VG_MEMFD_NAME_MAX = 256,
};

/* The syscall that asked for a writable and executable mapping. */
enum vg_mem_syscall {
	VG_MEM_MMAP = 1,
	VG_MEM_MPROTECT = 2,
	VG_MEM_PKEY_MPROTECT = 3,
};

enum vg_mem_flags {
	VG_MEM_PATH_TRUNCATED = 1 << 0,   /* the mapped file's path was cut (see enum vg_exec_flags) */
	VG_MEM_NAME_TRUNCATED = 1 << 1,   /* the memfd's name was longer than the bytes kept */
};

/*
 * A request for memory that is both writable and executable (PROT_WRITE|PROT_EXEC), failed or
 * not. Followed by path_len bytes (no NUL) of the mapped file's path, for an mmap of a file.
 */
struct vg_exec_mapping {
	struct vg_header hdr;
	struct vg_task task;
	__u64 addr;           /* as passed: mmap's hint, mprotect's start */
	__u64 len;
	__s64 result;         /* mmap: the mapping's address; mprotect: 0; or -errno */
	__u32 prot;           /* PROT_* */
	__u32 map_flags;      /* mmap: MAP_*; otherwise 0 */
	__s32 fd;             /* mmap: the file descriptor as passed (-1 when anonymous); otherwise -1 */
	__s32 pkey;           /* pkey_mprotect: the protection key; otherwise -1 */
	__u16 syscall;        /* enum vg_mem_syscall */
	__u16 path_len;
	__u32 mem_flags;      /* enum vg_mem_flags */
};

/* Followed by name_len bytes of the name as passed (no NUL). */
struct vg_memfd_create {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* the new file descriptor, or -errno */
	__u32 flags;          /* MFD_* */
	__u16 name_len;
	__u16 pad;
	__u32 mem_flags;      /* enum vg_mem_flags */
	__u32 pad2;
};

#ifdef __bpf__
/* Every type of this header in BTF, for gen-layout.mjs (see vg_btf_anchor in vigil.h). */
const struct {
	enum vg_mem_limit limit;
	enum vg_mem_syscall syscall;
	enum vg_mem_flags flags;
	struct vg_exec_mapping exec_mapping;
	struct vg_memfd_create memfd_create;
} vg_btf_anchor_mem __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_MEM_H */
