/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The open files of the current task, by descriptor. */
#ifndef VIGIL_LIB_FD_H
#define VIGIL_LIB_FD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/*
 * The open file behind @fd in the current task, or NULL: an untyped pointer (see lib/cast.h).
 * The table and its bound are plain loads on the typed task; the slot is read with a probe,
 * since a pointer to pointers is no kernel type the verifier follows.
 */
static __always_inline struct file *vg_file_of_fd(long fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file **fds = fdt->fd;
	struct file *file = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

#endif /* VIGIL_LIB_FD_H */
