/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The enforcement decision shared by every hook that can stop an operation (see
 * records/enforce.h for the maps): a hook gathers what it sees of the operation in a struct
 * vg_enforce_subject and asks vg_enforce_decide which slot, if any, forbids it. The exec
 * tracepoint, the cgroup socket programs and the BPF-LSM programs all decide through here, so a
 * rule means the same wherever it is enforced.
 */
#ifndef VIGIL_LIB_ENFORCE_H
#define VIGIL_LIB_ENFORCE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"
#include "lib/path.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_enforce_state);
} vg_enforce_state SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VG_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct vg_enforce_hook_config);
} vg_enforce_hooks SEC(".maps") __weak;

/* Values: the atoms that hold for a string with this prefix (or this exact string, NUL included). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_enforce_str_key);
	__type(value, __u64);
} vg_enforce_strings SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct vg_enforce_value_key);
	__type(value, __u64);
} vg_enforce_values SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct vg_enforce_inode_key);
	__type(value, __u64);
} vg_enforce_inodes SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_enforce_addr_key);
	__type(value, __u64);
} vg_enforce_addrs SEC(".maps") __weak;

/*
 * Never read by a program: the agent updates it after switching generations, and the kernel
 * waits for every running program to finish before a map-in-map update returns (see
 * records/enforce.h).
 */
struct vg_enforce_barrier_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_enforce_barrier_inner SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct vg_enforce_barrier_inner);
} vg_enforce_barrier SEC(".maps") __weak = {
	.values = { [0] = &vg_enforce_barrier_inner },
};

/* Where string keys are built: they do not fit beside a program's other locals. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_enforce_str_key);
} vg_enforce_key_buf SEC(".maps") __weak;

#define VG_ENFORCE_KEY_HEAD 32 /* bits of gen, hook, test and pad before the string */

/* What a hook sees of an operation; a field the hook has no value for is never tested there. */
struct vg_enforce_subject {
	struct file *exe;        /* the executable: the program about to run, or the caller's */
	const char *comm;        /* VG_COMM_LEN bytes, kernel memory */
	/*
	 * File hooks: the file by its dentry and the mount it was reached through (a rename's old
	 * name), and the inode that backs it when that is another (see enforce_file_inode_atoms).
	 */
	struct dentry *file;
	struct vfsmount *file_mnt;
	struct inode *file_real;
	struct dentry *new_file; /* a rename's new name */
	struct vfsmount *new_mnt;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u16 port;              /* host order */
	bool has_addr;
	__u8 addr[16];           /* IPv6, or IPv4-mapped */
};

static __always_inline __u64 enforce_lookup_str(struct vg_enforce_str_key *key, __u32 bytes)
{
	__u64 *hit;

	key->prefixlen = VG_ENFORCE_KEY_HEAD + 8 * bytes;
	hit = bpf_map_lookup_elem(&vg_enforce_strings, key);
	return hit ? *hit : 0;
}

/*
 * The atoms a string test finds for the string ending at buf->bytes[VG_PATH_MAX) and starting
 * at buf->pos: the prefix and exact entries of @test, and the suffix entries of @suffix_test.
 */
static __always_inline __u64 enforce_path_atoms(__u8 gen, __u8 hook, __u32 tests, __u8 test, __u8 suffix_test,
						struct vigil_path_buf *buf)
{
	struct vg_enforce_str_key *key;
	__u32 zero = 0, start, len, n;
	__u64 atoms = 0;
	int i;

	key = bpf_map_lookup_elem(&vg_enforce_key_buf, &zero);
	start = PATH_VOLATILE(buf->pos);
	if (!key || start >= VG_PATH_MAX)
		return 0;
	len = VG_PATH_MAX - start;
	key->gen = gen;
	key->hook = hook;
	key->pad = 0;
	if (tests & (1U << test)) {
		key->test = test;
		/*
		 * A fixed size, read past the string's end into the buffer's second half: the
		 * bytes beyond the prefix length are not compared.
		 */
		if (bpf_probe_read_kernel(key->str, VG_ENFORCE_STR - 1, &buf->bytes[start & (VG_PATH_MAX - 1)]))
			return 0;
		n = len < VG_ENFORCE_STR - 1 ? len : VG_ENFORCE_STR - 1;
		/* A whole string ends with its NUL, so that an exact entry matches it alone. */
		if (len < VG_ENFORCE_STR - 1) {
			barrier_var(n);
			if (n < VG_ENFORCE_STR - 1)
				key->str[n] = '\0';
			n += 1;
		}
		atoms |= enforce_lookup_str(key, n);
	}
	if (tests & (1U << suffix_test)) {
		key->test = suffix_test;
		n = len < VG_ENFORCE_STR ? len : VG_ENFORCE_STR;
		for (i = 0; i < VG_ENFORCE_STR; i++) {
			if (i >= n)
				break;
			key->str[i] = buf->bytes[(VG_PATH_MAX - 1 - i) & (VG_PATH_MAX - 1)];
		}
		atoms |= enforce_lookup_str(key, n);
	}
	return atoms;
}

/* The atoms of the comm tests: exact and prefix, and suffix on the comm reversed. */
static __always_inline __u64 enforce_comm_atoms(__u8 gen, __u8 hook, __u32 tests, const char *comm)
{
	struct vg_enforce_str_key *key;
	char name[VG_COMM_LEN] = {};
	__u32 zero = 0, len = 0;
	__u64 atoms = 0;
	int i;

	key = bpf_map_lookup_elem(&vg_enforce_key_buf, &zero);
	if (!key || bpf_probe_read_kernel(name, sizeof(name), comm))
		return 0;
	name[VG_COMM_LEN - 1] = '\0';
	for (i = 0; i < VG_COMM_LEN; i++) {
		if (!name[i])
			break;
		len++;
	}
	key->gen = gen;
	key->hook = hook;
	key->pad = 0;
	if (tests & (1U << VG_TEST_COMM)) {
		key->test = VG_TEST_COMM;
		for (i = 0; i < VG_COMM_LEN; i++)
			key->str[i] = name[i];
		atoms |= enforce_lookup_str(key, len + 1);
	}
	if (tests & (1U << VG_TEST_COMM_SUFFIX)) {
		key->test = VG_TEST_COMM_SUFFIX;
		for (i = 0; i < VG_COMM_LEN; i++)
			key->str[i] = i < len ? name[(len - 1 - i) & (VG_COMM_LEN - 1)] : 0;
		atoms |= enforce_lookup_str(key, len);
	}
	return atoms;
}

static __always_inline __u64 enforce_inode_atoms(__u8 gen, __u8 hook, __u8 test, struct inode *inode)
{
	struct vg_enforce_inode_key key = {};
	__u64 *hit;

	if (!inode)
		return 0;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.gen = gen;
	key.hook = hook;
	key.test = test;
	hit = bpf_map_lookup_elem(&vg_enforce_inodes, &key);
	return hit ? *hit : 0;
}

static __always_inline __u64 enforce_value_atoms(__u8 gen, __u8 hook, __u8 test, __u32 value)
{
	struct vg_enforce_value_key key = {};
	__u64 *hit;

	key.gen = gen;
	key.hook = hook;
	key.test = test;
	key.value = value;
	hit = bpf_map_lookup_elem(&vg_enforce_values, &key);
	return hit ? *hit : 0;
}

static __always_inline __u64 enforce_addr_atoms(__u8 gen, __u8 hook, const __u8 *addr)
{
	struct vg_enforce_addr_key key = {};
	__u64 *hit;

	key.prefixlen = VG_ENFORCE_KEY_HEAD + 128;
	key.gen = gen;
	key.hook = hook;
	__builtin_memcpy(key.addr, addr, 16);
	hit = bpf_map_lookup_elem(&vg_enforce_addrs, &key);
	return hit ? *hit : 0;
}

/*
 * The atoms of a file's identity: the inode its name leads to and, when another, the one that
 * backs it. On overlayfs a name leads to an overlay inode (the overlay's own device and the
 * layer file's inode number) and an open of it opens the layer's file too, whose f_inode is the
 * layer's inode on the layer's device. Neither need be the device stat() reports for the merged
 * file (with layers on several filesystems it is a device of overlayfs' own making), so the agent
 * writes an entry for each identity the file can have (src/sensor/enforce/identity.ts).
 */
static __always_inline __u64 enforce_file_inode_atoms(__u8 gen, __u8 hook, __u8 test, struct inode *named,
						       struct inode *real)
{
	__u64 atoms = enforce_inode_atoms(gen, hook, test, named);

	if (real && real != named)
		atoms |= enforce_inode_atoms(gen, hook, test, real);
	return atoms;
}

static __always_inline __u64 enforce_exe_inode_atoms(__u8 gen, __u8 hook, struct file *exe)
{
	return enforce_file_inode_atoms(gen, hook, VG_TEST_EXE_INODE, BPF_CORE_READ(exe, f_path.dentry, d_inode),
					BPF_CORE_READ(exe, f_inode));
}

/* The generation in force, as a sequence number; its low bit indexes the maps. */
static __always_inline __u32 vg_enforce_seq(void)
{
	__u32 zero = 0;
	struct vg_enforce_state *state = bpf_map_lookup_elem(&vg_enforce_state, &zero);

	return state ? state->seq : 0;
}

/*
 * The lowest slot of @hook whose rule forbids the operation @s describes, or -1. *@seq is the
 * generation decided in; *@kill says whether the slot's rule kills.
 */
static __always_inline int vg_enforce_decide(__u32 hook, struct vg_enforce_subject *s, __u32 *seq, bool *kill)
{
	const struct vg_enforce_hook_config *conf;
	struct vigil_path_buf *buf;
	__u32 zero = 0, index, tests, slots;
	__u64 atoms = 0;
	__u8 gen;
	int i;

	*seq = vg_enforce_seq();
	gen = *seq & 1;
	index = gen * VG_HOOK_MAX + hook;
	conf = bpf_map_lookup_elem(&vg_enforce_hooks, &index);
	if (!conf || conf->slots == 0)
		return -1;
	tests = conf->tests;
	if (s->exe && (tests & ((1U << VG_TEST_EXE) | (1U << VG_TEST_EXE_SUFFIX)))) {
		struct file *exe = s->exe;

		buf = bpf_map_lookup_elem(&vg_path_buf, &zero);
		if (buf) {
			vg_path_resolve(__builtin_preserve_access_index(&exe->f_path), buf);
			atoms |= enforce_path_atoms(gen, hook, tests, VG_TEST_EXE, VG_TEST_EXE_SUFFIX, buf);
		}
	}
	if (s->exe && (tests & (1U << VG_TEST_EXE_INODE)))
		atoms |= enforce_exe_inode_atoms(gen, hook, s->exe);
	if (s->file && (tests & ((1U << VG_TEST_PATH) | (1U << VG_TEST_PATH_SUFFIX)))) {
		buf = bpf_map_lookup_elem(&vg_path_buf, &zero);
		if (buf) {
			vg_path_resolve_at(s->file, s->file_mnt, buf);
			atoms |= enforce_path_atoms(gen, hook, tests, VG_TEST_PATH, VG_TEST_PATH_SUFFIX, buf);
		}
	}
	if (s->file && (tests & (1U << VG_TEST_PATH_INODE))) {
		struct dentry *file = s->file;

		atoms |= enforce_file_inode_atoms(gen, hook, VG_TEST_PATH_INODE, BPF_CORE_READ(file, d_inode),
						  s->file_real);
	}
	if (s->new_file && (tests & ((1U << VG_TEST_NEW_PATH) | (1U << VG_TEST_NEW_PATH_SUFFIX)))) {
		buf = bpf_map_lookup_elem(&vg_path_buf, &zero);
		if (buf) {
			vg_path_resolve_at(s->new_file, s->new_mnt, buf);
			atoms |= enforce_path_atoms(gen, hook, tests, VG_TEST_NEW_PATH, VG_TEST_NEW_PATH_SUFFIX, buf);
		}
	}
	if (s->new_file && (tests & (1U << VG_TEST_NEW_PATH_INODE))) {
		struct dentry *new_file = s->new_file;

		atoms |= enforce_file_inode_atoms(gen, hook, VG_TEST_NEW_PATH_INODE,
						  BPF_CORE_READ(new_file, d_inode), NULL);
	}
	if (s->comm && (tests & ((1U << VG_TEST_COMM) | (1U << VG_TEST_COMM_SUFFIX))))
		atoms |= enforce_comm_atoms(gen, hook, tests, s->comm);
	if (tests & (1U << VG_TEST_UID))
		atoms |= enforce_value_atoms(gen, hook, VG_TEST_UID, s->uid);
	if (tests & (1U << VG_TEST_EUID))
		atoms |= enforce_value_atoms(gen, hook, VG_TEST_EUID, s->euid);
	if (tests & (1U << VG_TEST_GID))
		atoms |= enforce_value_atoms(gen, hook, VG_TEST_GID, s->gid);
	if (tests & (1U << VG_TEST_PORT))
		atoms |= enforce_value_atoms(gen, hook, VG_TEST_PORT, s->port);
	if (s->has_addr && (tests & (1U << VG_TEST_ADDRESS)))
		atoms |= enforce_addr_atoms(gen, hook, s->addr);

	slots = conf->slots;
	for (i = 0; i < VG_ENFORCE_SLOTS; i++) {
		__u64 require, forbid;

		if (i >= slots)
			break;
		require = conf->require[i];
		forbid = conf->forbid[i];
		if ((atoms & require) == require && !(atoms & forbid)) {
			*kill = (conf->kill >> i) & 1;
			return i;
		}
	}
	return -1;
}

#endif /* VIGIL_LIB_ENFORCE_H */
