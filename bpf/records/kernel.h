/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the the kernel: module loads, bpf program loads, namespaces, mounts. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_KERNEL_H
#define VIGIL_RECORDS_KERNEL_H

#endif /* VIGIL_RECORDS_KERNEL_H */
