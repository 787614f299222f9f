/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Records of changes to the kernel itself and to what a process sees of the system: module
 * loads, bpf() program loads and attachments, namespace changes, mounts. Included by vigil.h
 * only.
 *
 * Each is taken at the syscall's exit and carries its result: a failed call is reported too,
 * with its negative errno, because an attempt is what a policy usually cares about.
 */
#ifndef VIGIL_RECORDS_KERNEL_H
#define VIGIL_RECORDS_KERNEL_H

/* Bounds of the variable parts (paths are bounded by VG_PATH_MAX). */
enum vg_kernel_limit {
	VG_MODULE_PARAMS_MAX = 1024,   /* module parameters, NUL included */
	VG_MOUNT_FSTYPE_MAX = 64,      /* filesystem type name, NUL included */
	VG_MOUNT_DATA_MAX = 256,       /* first bytes of mount(2)'s data (options), NUL included */
};

/* A variable part that was cut (a cut path keeps no leading '/', see enum vg_exec_flags). */
enum vg_kernel_flags {
	VG_KERNEL_PATH_TRUNCATED = 1 << 0,     /* module file path; mount target */
	VG_KERNEL_SOURCE_TRUNCATED = 1 << 1,   /* mount source */
	VG_KERNEL_PARAMS_TRUNCATED = 1 << 2,   /* module parameters; mount data */
};

enum vg_module_call {
	VG_MODULE_INIT = 1,    /* init_module(image, len, params) */
	VG_MODULE_FINIT = 2,   /* finit_module(fd, params, flags) */
};

/* Followed by path_len bytes of the module file's path (finit_module), then params_len bytes of parameters. */
struct vg_module_load {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* 0, or a negative errno */
	__u64 image_len;      /* init_module: bytes of the image in memory */
	__u32 call;           /* enum vg_module_call */
	__s32 fd;             /* finit_module: the module file's descriptor; -1 otherwise */
	__u32 load_flags;     /* finit_module: MODULE_INIT_* */
	__u32 rec_flags;      /* enum vg_kernel_flags */
	__u16 path_len;
	__u16 params_len;
	__u32 pad;
};

/* The bpf(2) commands that are reported (uapi enum bpf_cmd numbers); other commands are not sent. */
enum vg_bpf_cmd {
	VG_BPF_PROG_LOAD = 5,
	VG_BPF_PROG_ATTACH = 8,
	VG_BPF_RAW_TRACEPOINT_OPEN = 17,
	VG_BPF_BTF_LOAD = 18,
	VG_BPF_LINK_CREATE = 28,
};

/* Fixed size; each field applies to the commands its comment names, and is 0 for the others. */
struct vg_bpf {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* a descriptor (prog, link, BTF), 0, or a negative errno */
	__u32 cmd;            /* enum vg_bpf_cmd */
	__u32 prog_type;      /* PROG_LOAD (uapi enum bpf_prog_type) */
	__u32 attach_type;    /* PROG_LOAD: expected attach type; PROG_ATTACH, LINK_CREATE (uapi enum bpf_attach_type) */
	__u32 insn_cnt;       /* PROG_LOAD */
	__u32 prog_flags;     /* PROG_LOAD: BPF_F_* */
	__u32 prog_id;        /* PROG_LOAD: the loaded program; PROG_ATTACH, LINK_CREATE, RAW_TRACEPOINT_OPEN: the attached one */
	__s32 target_fd;      /* PROG_ATTACH, LINK_CREATE: target descriptor or interface index */
	__u32 btf_size;       /* BTF_LOAD */
	__u8 prog_tag[8];     /* PROG_LOAD that succeeded: the program's tag, as bpftool shows it */
	char name[16];        /* PROG_LOAD: prog_name; RAW_TRACEPOINT_OPEN: the tracepoint (NUL-terminated, cut) */
};

/* Namespace flags (the CLONE_NEW* values of clone(2), unshare(2) and setns(2)). */
enum vg_ns_flag {
	VG_NS_TIME = 0x00000080,
	VG_NS_MNT = 0x00020000,
	VG_NS_CGROUP = 0x02000000,
	VG_NS_UTS = 0x04000000,
	VG_NS_IPC = 0x08000000,
	VG_NS_USER = 0x10000000,
	VG_NS_PID = 0x20000000,
	VG_NS_NET = 0x40000000,
};

enum vg_ns_call {
	VG_NS_UNSHARE = 1,
	VG_NS_SETNS = 2,
	VG_NS_CLONE = 3,
	VG_NS_CLONE3 = 4,
};

/* What setns(2)'s descriptor refers to. */
enum vg_ns_fd_kind {
	VG_NS_FD_NONE = 0,        /* not setns, or no such descriptor */
	VG_NS_FD_NAMESPACE = 1,   /* a namespace (a /proc/PID/ns file, a bind mount of one) */
	VG_NS_FD_PIDFD = 2,       /* a process: its namespaces named by nstype are joined */
	VG_NS_FD_OTHER = 3,
};

/*
 * unshare, clone and clone3 are sent only when they ask for a new namespace; setns always.
 * clone's result is the child's pid, in the caller's pid namespace.
 */
struct vg_ns_change {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;
	__u64 flags;          /* unshare, clone, clone3: the flags passed; setns: nstype */
	__u32 call;           /* enum vg_ns_call */
	__s32 fd;             /* setns: the descriptor; -1 otherwise */
	__u32 fd_kind;        /* enum vg_ns_fd_kind */
	__u32 fd_ns_type;     /* setns on a namespace: its type (enum vg_ns_flag) */
	__u32 fd_ns_inum;     /* setns on a namespace: its inode number, as in /proc/PID/ns links */
	__u32 pad;
};

enum vg_mount_call {
	VG_MOUNT_MOUNT = 1,       /* mount(source, target, fstype, flags, data) */
	VG_MOUNT_UMOUNT = 2,      /* umount2(target, flags) */
	VG_MOUNT_FSMOUNT = 3,     /* fsmount(fs_fd, flags, attr_flags): a detached mount from a configured context */
	VG_MOUNT_MOVE_MOUNT = 4,  /* move_mount(from_dfd, from_path, to_dfd, to_path, flags): attaches or moves a mount */
};

/*
 * Followed by target_len bytes of target, source_len of source, fstype_len of filesystem type
 * and data_len of data, none NUL-terminated. A target (and a bind or move source) given as a
 * relative path is joined to the directory it is relative to (the cwd, or move_mount's
 * directory descriptor) without resolving links or "..".
 */
struct vg_mount {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;
	__u64 flags;          /* mount: MS_*; umount2: MNT_*, UMOUNT_*; fsmount: FSMOUNT_*; move_mount: MOVE_MOUNT_* */
	__u32 call;           /* enum vg_mount_call */
	__u32 attr_flags;     /* fsmount: MOUNT_ATTR_* */
	__u32 rec_flags;      /* enum vg_kernel_flags */
	__s32 fd;             /* fsmount: fs_fd; move_mount: from_dfd; -1 otherwise */
	__u16 target_len;
	__u16 source_len;
	__u16 fstype_len;
	__u16 data_len;
};

#ifdef __bpf__
/* This domain's types, for the generated layouts (see vg_btf_anchor in vigil.h). */
const struct {
	enum vg_kernel_limit limit;
	enum vg_kernel_flags flags;
	enum vg_module_call module_call;
	struct vg_module_load module_load;
	enum vg_bpf_cmd bpf_cmd;
	struct vg_bpf bpf;
	enum vg_ns_flag ns_flag;
	enum vg_ns_call ns_call;
	enum vg_ns_fd_kind ns_fd_kind;
	struct vg_ns_change ns_change;
	enum vg_mount_call mount_call;
	struct vg_mount mount;
} vg_btf_anchor_kernel __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_KERNEL_H */
