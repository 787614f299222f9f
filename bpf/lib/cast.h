/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading kernel objects with plain loads. A pointer the verifier knows as a kernel type can be
 * dereferenced directly: the JIT emits an ordinary load guarded against faults, where
 * BPF_CORE_READ costs a bpf_probe_read_kernel call per field. Pointers found in memory read
 * with a helper (an fd table slot) are plain numbers to the verifier; vg_cast gives them their
 * type back, read-only. Field offsets stay relocated by CO-RE either way (vmlinux.h types
 * carry preserve_access_index).
 */
#ifndef VIGIL_LIB_CAST_H
#define VIGIL_LIB_CAST_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* @ptr (any value) as a read-only pointer to @type; loads through a bad one read zeros. */
#define vg_cast(type, ptr) ((type *)bpf_rdonly_cast((const void *)(ptr), bpf_core_type_id_kernel(type)))

#endif /* VIGIL_LIB_CAST_H */
