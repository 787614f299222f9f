// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process lifecycle: exec, fork (new processes only) and exit, the records the agent's process
 * table is built from.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/filter.h"
#include "lib/path.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

/* include/linux/sched/signal.h; a #define, so vmlinux.h lacks it. */
#ifndef SIGNAL_GROUP_EXIT
#define SIGNAL_GROUP_EXIT 0x00000004
#endif

/*
 * sched_process_exec fires once the new program is in place and cannot fail any more, with the
 * binary's file at hand (bprm): the exe, its inode and device, and the new argv are all final.
 * The execve syscall tracepoints see only the path string the caller passed (relative paths,
 * links) and cannot tell whether the exec succeeded. For a #! script, bprm->file is by now the
 * interpreter (exe /usr/bin/bash, the script's path in argv), as in /proc/PID/exe.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct file *file = BPF_CORE_READ(bprm, file);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct vg_exec *rec = vg_record_start();
	__u64 arg_start, arg_end, args_len;
	__u32 off = sizeof(*rec);
	bool truncated;
	__u32 len;

	if (!rec)
		return 0;
	rec->hdr.op = VG_OP_PROCESS_EXEC;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, task);
	rec->old_pid = old_pid;
	rec->exec_flags = 0;
	/* No directory names the program: a memfd (shmem clears its link count) or an unlinked file. */
	if (BPF_CORE_READ(file, f_inode, __i_nlink) == 0)
		rec->exec_flags |= VG_EXEC_FILELESS;
	rec->exe_ino = BPF_CORE_READ(file, f_inode, i_ino);
	rec->exe_dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	rec->pad = 0;

	len = vg_path_copy((char *)rec + off, __builtin_preserve_access_index(&file->f_path),
			   &truncated);
	rec->exe_len = len;
	if (truncated)
		rec->exec_flags |= VG_EXEC_EXE_TRUNCATED;
	off += len;

	/* off < sizeof(*rec) + VG_PATH_MAX: the checks only restate that for the verifier. */
	if (off > sizeof(*rec) + VG_PATH_MAX)
		return 0;
	len = vg_path_copy((char *)rec + off, __builtin_preserve_access_index(&fs->pwd), &truncated);
	rec->cwd_len = len;
	if (truncated)
		rec->exec_flags |= VG_EXEC_CWD_TRUNCATED;
	off += len;

	/* The new program's argv, where the kernel has just copied it to the top of the new stack. */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (args_len > VG_ARGS_MAX) {
		args_len = VG_ARGS_MAX;
		rec->exec_flags |= VG_EXEC_ARGS_TRUNCATED;
	}
	if (off > sizeof(*rec) + 2 * VG_PATH_MAX)
		return 0;
	if (bpf_probe_read_user((char *)rec + off, args_len, (void *)arg_start)) {
		args_len = 0;
		rec->exec_flags |= VG_EXEC_ARGS_TRUNCATED;
	}
	rec->args_len = args_len;
	off += args_len;

	vg_record_send(rec, off);
	return 0;
}

/*
 * sched_process_fork fires in the parent once the child is complete (credentials, cgroup,
 * start time) but before it runs, so the agent learns of a process before any of its events.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct vg_fork *rec;

	/* A new thread joins its parent's process; only new processes are reported. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	rec = vg_record_start();
	if (!rec)
		return 0;
	rec->hdr.op = VG_OP_PROCESS_FORK;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, child);
	vg_record_send(rec, sizeof(*rec));
	return 0;
}

/*
 * sched_process_exit fires in every exiting thread, after its exit code is set and the
 * thread-group's live count is dropped, while the task is still whole. Only the tracepoint's
 * first argument is used: its other arguments changed between kernel versions.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit, struct task_struct *task)
{
	struct signal_struct *signal = BPF_CORE_READ(task, signal);
	struct vg_exit *rec;

	/*
	 * The process is gone once no thread is live. Threads that exit together may all see
	 * zero, so a process can be reported more than once (with different tids).
	 */
	if (BPF_CORE_READ(signal, live.counter) != 0)
		return 0;
	rec = vg_record_start();
	if (!rec)
		return 0;
	rec->hdr.op = VG_OP_PROCESS_EXIT;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, task);
	/* A group exit (exit_group from a threaded process, a fatal signal) records its status in signal. */
	if (BPF_CORE_READ(signal, flags) & SIGNAL_GROUP_EXIT)
		rec->exit_code = BPF_CORE_READ(signal, group_exit_code);
	else
		rec->exit_code = BPF_CORE_READ(task, exit_code);
	rec->pad = 0;
	vg_record_send(rec, sizeof(*rec));
	return 0;
}
