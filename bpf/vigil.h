/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Record layouts shared by the kernel programs and the agent's decoder.
 * The TypeScript layouts (src/sensor/kernel/layout.generated.ts) are generated from the BTF of
 * the compiled objects, so a change here that the decoder does not follow fails the build.
 *
 * Every record starts with struct vg_header; variable-length parts (paths, arguments) follow
 * the fixed part in the order the fixed part lists their lengths, so only used bytes are sent.
 */
#ifndef VIGIL_H
#define VIGIL_H

/*
 * Limits, as an enum rather than #defines so that they reach BTF and the generated layouts.
 * The bounds on variable parts are documented in the README (process.exec).
 */
enum vg_limit {
	VG_COMM_LEN = 16,
	/* A path is at most VG_PATH_MAX - 1 bytes (it fits a NUL-terminated VG_PATH_MAX buffer). */
	VG_PATH_MAX = 4096,
	VG_ARGS_MAX = 4096,
	/* Components of a path (mount crossings not counted) before it is cut. */
	VG_PATH_DEPTH = 64,
	/* Largest record the programs build; the native drain rejects anything larger. */
	VG_RECORD_MAX = 16384,
};

enum vg_op {
	VG_OP_PROCESS_EXEC = 1,
	VG_OP_PROCESS_FORK = 2,
	VG_OP_PROCESS_EXIT = 3,
};

/*
 * A cut path (deeper than VG_PATH_DEPTH, or longer than VG_PATH_MAX - 1) keeps its last
 * components and has no leading '/', so it never passes for a complete absolute path.
 */
enum vg_exec_flags {
	VG_EXEC_ARGS_TRUNCATED = 1 << 0,
	VG_EXEC_EXE_TRUNCATED = 1 << 1,
	VG_EXEC_CWD_TRUNCATED = 1 << 2,
};

/* Indexes into the per-CPU vg_counters array map. */
enum vg_counter {
	VG_COUNTER_LOST = 0,       /* records the ring buffer could not take */
	VG_COUNTER_MAX = 16,
};

struct vg_header {
	__u16 op;     /* enum vg_op */
	__u16 flags;
	__u32 size;   /* bytes of the whole record, header included */
	__u64 ktime;  /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) */
};

/* The task a record is about, as the kernel saw it at that moment. */
struct vg_task {
	__u32 pid;            /* thread-group id */
	__u32 tid;
	__u32 ppid;           /* real parent's thread-group id */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 pad;
	__u64 cgroup_id;      /* cgroup v2 id */
	__u64 start_boottime; /* thread-group leader's start, CLOCK_BOOTTIME ns */
	char comm[VG_COMM_LEN];
};

/*
 * Followed by exe_len bytes of exe path, cwd_len bytes of cwd (both without a NUL), and args_len
 * bytes of argv as the process's memory holds it: each argument NUL-terminated, except the last
 * when VG_EXEC_ARGS_TRUNCATED cut it.
 */
struct vg_exec {
	struct vg_header hdr;
	struct vg_task task;
	__u32 old_pid;        /* tid that called execve (differs when a thread execs) */
	__u32 exec_flags;     /* enum vg_exec_flags */
	__u64 exe_ino;
	__u32 exe_dev;        /* s_dev, kernel encoding: major << 20 | minor (not stat's st_dev) */
	__u16 exe_len;
	__u16 cwd_len;
	__u32 args_len;
	__u32 pad;
};

/* The child of a fork that created a new process (threads are not reported). */
struct vg_fork {
	struct vg_header hdr;
	struct vg_task task;  /* the child */
};

struct vg_exit {
	struct vg_header hdr;
	struct vg_task task;
	__u32 exit_code;      /* wait(2) status: code << 8 | signal */
	__u32 pad;
};

#ifdef __bpf__
/*
 * clang emits BTF only for the types a program uses (and only a forward declaration for a
 * struct used through a pointer); this never-read constant makes every record type and enum
 * reach the object's BTF, from which gen-layout.mjs generates the decoder's layouts. Add each
 * new vg_ type here, by value.
 */
const struct {
	struct vg_header header;
	struct vg_task task;
	struct vg_exec exec;
	struct vg_fork fork;
	struct vg_exit exit;
	enum vg_limit limit;
	enum vg_op op;
	enum vg_exec_flags exec_flags;
	enum vg_counter counter;
} vg_btf_anchor;
#endif

#endif /* VIGIL_H */
