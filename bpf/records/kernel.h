/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the credentials and the kernel: cred changes, module loads, ptrace, bpf, namespaces, mounts, signals. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_KERNEL_H
#define VIGIL_RECORDS_KERNEL_H

#endif /* VIGIL_RECORDS_KERNEL_H */
