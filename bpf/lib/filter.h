/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * In-kernel filtering (see vigil.h): the kernel sends only what the agent said it can use, so
 * a high-volume kind costs a map lookup or two per syscall when nothing wants it, and never a
 * trip to user space. The maps are written by the agent at start and on every policy change.
 */
#ifndef VIGIL_LIB_FILTER_H
#define VIGIL_LIB_FILTER_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_OP_MAX);
	__type(key, __u32);
	__type(value, struct vg_kind_config);
} vg_kinds SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_config);
} vg_config SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[VG_COMM_LEN]);
	__type(value, __u8);
} vg_ignore_comms SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vg_exe_key);
	__type(value, __u8);
} vg_ignore_exes SEC(".maps") __weak;

/* Value: the enum vg_path_access allowed below the prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_path_key);
	__type(value, __u32);
} vg_paths SEC(".maps") __weak;

/* Events each kind's filters kept in the kernel, per CPU; the agent counts what it received. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_OP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} vg_filtered SEC(".maps") __weak;

/* Where a lookup key is built: 260 bytes do not fit beside a program's other locals. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_path_key);
} vg_path_key_buf SEC(".maps") __weak;

static __always_inline void vg_filtered_count(__u32 op)
{
	__u64 *n = bpf_map_lookup_elem(&vg_filtered, &op);

	if (n)
		*n += 1;
}

static __always_inline bool vg_task_ignored(const struct vg_config *conf)
{
	if (conf->sensor_tgid == (__u32)(bpf_get_current_pid_tgid() >> 32))
		return true;
	if (conf->flags & VG_CFG_IGNORE_COMMS) {
		char comm[VG_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (bpf_map_lookup_elem(&vg_ignore_comms, comm))
			return true;
	}
	if (conf->flags & VG_CFG_IGNORE_EXES) {
		/* Plain loads on the typed task pointer; a kernel thread's NULL mm reads as zeros. */
		struct mm_struct *mm = bpf_get_current_task_btf()->mm;
		struct inode *inode = mm ? mm->exe_file->f_inode : NULL;
		struct vg_exe_key key = {};

		if (!inode)
			return false;
		key.ino = inode->i_ino;
		key.dev = inode->i_sb->s_dev;
		if (bpf_map_lookup_elem(&vg_ignore_exes, &key))
			return true;
	}
	return false;
}

/*
 * The kind's configuration when the kind is on and the current task is not filtered out;
 * otherwise NULL, and the event is counted as filtered. Call first, before any costly work.
 */
static __always_inline const struct vg_kind_config *vg_interest(__u32 op)
{
	__u32 zero = 0;
	const struct vg_kind_config *kind = bpf_map_lookup_elem(&vg_kinds, &op);
	const struct vg_config *conf = bpf_map_lookup_elem(&vg_config, &zero);

	if (!kind || !conf || !kind->enabled || vg_task_ignored(conf)) {
		vg_filtered_count(op);
		return NULL;
	}
	return kind;
}

/* The key buffer, with the kind set and the path not yet loaded. */
static __always_inline struct vg_path_key *vg_path_key_start(__u32 op)
{
	__u32 zero = 0;
	struct vg_path_key *key = bpf_map_lookup_elem(&vg_path_key_buf, &zero);

	if (key)
		key->kind = op;
	return key;
}

/* Loads a path from user memory into @key; returns its length without the NUL, or < 0. */
static __always_inline long vg_path_key_load_user(struct vg_path_key *key, const char *user_path)
{
	long n = bpf_probe_read_user_str(key->path, sizeof(key->path), user_path);

	return n > 0 ? n - 1 : n;
}

/*
 * Loads the first @len bytes of a path from kernel memory (a record being built, a resolved
 * path) into @key, at most what it holds; returns how many, or -1.
 */
static __always_inline long vg_path_key_load_kernel(struct vg_path_key *key, const char *path, __u32 len)
{
	if (len > sizeof(key->path))
		len = sizeof(key->path);
	/*
	 * Keeps the mask below: without it clang drops the mask as redundant after the clamp and
	 * passes a register the verifier has not seen clamped.
	 */
	barrier_var(len);
	len &= 0xff;
	if (bpf_probe_read_kernel(key->path, len, path))
		return -1;
	return len;
}

/*
 * Whether @access (enum vg_path_access) on the path loaded into @key, @len bytes long, is
 * wanted: the longest matching prefix decides, else the kind's default. When not wanted the
 * event is counted as filtered.
 */
static __always_inline bool vg_path_wanted(const struct vg_kind_config *kind, struct vg_path_key *key, long len,
					   __u32 access)
{
	__u32 verdict = kind->path_default;

	if (kind->use_paths && len >= 0) {
		__u32 *found;

		if (len > sizeof(key->path))
			len = sizeof(key->path);
		key->prefixlen = 8 + 8 * (__u32)len;
		found = bpf_map_lookup_elem(&vg_paths, key);
		if (found)
			verdict = *found & VG_ACCESS_ANY;
	}
	if (verdict & access)
		return true;
	vg_filtered_count(key->kind);
	return false;
}

/* Whether the kind wants @access on some path without looking at the path (no prefixes). */
static __always_inline bool vg_paths_needed(const struct vg_kind_config *kind)
{
	return kind->use_paths;
}

#endif /* VIGIL_LIB_FILTER_H */
