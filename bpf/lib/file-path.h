/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Paths of the file domain: the file behind a descriptor, the directory a relative path is
 * resolved in (cached, since resolving it is a walk up the tree), resolved paths copied into a
 * record, and filter verdicts on paths the kernel resolved (lib/filter.h covers strings from
 * user memory).
 */
#ifndef VIGIL_LIB_FILE_PATH_H
#define VIGIL_LIB_FILE_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"
#include "lib/filter.h"
#include "lib/cast.h"
#include "lib/fd.h"
#include "lib/path.h"

/* include/uapi/linux/fcntl.h; #defines, so vmlinux.h lacks them. */
#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif

/* Bytes of a directory's path kept in the cache: all the prefix filter looks at. */
#define FILE_DIR_KEPT 255

/*
 * A lookup key with room behind it: a string read at a variable offset into key.path may run
 * on into spill, which the verifier can then see stays inside the map value; the verdict only
 * looks at the first sizeof(key.path) bytes.
 */
struct vigil_file_key {
	struct vg_path_key key;
	char spill[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_file_key);
} vg_file_key_buf SEC(".maps");

/*
 * A directory resolved to its path. Processes resolve relative paths in the same few
 * directories (their cwd, the dirfds of a tree walk) over and over, every successful open is
 * decided from its directory, and walking up the tree costs several times what the rest of an
 * open does, so the start of each directory's path is cached by the dentry and mount it was
 * reached through.
 *
 * An entry is used only while it still describes the dentry: the same inode and parent (a
 * dentry freed and reused for another directory has another), and no directory was renamed
 * or removed since (vg_file_tree_gen): a rename of an ancestor changes the path of every
 * directory below it, which no check on the dentry itself would see.
 */
struct vigil_file_dir {
	__u64 dentry;      /* the key: the dentry and mount, as numbers */
	__u64 mnt;
	__u64 gen;         /* vg_file_tree_gen when resolved */
	__u64 ino;         /* the dentry's inode then */
	__u64 parent;      /* its parent dentry then */
	__u32 len;         /* bytes of the whole path; the first FILE_DIR_KEPT are in path */
	__u32 cut;         /* the walk was cut (see enum vg_file_flags) */
	__u64 open_gen;    /* vg_config.interest_gen when open_verdict was decided */
	__u32 open_verdict; /* the verdict on opens of names in it, or VG_PATH_SPLIT */
	__u32 pad;
	char path[FILE_DIR_KEPT + 1];
};

/*
 * Slots of each CPU's cache, direct-mapped by the inode (a hash table's lookup, a helper call
 * and a hash of the key, costs more than the rest of a dropped open's decision): a directory
 * takes the slot its inode number hashes to, evicting whatever was there. Per CPU, so that an entry
 * is never read while another CPU writes it; each CPU resolves a directory once.
 */
#define FILE_DIR_SLOTS 1024

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FILE_DIR_SLOTS);
	__type(key, __u32);
	__type(value, struct vigil_file_dir);
} vg_file_dirs SEC(".maps");

/*
 * The slot of a directory: the multiplicative hash of its inode number (the dentry's address,
 * a typed pointer here, cannot be computed on).
 */
static __always_inline __u32 vg_file_dir_slot(__u64 ino)
{
	return (ino * 0x9E3779B97F4A7C15ULL) >> 54;
}

/* Counts the renames and removals of directories (and of anything: the calls cannot tell). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vg_file_tree_gen SEC(".maps");

/* A successful rename or directory removal: every cached directory path may be stale now. */
static __always_inline void vg_file_tree_changed(long ret)
{
	__u32 zero = 0;
	__u64 *gen;

	if (ret != 0)
		return;
	gen = bpf_map_lookup_elem(&vg_file_tree_gen, &zero);
	if (gen)
		__sync_fetch_and_add(gen, 1);
}

/* The directory a path relative to @dirfd is resolved in: the cwd for AT_FDCWD; else NULL if no file. */
static __always_inline const struct path *vg_file_base_dir(int dirfd)
{
	struct file *file;

	if (dirfd == AT_FDCWD) {
		struct fs_struct *fs = BPF_CORE_READ(bpf_get_current_task_btf(), fs);

		return __builtin_preserve_access_index(&fs->pwd);
	}
	file = vg_file_of_fd(dirfd);
	if (!file)
		return NULL;
	return __builtin_preserve_access_index(&file->f_path);
}

/* Where the directory of an opened file is put together as a struct path
 * (vg_file_open_verdict): walked as VG_FILE_PARENT. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path);
} vg_file_parent_buf SEC(".maps");

/* A path to walk: the one in vg_file_parent_buf (a map value, which global functions do not take). */
#define VG_FILE_PARENT 0

/*
 * Resolves the struct path at @path (or VG_FILE_PARENT) into the shared path buffer
 * (lib/path.h); returns 1 when the path was cut, -1 when there is no buffer. A global
 * function, so that the verifier checks the walk once per program rather than at every call in
 * every state (a rename has four); the pointer goes as a number, since global functions take
 * no kernel pointers.
 */
__noinline int vg_file_resolve(__u64 path)
{
	__u32 zero = 0;
	struct vigil_path_buf *buf = bpf_map_lookup_elem(&vg_path_buf, &zero);
	const struct path *parent;

	if (!buf)
		return -1;
	if (path != VG_FILE_PARENT)
		return vg_path_resolve((const struct path *)path, buf);
	parent = bpf_map_lookup_elem(&vg_file_parent_buf, &zero);
	return parent ? vg_path_resolve(parent, buf) : -1;
}

/* Resolves the path at @path (a number: see vg_file_resolve) into the shared path buffer. */
static __always_inline struct vigil_path_buf *vg_file_walk_at(__u64 path, bool *truncated)
{
	__u32 zero = 0;
	int cut;

	*truncated = false;
	cut = vg_file_resolve(path);
	if (cut < 0)
		return NULL;
	*truncated = cut;
	return bpf_map_lookup_elem(&vg_path_buf, &zero);
}

/* Resolves @path into the shared path buffer; NULL when there is none. */
static __always_inline struct vigil_path_buf *vg_file_walk(const struct path *path, bool *truncated)
{
	*truncated = false;
	if (!path)
		return NULL;
	return vg_file_walk_at((__u64)path, truncated);
}

/* The resolved string's length in @buf (below VG_PATH_MAX). */
static __always_inline __u32 vg_file_walked_len(struct vigil_path_buf *buf)
{
	__u32 start = PATH_VOLATILE(buf->pos);

	return start < VG_PATH_MAX ? VG_PATH_MAX - start : 0;
}

/* Copies the resolved string to @dst (VG_PATH_MAX - 1 bytes of room); returns its length. */
static __always_inline __u32 vg_file_walked_copy(void *dst, struct vigil_path_buf *buf)
{
	__u32 start = PATH_VOLATILE(buf->pos);
	__u32 len;

	if (start >= VG_PATH_MAX)
		return 0;
	len = (VG_PATH_MAX - start) & (VG_PATH_MAX - 1);
	if (bpf_probe_read_kernel(dst, len, &buf->bytes[start & (VG_PATH_MAX - 1)]))
		return 0;
	return len;
}

/*
 * The directory at @dentry on @mnt, from the cache when it can be, else resolved by walking
 * @walk (the struct path as a number, or VG_FILE_PARENT with vg_file_parent_buf filled in then
 * from @dentry and @mnt); NULL when there is none.
 */
static __always_inline struct vigil_file_dir *vg_file_dir_at(struct dentry *dentry, struct vfsmount *mnt, __u64 walk)
{
	struct vigil_path_buf *buf;
	struct vigil_file_dir *dir;
	struct inode *inode;
	struct path *parent;
	__u64 gen = 0, ino, up;
	__u32 zero = 0, start, len, slot;
	__u64 *genp;
	bool cut;

	inode = VG_LOAD(struct dentry, dentry, d_inode);
	ino = VG_LOAD(struct inode, inode, i_ino);
	up = (__u64)VG_LOAD(struct dentry, dentry, d_parent);
	genp = bpf_map_lookup_elem(&vg_file_tree_gen, &zero);
	if (genp)
		gen = *genp;
	slot = vg_file_dir_slot(ino);
	dir = bpf_map_lookup_elem(&vg_file_dirs, &slot);
	if (!dir)
		return NULL;
	if (dir->dentry == (__u64)dentry && dir->mnt == (__u64)mnt && dir->gen == gen && dir->ino == ino &&
	    dir->parent == up)
		return dir;

	if (walk == VG_FILE_PARENT) {
		parent = bpf_map_lookup_elem(&vg_file_parent_buf, &zero);
		if (!parent)
			return NULL;
		parent->mnt = mnt;
		parent->dentry = dentry;
	}
	buf = vg_file_walk_at(walk, &cut);
	/* Unkeyed until it is whole: a failed fill leaves no entry behind. */
	dir->dentry = 0;
	if (!buf)
		return NULL;
	dir->mnt = (__u64)mnt;
	dir->gen = gen;
	dir->ino = ino;
	dir->parent = up;
	dir->cut = cut;
	dir->open_gen = (__u64)-1;
	dir->open_verdict = 0;
	dir->pad = 0;
	dir->len = vg_file_walked_len(buf);
	start = PATH_VOLATILE(buf->pos);
	len = dir->len;
	if (len > FILE_DIR_KEPT)
		len = FILE_DIR_KEPT;
	/* Keeps the mask: clang would drop it after the clamp and pass an unclamped copy. */
	barrier_var(len);
	len &= 0xff;
	if (bpf_probe_read_kernel(dir->path, len, &buf->bytes[start & (VG_PATH_MAX - 1)]))
		return NULL;
	dir->dentry = (__u64)dentry;
	return dir;
}

/* The directory @path resolved, from the cache when it can be; NULL when there is none. */
static __always_inline struct vigil_file_dir *vg_file_dir(const struct path *path)
{
	if (!path)
		return NULL;
	return vg_file_dir_at(VG_LOAD(const struct path, path, dentry), VG_LOAD(const struct path, path, mnt),
			      (__u64)path);
}

/*
 * Copies the whole path of @dir (resolved from @path) to @dst, which has VG_PATH_MAX - 1 bytes
 * of room; returns its length. A path longer than the cache keeps is walked again.
 */
static __always_inline __u32 vg_file_dir_copy(void *dst, const struct vigil_file_dir *dir, const struct path *path)
{
	struct vigil_path_buf *buf;
	__u32 len = dir->len;
	bool cut;

	if (len <= FILE_DIR_KEPT) {
		barrier_var(len);
		len &= 0xff;
		if (bpf_probe_read_kernel(dst, len, dir->path))
			return 0;
		return len;
	}
	buf = vg_file_walk(path, &cut);
	return buf ? vg_file_walked_copy(dst, buf) : 0;
}

/*
 * The access the filter allows on the path in @key (@len bytes; < 0 for no path): the longest
 * prefix's verdict, else the kind's default. Unlike vg_path_wanted it counts nothing, so that
 * an event with two paths is counted once, after both are decided.
 */
static __always_inline __u32 vg_file_verdict(const struct vg_kind_config *kind, struct vg_path_key *key, long len)
{
	__u32 *found;

	if (!kind->use_paths || len < 0)
		return kind->path_default;
	if (len > sizeof(key->path))
		len = sizeof(key->path);
	key->prefixlen = 8 + 8 * (__u32)len;
	found = bpf_map_lookup_elem(&vg_paths, key);
	return found ? *found & VG_ACCESS_ANY : kind->path_default;
}

/*
 * The verdict on the directory path in @key (@len bytes, ending in '/') as it holds for every
 * name in it, or VG_PATH_SPLIT when longer prefixes decide some names otherwise.
 */
static __always_inline __u32 vg_file_verdict_split(const struct vg_kind_config *kind, struct vg_path_key *key,
						   long len)
{
	__u32 *found;

	if (len > sizeof(key->path))
		return VG_PATH_SPLIT;
	key->prefixlen = 8 + 8 * (__u32)len;
	found = bpf_map_lookup_elem(&vg_paths, key);
	if (!found)
		return kind->path_default;
	if (*found & VG_PATH_SPLIT && *found >> VG_PATH_SPLIT_LEN == len)
		return VG_PATH_SPLIT;
	return *found & VG_ACCESS_ANY;
}

/* The verdict on the resolved path in @buf; a cut path, which cannot be decided, is sent. */
static __always_inline __u32 vg_file_verdict_walked(const struct vg_kind_config *kind, __u32 op,
						    struct vigil_path_buf *buf, bool cut)
{
	struct vg_path_key *key = vg_path_key_start(op);
	__u32 start = PATH_VOLATILE(buf->pos);
	long n;

	if (cut)
		return VG_ACCESS_ANY;
	if (!key)
		return kind->path_default;
	if (start >= VG_PATH_MAX)
		return vg_file_verdict(kind, key, -1);
	n = vg_path_key_load_kernel(key, &buf->bytes[start & (VG_PATH_MAX - 1)], VG_PATH_MAX - start);
	return n < 0 ? kind->path_default : vg_file_verdict(kind, key, n);
}

/*
 * Whether the relative path at @at in @k->key.path (NUL-terminated within 256 bytes) has a ".",
 * ".." or empty component: joined to its directory as it is, its spelling would not be the path
 * it names. A global function, so that the verifier checks its loop once and not again in
 * every state of every caller.
 */
__noinline int vg_file_unclean(const struct vigil_file_key *k, __u32 at)
{
	bool start = true;
	__u32 i;

	if (!k)
		return 0;
	at &= 0xff;
	for (i = 0; i < 254; i++) {
		const char *s = &k->key.path[at + i];
		char c = s[0];

		if (!c)
			break;
		if (start) {
			if (c == '/')
				return 1;
			if (c == '.' && (s[1] == '/' || !s[1] || (s[1] == '.' && (s[2] == '/' || !s[2]))))
				return 1;
		}
		start = c == '/';
	}
	return 0;
}

/*
 * Loads @dir's path into the key buffer for kind @op, followed by a separator unless it is the
 * root (the only directory ending in '/'); returns the buffer with *@len and *@slash set, or
 * NULL.
 */
static __always_inline struct vigil_file_key *vg_file_key_dir(__u32 op, const struct vigil_file_dir *dir, __u32 *len,
							      __u32 *slash)
{
	struct vigil_file_key *k;
	__u32 zero = 0;
	long n;

	k = bpf_map_lookup_elem(&vg_file_key_buf, &zero);
	if (!k)
		return NULL;
	k->key.kind = op;
	n = vg_path_key_load_kernel(&k->key, dir->path, dir->len);
	if (n < 0)
		return NULL;
	*len = n;
	*slash = 0;
	if (n < sizeof(k->key.path) && !(n == 1 && k->key.path[0] == '/')) {
		k->key.path[n & 0xff] = '/';
		*slash = 1;
	}
	return k;
}

/*
 * The verdict on a relative @user_path joined to @dir. A path that cannot be decided on its
 * spelling (a cut directory, or ".", ".." or "//" in the relative part) is sent.
 */
static __always_inline __u32 vg_file_verdict_joined(const struct vg_kind_config *kind, __u32 op,
						    const struct vigil_file_dir *dir, const char *user_path)
{
	struct vigil_file_key *k;
	__u32 len, slash;
	long n;

	if (dir->cut)
		return VG_ACCESS_ANY;
	k = vg_file_key_dir(op, dir, &len, &slash);
	if (!k)
		return kind->path_default;
	/* An empty path (AT_EMPTY_PATH) is the directory itself, without the separator. */
	n = bpf_probe_read_user_str(&k->key.path[(len + slash) & 0xff], sizeof(k->spill), user_path);
	if (n > 1) {
		if (vg_file_unclean(k, len + slash))
			return VG_ACCESS_ANY;
		len += slash + n - 1;
	}
	return vg_file_verdict(kind, &k->key, len);
}

/*
 * The directory an opened @file is in, from the cache (resolved and cached on a miss), with the
 * file's dentry in *@dentry; NULL when the file has no directory on its mount (a mount's root)
 * or none is known. With it, the file's path is the directory's and its name, both in kernel
 * memory: cheaper than walking the file up to the root at every open.
 */
static __always_inline struct vigil_file_dir *vg_file_parent_dir(struct file *file, struct dentry **dentry)
{
	struct vfsmount *mnt;

	*dentry = VG_LOAD(struct file, file, f_path.dentry);
	mnt = VG_LOAD(struct file, file, f_path.mnt);
	if (*dentry == VG_LOAD(struct vfsmount, mnt, mnt_root))
		return NULL;
	return vg_file_dir_at(VG_LOAD(struct dentry, *dentry, d_parent), mnt, VG_FILE_PARENT);
}

/* Whether the path of a file in @dir is its cached path and the file's name, not cut short. */
static __always_inline bool vg_file_dir_whole(const struct vigil_file_dir *dir)
{
	return dir && !dir->cut && dir->len <= FILE_DIR_KEPT;
}

/*
 * Copies the path of the file @dentry in @dir (vg_file_dir_whole) to @dst, which has
 * VG_PATH_MAX - 1 bytes of room; returns its length.
 */
static __always_inline __u32 vg_file_named_copy(char *dst, const struct vigil_file_dir *dir, struct dentry *dentry)
{
	__u32 len = dir->len;
	long n;

	barrier_var(len);
	len &= 0xff;
	if (bpf_probe_read_kernel(dst, len, dir->path))
		return 0;
	if (!(len == 1 && dst[0] == '/'))
		dst[len++] = '/';
	/* A name is at most 255 bytes (NAME_MAX): room for it and its NUL. */
	n = bpf_probe_read_kernel_str(dst + (len & 0x1ff), 256, VG_LOAD(struct dentry, dentry, d_name.name));
	if (n <= 1)
		return 0;
	return (len + n - 1) & 0x1ff;
}

/*
 * The verdict on an open that reached the file @dentry in @dir (vg_file_parent_dir), decided
 * on where it is, in kernel memory. Reading the caller's string costs about as much as the
 * rest of a filtered open (user memory is slow to reach from a program here), and the file
 * reached is what `file.path` reports, links and ".." followed. The directory's entry keeps the
 * verdict on every name in it until the filter changes (vg_config.interest_gen); only in a
 * directory that prefixes split (VG_PATH_SPLIT, written by the agent) is the name looked at.
 * Returns -1 when it cannot be decided so.
 */
static __always_inline long vg_file_open_verdict(const struct vg_kind_config *kind, struct vigil_file_dir *dir,
						 struct dentry *dentry)
{
	const struct vg_config *conf;
	struct vigil_file_key *k;
	__u32 zero = 0, len, slash;
	__u64 gen;
	long n;

	if (!kind->use_paths)
		return kind->path_default;
	conf = bpf_map_lookup_elem(&vg_config, &zero);
	if (!conf || !dir)
		return -1;
	gen = conf->interest_gen;
	if (!vg_file_dir_whole(dir))
		return VG_ACCESS_ANY;
	if (dir->open_gen != gen) {
		k = vg_file_key_dir(VG_OP_FILE_OPEN, dir, &len, &slash);
		if (!k)
			return -1;
		dir->open_verdict = vg_file_verdict_split(kind, &k->key, len + slash);
		dir->open_gen = gen;
	}
	if (!(dir->open_verdict & VG_PATH_SPLIT))
		return dir->open_verdict;
	k = vg_file_key_dir(VG_OP_FILE_OPEN, dir, &len, &slash);
	if (!k)
		return -1;
	n = bpf_probe_read_kernel_str(&k->key.path[(len + slash) & 0xff], sizeof(k->spill),
				      VG_LOAD(struct dentry, dentry, d_name.name));
	if (n > 1)
		len += slash + n - 1;
	return vg_file_verdict(kind, &k->key, len);
}

#endif /* VIGIL_LIB_FILE_PATH_H */
