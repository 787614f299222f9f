/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Resolving a struct path (a dentry and the mount it was reached through) to an absolute path
 * string, by walking dentry parents up to the root of each mount and stepping from a mount to
 * the dentry it is mounted on. bpf_d_path does this, but only for fentry/LSM programs, which
 * kernels like ours refuse.
 *
 * The walk stops at the root of the mount tree the path belongs to, not at the task's root: for
 * a chrooted task the result is the host's path, for a task in its own mount namespace (a
 * container) it is the path inside that namespace. That is also what the agent reads from
 * /proc/PID/exe and /proc/PID/cwd.
 */
#ifndef VIGIL_LIB_PATH_H
#define VIGIL_LIB_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil.h"

/* Mount crossings allowed on top of VG_PATH_DEPTH components (stacked and nested mounts). */
#define PATH_MOUNT_CROSSINGS 16

/*
 * The string is built backwards, ending at offset VG_PATH_MAX; the second half of the buffer
 * only exists so that the verifier can see that a component of up to VG_PATH_MAX - 1 bytes
 * written at any offset below VG_PATH_MAX stays inside the buffer.
 */
struct vigil_path_buf {
	char bytes[VG_PATH_MAX * 2];
	/*
	 * The walk's state lives here rather than in locals so that the verifier does not know
	 * it: values it tracks exactly (a position, a count) make every iteration, and every way
	 * out of the loop, a state of its own, and the exec program then exceeds a million
	 * verified instructions. Accessed through volatile so that clang keeps them in memory.
	 */
	__u32 pos;        /* start of the string in bytes[] */
	__u32 components;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_path_buf);
} vg_path_buf SEC(".maps") __weak;

#define PATH_VOLATILE(field) (*(volatile __u32 *)&(field))

/*
 * How the walk reads the kernel's fields: with plain loads where lib/cast.h was included first
 * (see there), else with a bpf_probe_read_kernel per field. Only one object may include
 * lib/cast.h: libbpf 1.1's linker fails on a kfunc declared in two of the objects it links. The
 * file domain, whose opens are the hottest path, is that one.
 */
#ifdef VG_PLAIN_LOADS
#define PATH_TYPED(type, ptr) vg_cast(type, ptr)
#define PATH_READ(ptr, field) ((ptr)->field)
#else
#define PATH_TYPED(type, ptr) ((type *)(ptr))
#define PATH_READ(ptr, field) BPF_CORE_READ(ptr, field)
#endif

static __always_inline struct mount *path_real_mount(struct vfsmount *vfsmnt)
{
	/* container_of with an offset relocated for the running kernel. */
	return PATH_TYPED(struct mount, (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/*
 * Writes the path of @dentry, reached through @vfsmnt, to the end of buf->bytes[0, VG_PATH_MAX)
 * and its start to buf->pos. Returns true when the path was cut (see enum vg_exec_flags).
 */
static __always_inline bool vg_path_resolve_at(struct dentry *dentry, struct vfsmount *vfsmnt,
						struct vigil_path_buf *buf)
{
	struct mount *mnt = path_real_mount(vfsmnt);
	bool done = false;
	__u32 pos;
	int i;

	PATH_VOLATILE(buf->pos) = VG_PATH_MAX;
	PATH_VOLATILE(buf->components) = 0;
	for (i = 0; i < VG_PATH_DEPTH + PATH_MOUNT_CROSSINGS; i++) {
		struct dentry *mnt_root = PATH_READ(mnt, mnt.mnt_root);
		struct dentry *parent = PATH_READ(dentry, d_parent);
		const unsigned char *name;
		__u32 len;

		if (dentry == mnt_root) {
			struct mount *mnt_parent = PATH_READ(mnt, mnt_parent);

			/* The root of the mount tree (of the namespace, or of a detached tree). */
			if (mnt == mnt_parent) {
				done = true;
				break;
			}
			dentry = PATH_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			continue;
		}
		if (PATH_VOLATILE(buf->components) >= VG_PATH_DEPTH)
			break;
		len = PATH_READ(dentry, d_name.len);
		name = PATH_READ(dentry, d_name.name);
		pos = PATH_VOLATILE(buf->pos);
		/* Room for the name and its '/' with pos above 0: the result fits VG_PATH_MAX - 1. */
		if (len == 0 || len + 2 > pos)
			break;
		pos -= len;
		bpf_probe_read_kernel(&buf->bytes[pos & (VG_PATH_MAX - 1)], len & (VG_PATH_MAX - 1), name);
		pos -= 1;
		buf->bytes[pos & (VG_PATH_MAX - 1)] = '/';
		PATH_VOLATILE(buf->pos) = pos;
		PATH_VOLATILE(buf->components) += 1;
		/*
		 * A dentry that is its own parent but not a mount's root belongs to no tree: a
		 * memfd, or a directory cut off by a lazy unmount. Its name is all there is
		 * ("/memfd:NAME", as /proc/PID/exe shows it).
		 */
		if (dentry == parent) {
			done = true;
			break;
		}
		dentry = parent;
	}

	pos = PATH_VOLATILE(buf->pos);
	if (!done) {
		/* Drop the leading '/': a cut path must not look absolute. */
		if (pos < VG_PATH_MAX)
			PATH_VOLATILE(buf->pos) = pos + 1;
	} else if (pos >= VG_PATH_MAX) {
		/* The path is the root itself. */
		buf->bytes[VG_PATH_MAX - 1] = '/';
		PATH_VOLATILE(buf->pos) = VG_PATH_MAX - 1;
	}
	return !done;
}

/* The same for a struct path; a dentry and the mount it was reached through are one. */
static __always_inline bool vg_path_resolve(const struct path *any_path, struct vigil_path_buf *buf)
{
	const struct path *path = PATH_TYPED(const struct path, any_path);

	return vg_path_resolve_at(PATH_READ(path, dentry), PATH_READ(path, mnt), buf);
}

/*
 * Resolves @path and copies the string (no NUL) to @dst, which must have VG_PATH_MAX - 1 bytes
 * of room. Returns the length; sets *@truncated when the path was cut.
 */
static __always_inline __u32 vg_path_copy_at(void *dst, struct dentry *dentry, struct vfsmount *mnt,
					      bool *truncated)
{
	struct vigil_path_buf *buf;
	__u32 zero = 0;
	__u32 start, len;

	*truncated = false;
	buf = bpf_map_lookup_elem(&vg_path_buf, &zero);
	if (!buf)
		return 0;
	*truncated = vg_path_resolve_at(dentry, mnt, buf);
	start = PATH_VOLATILE(buf->pos);
	if (start >= VG_PATH_MAX)
		return 0;
	len = VG_PATH_MAX - start;
	if (bpf_probe_read_kernel(dst, len & (VG_PATH_MAX - 1), &buf->bytes[start & (VG_PATH_MAX - 1)]))
		return 0;
	return len & (VG_PATH_MAX - 1);
}

static __always_inline __u32 vg_path_copy(void *dst, const struct path *any_path, bool *truncated)
{
	const struct path *path = PATH_TYPED(const struct path, any_path);

	return vg_path_copy_at(dst, PATH_READ(path, dentry), PATH_READ(path, mnt), truncated);
}

#endif /* VIGIL_LIB_PATH_H */
