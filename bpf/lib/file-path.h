/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Paths of the file domain: the file behind a descriptor, the directory a relative path is
 * resolved in, resolved paths copied into a record, and filter verdicts on paths the kernel
 * resolved (lib/filter.h covers strings from user memory).
 */
#ifndef VIGIL_LIB_FILE_PATH_H
#define VIGIL_LIB_FILE_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"
#include "lib/filter.h"
#include "lib/path.h"

/* include/uapi/linux/fcntl.h; #defines, so vmlinux.h lacks them. */
#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif

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

/* The open file behind @fd in the current task, or NULL. */
static __always_inline struct file *vg_file_of_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
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

/* Resolves @path into the shared path buffer (lib/path.h); NULL when there is none. */
static __always_inline struct vigil_path_buf *vg_file_walk(const struct path *path, bool *truncated)
{
	__u32 zero = 0;
	struct vigil_path_buf *buf = bpf_map_lookup_elem(&vg_path_buf, &zero);

	*truncated = false;
	if (!buf || !path)
		return NULL;
	*truncated = vg_path_resolve(path, buf);
	return buf;
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
	return found ? *found : kind->path_default;
}

/* The verdict on the resolved path in @buf. */
static __always_inline __u32 vg_file_verdict_walked(const struct vg_kind_config *kind, __u32 op,
						    struct vigil_path_buf *buf)
{
	struct vg_path_key *key = vg_path_key_start(op);
	__u32 start = PATH_VOLATILE(buf->pos);
	__u32 len;

	if (!key)
		return kind->path_default;
	if (start >= VG_PATH_MAX)
		return vg_file_verdict(kind, key, -1);
	len = VG_PATH_MAX - start;
	if (len > sizeof(key->path))
		len = sizeof(key->path);
	/*
	 * Keeps the mask below: without it clang drops the mask as redundant after the clamp and
	 * passes a register the verifier has not seen clamped.
	 */
	barrier_var(len);
	len &= 0xff;
	if (bpf_probe_read_kernel(key->path, len, &buf->bytes[start & (VG_PATH_MAX - 1)]))
		return kind->path_default;
	return vg_file_verdict(kind, key, len);
}

/*
 * The verdict on a relative @user_path joined to the directory resolved in @buf, as the kernel
 * will see it without "." and ".." taken out (the agent normalises what it reports).
 */
static __always_inline __u32 vg_file_verdict_joined(const struct vg_kind_config *kind, __u32 op,
						    struct vigil_path_buf *buf, const char *user_path)
{
	__u32 start = PATH_VOLATILE(buf->pos);
	struct vigil_file_key *k;
	__u32 zero = 0, slash = 0;
	__u32 len;
	long n;

	k = bpf_map_lookup_elem(&vg_file_key_buf, &zero);
	if (!k || start >= VG_PATH_MAX)
		return kind->path_default;
	k->key.kind = op;
	len = VG_PATH_MAX - start;
	if (len > sizeof(k->key.path))
		len = sizeof(k->key.path);
	barrier_var(len);
	len &= 0xff;
	if (bpf_probe_read_kernel(k->key.path, len, &buf->bytes[start & (VG_PATH_MAX - 1)]))
		return kind->path_default;
	/* A separator, except after the root, which is the only directory ending in '/'. */
	if (len < sizeof(k->key.path) && !(len == 1 && k->key.path[0] == '/')) {
		k->key.path[len & 0xff] = '/';
		slash = 1;
	}
	/* An empty path (AT_EMPTY_PATH) is the directory itself, without the separator. */
	n = bpf_probe_read_user_str(&k->key.path[(len + slash) & 0xff], sizeof(k->spill), user_path);
	if (n > 1)
		len += slash + n - 1;
	return vg_file_verdict(kind, &k->key, len);
}

#endif /* VIGIL_LIB_FILE_PATH_H */
