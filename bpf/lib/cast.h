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

/*
 * VG_LOAD(type, ptr, field): the field of the kernel object at @ptr (any value) read as @type.
 * bpf_rdonly_cast came with Linux 6.2; for older kernels (Debian 12's 6.1) the object is built
 * again with VG_NO_CAST (.output/vigil-compat.bpf.o), reading each field with a probe read.
 */
#ifndef VG_NO_CAST
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* @ptr (any value) as a read-only pointer to @type; loads through a bad one read zeros. */
#define vg_cast(type, ptr) ((type *)bpf_rdonly_cast((const void *)(ptr), bpf_core_type_id_kernel(type)))
#define VG_LOAD(type, ptr, field) (vg_cast(type, ptr)->field)
#define VG_PLAIN_LOADS 1
#else
#define VG_LOAD(type, ptr, field) BPF_CORE_READ((type *)(ptr), field)
#endif

#endif /* VIGIL_LIB_CAST_H */
