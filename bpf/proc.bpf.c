// SPDX-License-Identifier: GPL-2.0-only
/*
 * Processes acting on credentials and on other processes: credential changes (set*id, capset),
 * ptrace, and signals sent to other processes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/filter.h"
#include "lib/syscall.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

/* include/uapi/linux/ptrace.h and capability.h; #defines, so vmlinux.h lacks them. */
#define PTRACE_TRACEME 0
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETFPXREGS 19
#define PTRACE_SET_THREAD_AREA 26
#define PTRACE_ARCH_PRCTL 30
#define PTRACE_SETSIGINFO 0x4203
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206
#define PTRACE_SETSIGMASK 0x420b
#define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG 0x4210
#define PTRACE_SET_SYSCALL_INFO 0x4212
#define LINUX_CAPABILITY_VERSION_1 0x19980330

/* ---- Credentials ---- */

/*
 * The credentials of each thread inside a credential syscall, stashed at entry: at exit the old
 * ones are gone (commit_creds replaces them). LRU, so that an entry whose exit never came (a
 * thread killed inside the syscall) is reclaimed instead of filling the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vg_cred);
} vg_proc_cred_before SEC(".maps");

static __always_inline void proc_cred_read(struct vg_cred *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *cred = BPF_CORE_READ(task, real_cred);

	c->uid = BPF_CORE_READ(cred, uid.val);
	c->euid = BPF_CORE_READ(cred, euid.val);
	c->suid = BPF_CORE_READ(cred, suid.val);
	c->fsuid = BPF_CORE_READ(cred, fsuid.val);
	c->gid = BPF_CORE_READ(cred, gid.val);
	c->egid = BPF_CORE_READ(cred, egid.val);
	c->sgid = BPF_CORE_READ(cred, sgid.val);
	c->fsgid = BPF_CORE_READ(cred, fsgid.val);
	/*
	 * kernel_cap_t is one u64 since 6.3 and two u32s (low word first) before: on a
	 * little-endian machine the same 8 bytes read as the same value.
	 */
	c->cap_effective = 0;
	c->cap_permitted = 0;
	c->cap_inheritable = 0;
	bpf_probe_read_kernel(&c->cap_effective, 8, __builtin_preserve_access_index(&cred->cap_effective));
	bpf_probe_read_kernel(&c->cap_permitted, 8, __builtin_preserve_access_index(&cred->cap_permitted));
	bpf_probe_read_kernel(&c->cap_inheritable, 8, __builtin_preserve_access_index(&cred->cap_inheritable));
}

static __always_inline int proc_cred_enter(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_cred old;

	if (!vg_interest(VG_OP_CRED_CHANGE))
		return 0;
	proc_cred_read(&old);
	bpf_map_update_elem(&vg_proc_cred_before, &tid, &old, BPF_ANY);
	return 0;
}

/* capset's requested sets: one {effective, permitted, inheritable} of u32s per 32 capabilities. */
static __always_inline void proc_capset_args(struct vg_cred_change *rec, struct pt_regs *regs)
{
	void *header = (void *)VG_SYSCALL_ARG0(regs);
	__u32 *data = (__u32 *)VG_SYSCALL_ARG1(regs);
	__u32 words[6] = {};
	__u32 version = 0;

	bpf_probe_read_user(&version, sizeof(version), header);
	bpf_probe_read_user(words, 3 * sizeof(__u32), data);
	if (version != LINUX_CAPABILITY_VERSION_1)
		bpf_probe_read_user(&words[3], 3 * sizeof(__u32), data + 3);
	rec->caps[0] = (__u64)words[3] << 32 | words[0];
	rec->caps[1] = (__u64)words[4] << 32 | words[1];
	rec->caps[2] = (__u64)words[5] << 32 | words[2];
}

/* Sends the change of a credential syscall whose entry was stashed; @nids of its arguments are ids. */
static __always_inline int proc_cred_exit(struct pt_regs *regs, long ret, __u32 syscall, int nids)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_cred *old = bpf_map_lookup_elem(&vg_proc_cred_before, &tid);
	struct vg_cred_change *rec;

	/* Not stashed: the kind was off, or the task ignored, at entry. */
	if (!old)
		return 0;
	rec = vg_record_start();
	if (!rec)
		goto out;
	rec->hdr.op = VG_OP_CRED_CHANGE;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = ret;
	rec->syscall = syscall;
	rec->ids[0] = nids > 0 ? (__u32)VG_SYSCALL_ARG0(regs) : 0;
	rec->ids[1] = nids > 1 ? (__u32)VG_SYSCALL_ARG1(regs) : 0;
	rec->ids[2] = nids > 2 ? (__u32)VG_SYSCALL_ARG2(regs) : 0;
	rec->caps[0] = 0;
	rec->caps[1] = 0;
	rec->caps[2] = 0;
	if (syscall == VG_CRED_CAPSET)
		proc_capset_args(rec, regs);
	rec->old_cred = *old;
	proc_cred_read(&rec->new_cred);
	vg_record_send(rec, sizeof(*rec));
out:
	bpf_map_delete_elem(&vg_proc_cred_before, &tid);
	return 0;
}

/*
 * There is no tracepoint on a credential change itself (commit_creds), and the LSM hooks that
 * see one are refused on kernels like ours; so each credential syscall is taken twice: at
 * entry for the credentials before (stashed per thread), at exit for the result and the
 * credentials after. They are the only syscalls whose entry is taken, each by its own classic
 * tracepoint (see lib/syscall.h for why not a dispatcher). The entry programs consult the
 * kind's interest; the exits only send what an entry stashed.
 */
#define PROC_CRED_HOOKS(name, syscall, nids)                    \
	SEC("tracepoint/syscalls/sys_enter_" #name)             \
	int vg_##name##_enter(void *ctx)                        \
	{                                                       \
		return proc_cred_enter();                       \
	}                                                       \
	VG_SYSCALL_EXIT(vg_##name##_exit)                       \
	{                                                       \
		return proc_cred_exit(regs, ret, syscall, nids); \
	}

PROC_CRED_HOOKS(setuid, VG_CRED_SETUID, 1)
PROC_CRED_HOOKS(setgid, VG_CRED_SETGID, 1)
PROC_CRED_HOOKS(setreuid, VG_CRED_SETREUID, 2)
PROC_CRED_HOOKS(setregid, VG_CRED_SETREGID, 2)
PROC_CRED_HOOKS(setresuid, VG_CRED_SETRESUID, 3)
PROC_CRED_HOOKS(setresgid, VG_CRED_SETRESGID, 3)
PROC_CRED_HOOKS(setfsuid, VG_CRED_SETFSUID, 1)
PROC_CRED_HOOKS(setfsgid, VG_CRED_SETFSGID, 1)
PROC_CRED_HOOKS(capset, VG_CRED_CAPSET, 0)

/* ---- ptrace ---- */

/* Requests that start tracing or change the tracee; reads and resumes are not sent. */
static __always_inline bool proc_ptrace_reported(long request)
{
	switch (request) {
	case PTRACE_TRACEME:
	case PTRACE_ATTACH:
	case PTRACE_SEIZE:
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
	case PTRACE_POKEUSR:
	case PTRACE_SETREGS:
	case PTRACE_SETFPREGS:
	case PTRACE_SETFPXREGS:
	case PTRACE_SET_THREAD_AREA:
	case PTRACE_ARCH_PRCTL:
	case PTRACE_SETSIGINFO:
	case PTRACE_SETREGSET:
	case PTRACE_SETSIGMASK:
	case PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG:
	case PTRACE_SET_SYSCALL_INFO:
		return true;
	default:
		return false;
	}
}

/*
 * ptrace's exit gives the result (an attach refused by permissions or Yama is worth as much as
 * one that worked). A tracer such as strace makes several requests per traced syscall, nearly
 * all of them reads and resumes; the request is checked before the kind's interest, so those
 * are not events of this kind at all and are not counted as filtered.
 */
VG_SYSCALL_EXIT(vg_ptrace)
{
	long request = VG_SYSCALL_ARG0(regs);
	struct vg_ptrace *rec;

	if (!proc_ptrace_reported(request) || !vg_interest(VG_OP_PROC_PTRACE))
		return 0;
	rec = vg_record_start();
	if (!rec)
		return 0;
	rec->hdr.op = VG_OP_PROC_PTRACE;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->request = request;
	rec->result = ret;
	rec->target = VG_SYSCALL_ARG1(regs);
	rec->addr = VG_SYSCALL_ARG2(regs);
	rec->data = VG_SYSCALL_ARG3(regs);
	rec->pad = 0;
	vg_record_send(rec, sizeof(*rec));
	return 0;
}

/* ---- Signals ---- */

/* The id of @pid in its own (innermost) pid namespace: what the task's own syscalls pass. */
static __always_inline __s32 proc_ns_nr(struct pid *pid)
{
	unsigned int level = BPF_CORE_READ(pid, level);

	return BPF_CORE_READ(pid, numbers[level & 31].nr);
}

/*
 * Whether a signal goes to the sender's own process only: @tgid (when not 0) or @tid (when
 * not 0) names it. Ids are compared in the sender's pid namespace, as it passed them.
 */
static __always_inline bool proc_signal_to_self(__s32 tgid, __s32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__s32 own_tgid = proc_ns_nr(BPF_CORE_READ(task, group_leader, thread_pid));

	if (tgid)
		return tgid == own_tgid;
	return tid == own_tgid || tid == proc_ns_nr(BPF_CORE_READ(task, thread_pid));
}

static __always_inline void proc_signal(long ret, __u32 syscall, __s32 target_pid, __s32 target_tid, __u32 sig)
{
	struct vg_signal *rec = vg_record_start();

	if (!rec)
		return;
	rec->hdr.op = VG_OP_PROC_SIGNAL;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = ret;
	rec->target_pid = target_pid;
	rec->target_tid = target_tid;
	rec->sig = sig;
	rec->syscall = syscall;
	vg_record_send(rec, sizeof(*rec));
}

/*
 * Each syscall that sends a signal to a chosen process is taken at its exit, for the result
 * (ESRCH and EPERM show probing and refused attempts). A process signalling itself (raise,
 * abort, a thread library waking its own threads) is not an event of this kind and is dropped
 * here, after the kind's interest; kill with pid 0 or below reaches a group, so it is sent.
 */
VG_SYSCALL_EXIT_OF(VG_OP_PROC_SIGNAL, vg_kill)
{
	__s32 pid = VG_SYSCALL_ARG0(regs);

	if (pid > 0 && proc_signal_to_self(pid, 0))
		return 0;
	proc_signal(ret, VG_SIGNAL_KILL, pid, 0, VG_SYSCALL_ARG1(regs));
	return 0;
}

/* As vg_kill, for a thread named by its id alone. */
VG_SYSCALL_EXIT_OF(VG_OP_PROC_SIGNAL, vg_tkill)
{
	__s32 tid = VG_SYSCALL_ARG0(regs);

	if (proc_signal_to_self(0, tid))
		return 0;
	proc_signal(ret, VG_SIGNAL_TKILL, 0, tid, VG_SYSCALL_ARG1(regs));
	return 0;
}

/* As vg_kill, for a thread of a given process. */
VG_SYSCALL_EXIT_OF(VG_OP_PROC_SIGNAL, vg_tgkill)
{
	__s32 tgid = VG_SYSCALL_ARG0(regs);

	if (proc_signal_to_self(tgid, 0))
		return 0;
	proc_signal(ret, VG_SIGNAL_TGKILL, tgid, VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs));
	return 0;
}

/* As vg_kill, with a siginfo chosen by the sender (sigqueue). */
VG_SYSCALL_EXIT_OF(VG_OP_PROC_SIGNAL, vg_rt_sigqueueinfo)
{
	__s32 tgid = VG_SYSCALL_ARG0(regs);

	if (tgid > 0 && proc_signal_to_self(tgid, 0))
		return 0;
	proc_signal(ret, VG_SIGNAL_RT_SIGQUEUEINFO, tgid, 0, VG_SYSCALL_ARG1(regs));
	return 0;
}

/* As vg_tgkill, with a siginfo chosen by the sender. */
VG_SYSCALL_EXIT_OF(VG_OP_PROC_SIGNAL, vg_rt_tgsigqueueinfo)
{
	__s32 tgid = VG_SYSCALL_ARG0(regs);

	if (proc_signal_to_self(tgid, 0))
		return 0;
	proc_signal(ret, VG_SIGNAL_RT_TGSIGQUEUEINFO, tgid, VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs));
	return 0;
}
