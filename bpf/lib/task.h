/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The process context every record carries, read from a task_struct with CO-RE. */
#ifndef VIGIL_LIB_TASK_H
#define VIGIL_LIB_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"

/*
 * Fills every byte of @t (the record buffer is reused, so nothing may be left stale). @task must
 * be a pointer the verifier knows as a task_struct (bpf_get_current_task_btf, a tp_btf
 * argument): the fields are then plain loads, which the JIT guards against faults, at a
 * fraction of the cost of a bpf_probe_read_kernel call each.
 */
static __always_inline void vg_task_fill(struct vg_task *t, struct task_struct *task)
{
	const struct cred *cred = task->cred;

	t->pid = task->tgid;
	t->tid = task->pid;
	t->ppid = task->real_parent->tgid;
	t->uid = cred->uid.val;
	t->gid = cred->gid.val;
	t->euid = cred->euid.val;
	t->egid = cred->egid.val;
	t->pad = 0;
	/* The default hierarchy is cgroup v2, also on hosts that mount v1 controllers beside it. */
	t->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	/* The leader's start identifies the process across pid reuse, as /proc/PID/stat's starttime does. */
	t->start_boottime = task->group_leader->start_boottime;
	/* The whole array: the kernel pads comm with NULs, and a short read would leave stale bytes. */
	bpf_probe_read_kernel(t->comm, sizeof(t->comm), task->comm);
	t->comm[VG_COMM_LEN - 1] = '\0';
}

#endif /* VIGIL_LIB_TASK_H */
