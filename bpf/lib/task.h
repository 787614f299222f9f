/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The process context every record carries, read from a task_struct with CO-RE. */
#ifndef VIGIL_LIB_TASK_H
#define VIGIL_LIB_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"

/*
 * Fills every byte of @t (the record buffer is reused, so nothing may be left stale). Reads go
 * through bpf_probe_read_kernel, so @task may be any task pointer, trusted or not.
 */
static __always_inline void vg_task_fill(struct vg_task *t, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);

	t->pid = BPF_CORE_READ(task, tgid);
	t->tid = BPF_CORE_READ(task, pid);
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = BPF_CORE_READ(cred, uid.val);
	t->gid = BPF_CORE_READ(cred, gid.val);
	t->euid = BPF_CORE_READ(cred, euid.val);
	t->egid = BPF_CORE_READ(cred, egid.val);
	t->pad = 0;
	/* The default hierarchy is cgroup v2, also on hosts that mount v1 controllers beside it. */
	t->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/* The leader's start identifies the process across pid reuse, as /proc/PID/stat's starttime does. */
	t->start_boottime = BPF_CORE_READ(task, group_leader, start_boottime);
	/* The whole array: the kernel pads comm with NULs, and a short read would leave stale bytes. */
	bpf_probe_read_kernel(t->comm, sizeof(t->comm), __builtin_preserve_access_index(&task->comm));
	t->comm[VG_COMM_LEN - 1] = '\0';
}

#endif /* VIGIL_LIB_TASK_H */
