/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of processes acting on credentials and on other processes: cred changes, ptrace, signals. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_PROC_H
#define VIGIL_RECORDS_PROC_H

/* The syscall that changed (or tried to change) credentials. */
enum vg_cred_syscall {
	VG_CRED_SETUID = 1,
	VG_CRED_SETGID = 2,
	VG_CRED_SETREUID = 3,
	VG_CRED_SETREGID = 4,
	VG_CRED_SETRESUID = 5,
	VG_CRED_SETRESGID = 6,
	VG_CRED_SETFSUID = 7,
	VG_CRED_SETFSGID = 8,
	VG_CRED_CAPSET = 9,
};

/* A task's credentials (its objective ones, as other processes see it). */
struct vg_cred {
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
	__u64 cap_effective;
	__u64 cap_permitted;
	__u64 cap_inheritable;
};

/*
 * One credential syscall with what it asked for and the credentials before and after it. The
 * ids are the syscall's arguments in order (setresuid: ruid, euid, suid; setuid: uid), unused
 * ones 0; (u32)-1 asks to leave an id unchanged. capset's requested sets are in caps.
 */
struct vg_cred_change {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* 0 or -errno; setfsuid/setfsgid: the previous fsuid/fsgid */
	__u32 syscall;        /* enum vg_cred_syscall */
	__u32 ids[3];
	__u64 caps[3];        /* capset: effective, permitted, inheritable as passed */
	struct vg_cred old_cred;
	struct vg_cred new_cred;
};

/*
 * A ptrace request that starts tracing or changes the tracee (see proc.bpf.c for the list);
 * requests that only read the tracee or resume it are not sent.
 */
struct vg_ptrace {
	struct vg_header hdr;
	struct vg_task task;
	__s64 request;        /* PTRACE_* */
	__s64 result;         /* 0 or -errno */
	__u64 addr;           /* as passed */
	__u64 data;           /* as passed */
	__s32 target;         /* the thread id as passed (ignored by PTRACE_TRACEME) */
	__u32 pad;
};

enum vg_signal_syscall {
	VG_SIGNAL_KILL = 1,
	VG_SIGNAL_TKILL = 2,
	VG_SIGNAL_TGKILL = 3,
	VG_SIGNAL_RT_SIGQUEUEINFO = 4,
	VG_SIGNAL_RT_TGSIGQUEUEINFO = 5,
};

/* A signal sent to a process other than the sender (signals to oneself are not sent). */
struct vg_signal {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* 0 or -errno */
	__s32 target_pid;     /* kill, rt_sigqueueinfo: pid as passed (0, -1, -pgid: groups); tgkill: tgid; tkill: 0 */
	__s32 target_tid;     /* tkill, tgkill, rt_tgsigqueueinfo: the thread; otherwise 0 */
	__u32 sig;
	__u32 syscall;        /* enum vg_signal_syscall */
};

#ifdef __bpf__
/* Every type of this header in BTF, for gen-layout.mjs (see vg_btf_anchor in vigil.h). */
const struct {
	enum vg_cred_syscall cred_syscall;
	enum vg_signal_syscall signal_syscall;
	struct vg_cred cred;
	struct vg_cred_change cred_change;
	struct vg_ptrace ptrace;
	struct vg_signal signal;
} vg_btf_anchor_proc __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_PROC_H */
