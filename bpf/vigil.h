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
	/* Bytes of a path (kind byte included) the prefix filter sees. */
	VG_PREFIX_MAX = 256,
};

/*
 * Record types; each is also the event kind's index in the filter maps (vg_kinds, vg_paths,
 * vg_filtered). Numbers are grouped by domain and never reused.
 */
enum vg_op {
	VG_OP_PROCESS_EXEC = 1,
	VG_OP_PROCESS_FORK = 2,
	VG_OP_PROCESS_EXIT = 3,

	VG_OP_FILE_OPEN = 10,
	VG_OP_FILE_UNLINK = 11,
	VG_OP_FILE_RENAME = 12,
	VG_OP_FILE_CHMOD = 13,
	VG_OP_FILE_CHOWN = 14,
	VG_OP_FILE_LINK = 15,
	VG_OP_FILE_SYMLINK = 16,
	VG_OP_FILE_MKDIR = 17,
	VG_OP_FILE_TRUNCATE = 18,

	VG_OP_NET_CONNECT = 30,
	VG_OP_NET_ACCEPT = 31,
	VG_OP_NET_BIND = 32,
	VG_OP_NET_LISTEN = 33,
	VG_OP_NET_DNS = 34,       /* a datagram sent to port 53; the agent decodes the query */

	VG_OP_MEM_EXEC_MAPPING = 40,
	VG_OP_MEM_MEMFD_CREATE = 41,

	VG_OP_CRED_CHANGE = 50,
	VG_OP_KERNEL_MODULE_LOAD = 51,
	VG_OP_PROC_PTRACE = 52,
	VG_OP_KERNEL_BPF = 53,
	VG_OP_NS_CHANGE = 54,
	VG_OP_FS_MOUNT = 55,
	VG_OP_PROC_SIGNAL = 56,

	VG_OP_ENFORCE_DENIAL = 60, /* a program stopped an operation (records/enforce.h) */

	VG_OP_MAX = 64,
};

/*
 * A cut path (deeper than VG_PATH_DEPTH, or longer than VG_PATH_MAX - 1) keeps its last
 * components and has no leading '/', so it never passes for a complete absolute path.
 */
enum vg_exec_flags {
	VG_EXEC_ARGS_TRUNCATED = 1 << 0,
	VG_EXEC_EXE_TRUNCATED = 1 << 1,
	VG_EXEC_CWD_TRUNCATED = 1 << 2,
	/* The executable has no name in any directory: a memfd or a deleted file (fileless exec). */
	VG_EXEC_FILELESS = 1 << 3,
};

/*
 * In-kernel filtering, written by the agent. An event of kind K is sent when vg_kinds[K] is
 * enabled, the task is not filtered out (the sensor itself, ignored comms and executables),
 * and, for kinds with a path, the path's verdict allows the access: the verdict of the longest
 * prefix in vg_paths for K, else vg_kinds[K].path_default.
 */
enum vg_path_access {
	VG_ACCESS_NONE = 0,
	VG_ACCESS_READ = 1 << 0,
	VG_ACCESS_WRITE = 1 << 1,   /* also creation, deletion and changes of metadata */
	VG_ACCESS_ANY = 3,
	/*
	 * Only in vg_paths values, beside the access: longer prefixes start with this one, which
	 * ends in '/', so the names in that directory are not all decided alike. The prefix's
	 * length in bytes is above VG_PATH_SPLIT_LEN: a lookup of a deeper directory that ends on
	 * this entry is not split by it.
	 */
	VG_PATH_SPLIT = 1 << 2,
	VG_PATH_SPLIT_LEN = 8,
};

enum vg_config_flags {
	VG_CFG_IGNORE_COMMS = 1 << 0,   /* vg_ignore_comms has entries */
	VG_CFG_IGNORE_EXES = 1 << 1,    /* vg_ignore_exes has entries */
};

struct vg_kind_config {
	__u32 enabled;
	__u32 path_default;   /* enum vg_path_access allowed when no prefix matches */
	__u32 use_paths;      /* vg_paths holds prefixes for this kind */
	__u32 pad;
};

struct vg_config {
	__u32 sensor_tgid;    /* the agent's own events are never sent */
	__u32 flags;          /* enum vg_config_flags */
	__u64 interest_gen;   /* changed after every write of the filter maps */
};

/* Prefixes are matched on the first VG_PREFIX_MAX - 1 bytes of a path. */
struct vg_path_key {
	__u32 prefixlen;      /* in bits, the kind byte included */
	__u8 kind;            /* enum vg_op */
	char path[255];
};

/* An executable by identity, so that renaming or linking it does not escape the filter. */
struct vg_exe_key {
	__u64 ino;
	__u32 dev;            /* kernel encoding, as vg_exec.exe_dev */
	__u32 pad;
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

/* Each domain's records. */
#include "records/file.h"
#include "records/net.h"
#include "records/mem.h"
#include "records/proc.h"
#include "records/kernel.h"
#include "records/enforce.h"

#ifdef __bpf__
/*
 * clang emits BTF only for the types a program uses (and only a forward declaration for a
 * struct used through a pointer); these never-read constants make every record type and enum
 * reach the object's BTF, from which gen-layout.mjs generates the decoder's layouts. Add each
 * new vg_ type to its domain's anchor, by value. Weak, because every object defines them and
 * the objects are linked into one.
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
	enum vg_path_access access;
	enum vg_config_flags config_flags;
	struct vg_kind_config kind_config;
	struct vg_config config;
	struct vg_path_key path_key;
	struct vg_exe_key exe_key;
} vg_btf_anchor __attribute__((weak));
#endif

#endif /* VIGIL_H */
