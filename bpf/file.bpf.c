// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files: opens, and the calls that change the tree or a file's metadata (unlink, rename, chmod,
 * chown, link, symlink, mkdir, truncate). Every call is taken at its exit (see lib/syscall.h),
 * where the result is known.
 *
 * Opens are the high-volume kind, so the order of work is fixed: the kind and the task filter
 * first, then the verdict on the path, and only then the record and the path walks. A
 * successful open is decided on the file it reached, from kernel memory (see file_open); the
 * other calls, and failed opens, on the path string the caller passed, as it is (an absolute
 * path) or joined to its directory's cached path (a relative one): an absolute path through a
 * symlink or with ".." is decided as written, not as the file it reaches (the event reports the
 * file reached). A relative path the filter cannot decide so (".", ".." or "//" in it, or a
 * directory too deep to resolve whole) is sent, and the agent's rules decide.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
/* First: the path walk reads with plain loads where it is included (see lib/path.h). */
#include "lib/cast.h"
#include "lib/emit.h"
#include "lib/file-path.h"
#include "lib/filter.h"
#include "lib/path.h"
#include "lib/syscall.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

/* include/uapi/asm-generic/fcntl.h, include/uapi/linux/openat2.h; #defines, so vmlinux.h lacks them. */
#define FILE_O_WRONLY 00000001
#define FILE_O_RDWR 00000002
#define FILE_O_CREAT 00000100
#define FILE_O_TRUNC 00001000
#define FILE_O_APPEND 00002000
#define FILE_RESOLVE_IN_ROOT 0x10
#define FILE_AT_REMOVEDIR 0x200

/* An open that may change the file (or create it) is a write for the filter. */
#define FILE_OPEN_WRITES (FILE_O_WRONLY | FILE_O_RDWR | FILE_O_CREAT | FILE_O_TRUNC | FILE_O_APPEND)

/* The arguments besides paths and fds, as the record holds them. */
struct file_args {
	__s64 length;
	__u32 flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__s32 fd;
};

/* The record buffer with every field set (the buffer is reused: nothing may be left stale). */
static __always_inline struct vg_file *file_record(__u32 op, __u16 syscall, long ret, const struct file_args *a)
{
	struct vg_file *rec = vg_record_start();

	if (!rec)
		return NULL;
	rec->hdr.op = op;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = ret;
	rec->length = a->length;
	rec->ino = 0;
	rec->dev = 0;
	rec->flags = a->flags;
	rec->mode = a->mode;
	rec->uid = a->uid;
	rec->gid = a->gid;
	rec->fd = a->fd;
	rec->syscall = syscall;
	rec->file_flags = 0;
	rec->path_len = 0;
	rec->dir_len = 0;
	rec->path2_len = 0;
	rec->dir2_len = 0;
	rec->file_len = 0;
	rec->pad = 0;
	return rec;
}

/* Where a part may start: a part of up to VG_PATH_MAX bytes from there fits the record. */
#define FILE_PART_MAX (VG_RECORD_MAX - VG_PATH_MAX)

/*
 * A path argument from user memory into the record at @off; returns its length. A string that
 * fills VG_PATH_MAX - 1 bytes is cut unless the caller's next byte is its end.
 */
static __always_inline __u32 file_put_user(struct vg_file *rec, __u64 off, const char *user, __u16 cut_flag)
{
	long n;
	char next = 0;

	if (off > FILE_PART_MAX) {
		rec->file_flags |= cut_flag;
		return 0;
	}
	n = bpf_probe_read_user_str((char *)rec + vg_bound(off, FILE_PART_MAX), VG_PATH_MAX, user);
	if (n <= 0)
		return 0;
	if (n == VG_PATH_MAX) {
		bpf_probe_read_user(&next, 1, user + VG_PATH_MAX - 1);
		if (next)
			rec->file_flags |= cut_flag;
	}
	return (n - 1) & (VG_PATH_MAX - 1);
}

/*
 * The path string the filter read into @key (@n bytes) into the record at @off, copied from
 * there rather than read from user memory a second time; returns its length, or -1 when the
 * key holds only the start of it.
 */
static __always_inline __u32 file_put_key(struct vg_file *rec, __u64 off, const struct vg_path_key *key, long n)
{
	if (n < 0 || n >= sizeof(key->path) - 1 || off > FILE_PART_MAX)
		return -1;
	off = vg_bound(off, FILE_PART_MAX);
	if (bpf_probe_read_kernel((char *)rec + off, n & 0xff, key->path))
		return -1;
	return n;
}

/* The resolved path in @buf into the record at @off; returns its length. */
static __always_inline __u32 file_put_walked(struct vg_file *rec, __u64 off, struct vigil_path_buf *buf, bool cut,
					     __u16 cut_flag)
{
	if (!buf)
		return 0;
	if (off > FILE_PART_MAX) {
		rec->file_flags |= cut_flag;
		return 0;
	}
	if (cut)
		rec->file_flags |= cut_flag;
	return vg_file_walked_copy((char *)rec + vg_bound(off, FILE_PART_MAX), buf);
}

/* The path of directory @dir (resolved from @path) into the record at @off; returns its length. */
static __always_inline __u32 file_put_dir(struct vg_file *rec, __u64 off, const struct vigil_file_dir *dir,
					  const struct path *path, __u16 cut_flag)
{
	if (!dir)
		return 0;
	if (off > FILE_PART_MAX) {
		rec->file_flags |= cut_flag;
		return 0;
	}
	if (dir->cut)
		rec->file_flags |= cut_flag;
	return vg_file_dir_copy((char *)rec + vg_bound(off, FILE_PART_MAX), dir, path);
}

/* Whether a string loaded into @key (@len bytes) is an absolute path. */
static __always_inline bool file_absolute(struct vg_path_key *key, long len)
{
	return len > 0 && key->path[0] == '/';
}

/*
 * One path argument into the record: the string, and for a relative path the directory it is
 * resolved in. When @decide, the filter's verdict on the path joined to that directory is ORed
 * into *@verdict. @resolve is false for a string that is not a path to resolve (a symlink's
 * target). Returns the offset after the parts.
 */
static __always_inline __u64 file_put_path(struct vg_file *rec, __u64 off, const struct vg_kind_config *kind,
					   __u32 op, int dirfd, const char *user, bool resolve, bool decide,
					   __u32 *verdict, __u16 *path_len, __u16 *dir_len, __u16 cut_flag)
{
	const struct vigil_file_dir *dir;
	const struct path *base;
	__u64 start = off;
	__u32 len;

	len = file_put_user(rec, off, user, cut_flag);
	*path_len = len;
	off += len;
	if (!resolve || (len > 0 && start <= FILE_PART_MAX && *((char *)rec + start) == '/'))
		return off;
	base = vg_file_base_dir(dirfd);
	dir = vg_file_dir(base);
	if (decide)
		*verdict |= dir ? vg_file_verdict_joined(kind, op, dir, user) : kind->path_default;
	len = file_put_dir(rec, off, dir, base, cut_flag);
	*dir_len = len;
	return off + len;
}

/*
 * The path-based calls other than open: one path (@user2 NULL) or two (rename, link; symlink,
 * whose first string is the target and not a path of ours). The event is wanted when the filter
 * allows writing on one of its paths: a relative one is decided once its directory is known.
 */
static __always_inline int file_paths(const struct vg_kind_config *kind, long ret, __u32 op, __u16 syscall,
				      int dirfd1, const char *user1, bool path1, int dirfd2, const char *user2,
				      const struct file_args *a)
{
	bool pending1 = false, pending2 = false;
	struct vg_path_key *key;
	struct vg_file *rec;
	__u32 verdict = 0;
	__u64 off;
	long len;

	key = vg_path_key_start(op);
	if (!key)
		return 0;
	if (path1) {
		len = vg_path_key_load_user(key, user1);
		if (file_absolute(key, len) || !kind->use_paths)
			verdict |= vg_file_verdict(kind, key, file_absolute(key, len) ? len : -1);
		else
			pending1 = true;
	}
	if (user2) {
		len = vg_path_key_load_user(key, user2);
		if (file_absolute(key, len) || !kind->use_paths)
			verdict |= vg_file_verdict(kind, key, file_absolute(key, len) ? len : -1);
		else
			pending2 = true;
	}
	if (!(verdict & VG_ACCESS_WRITE) && !pending1 && !pending2) {
		vg_filtered_count(op);
		return 0;
	}

	rec = file_record(op, syscall, ret, a);
	if (!rec)
		return 0;
	off = sizeof(*rec);
	off = file_put_path(rec, off, kind, op, dirfd1, user1, path1, pending1 && !(verdict & VG_ACCESS_WRITE),
			    &verdict, &rec->path_len, &rec->dir_len, VG_FILE_PATH_TRUNCATED);
	if (user2)
		off = file_put_path(rec, off, kind, op, dirfd2, user2, true,
				    pending2 && !(verdict & VG_ACCESS_WRITE), &verdict, &rec->path2_len,
				    &rec->dir2_len, VG_FILE_PATH2_TRUNCATED);
	if (!(verdict & VG_ACCESS_WRITE)) {
		vg_filtered_count(op);
		return 0;
	}
	vg_record_send(rec, off);
	return 0;
}

/* The calls on a file descriptor (fchmod, fchown, ftruncate): the fd's file is the path. */
static __always_inline int file_fd(const struct vg_kind_config *kind, long ret, __u32 op, __u16 syscall,
				   const struct file_args *a)
{
	struct vigil_path_buf *buf;
	struct vg_file *rec;
	struct file *file;
	__u64 off;
	bool cut;

	if (!kind->use_paths && !(kind->path_default & VG_ACCESS_WRITE)) {
		vg_filtered_count(op);
		return 0;
	}
	file = vg_file_of_fd(a->fd);
	buf = vg_file_walk(file ? __builtin_preserve_access_index(&file->f_path) : NULL, &cut);
	if (kind->use_paths) {
		__u32 verdict = buf ? vg_file_verdict_walked(kind, op, buf, cut) : kind->path_default;

		if (!(verdict & VG_ACCESS_WRITE)) {
			vg_filtered_count(op);
			return 0;
		}
	}
	rec = file_record(op, syscall, ret, a);
	if (!rec)
		return 0;
	off = sizeof(*rec);
	rec->file_len = file_put_walked(rec, off, buf, cut, VG_FILE_FILE_TRUNCATED);
	vg_record_send(rec, off + rec->file_len);
	return 0;
}

/*
 * Every open. The verdict comes before anything costly: for a successful open from the file it
 * reached (vg_file_open_verdict: its directory's cached verdict, or its directory and name);
 * otherwise from the string for an absolute path, from the kind's default when it has no
 * prefixes, else (a relative path) from the string joined to its directory, which is cached.
 * Only then the record: a successful open reports the file reached, found through the new fd;
 * a failed one the directory of a relative path.
 */
static __always_inline int file_open(const struct vg_kind_config *kind, long ret, __u16 syscall, int dirfd,
				     const char *user, __u32 flags, __u32 mode, bool in_root)
{
	__u32 access = flags & FILE_OPEN_WRITES ? VG_ACCESS_WRITE : VG_ACCESS_READ;
	struct file_args a = { .flags = flags, .mode = mode, .fd = -1 };
	struct vigil_file_dir *dir = NULL, *reached = NULL;
	const struct path *base = NULL;
	struct vg_path_key *key = NULL;
	struct dentry *dentry = NULL;
	struct vigil_path_buf *buf;
	struct file *file = NULL;
	bool absolute = false;
	struct vg_file *rec;
	long n = -1, verdict = -1;
	__u64 off;
	__u32 len;
	bool cut;

	if (ret >= 0) {
		file = vg_file_of_fd(ret);
		if (file) {
			reached = vg_file_parent_dir(file, &dentry);
			verdict = vg_file_open_verdict(kind, reached, dentry);
		}
	}
	if (verdict >= 0) {
		if (!(verdict & access)) {
			vg_filtered_count(VG_OP_FILE_OPEN);
			return 0;
		}
	} else {
		key = vg_path_key_start(VG_OP_FILE_OPEN);
		if (!key)
			return 0;
		n = vg_path_key_load_user(key, user);
		/* With RESOLVE_IN_ROOT an absolute path starts at dirfd. */
		absolute = file_absolute(key, n) && !in_root;
		if (absolute || !kind->use_paths) {
			if (!vg_path_wanted(kind, key, absolute ? n : -1, access))
				return 0;
		} else {
			base = vg_file_base_dir(dirfd);
			dir = vg_file_dir(base);
			if (!((dir ? vg_file_verdict_joined(kind, VG_OP_FILE_OPEN, dir, user) : kind->path_default) &
			      access)) {
				vg_filtered_count(VG_OP_FILE_OPEN);
				return 0;
			}
		}
	}

	rec = file_record(VG_OP_FILE_OPEN, syscall, ret, &a);
	if (!rec)
		return 0;
	off = sizeof(*rec);
	len = key ? file_put_key(rec, off, key, n) : -1;
	if (len == (__u32)-1)
		len = file_put_user(rec, off, user, VG_FILE_PATH_TRUNCATED);
	/* Already below VG_PATH_MAX; masked where older verifiers (6.1) see it, or they lose the bound. */
	barrier_var(len);
	len &= VG_PATH_MAX - 1;
	rec->path_len = len;
	off += len;
	if (file) {
		struct inode *inode = VG_LOAD(struct file, file, f_inode);
		struct super_block *sb = VG_LOAD(struct inode, inode, i_sb);

		rec->ino = VG_LOAD(struct inode, inode, i_ino);
		rec->dev = VG_LOAD(struct super_block, sb, s_dev);
		if (vg_file_dir_whole(reached) && off <= FILE_PART_MAX) {
			len = vg_file_named_copy((char *)rec + vg_bound(off, FILE_PART_MAX), reached, dentry);
		} else {
			buf = vg_file_walk(__builtin_preserve_access_index(&file->f_path), &cut);
			len = file_put_walked(rec, off, buf, cut, VG_FILE_FILE_TRUNCATED);
		}
		rec->file_len = len;
		off += len;
	} else if (ret < 0 && !absolute) {
		if (!base) {
			base = vg_file_base_dir(dirfd);
			dir = vg_file_dir(base);
		}
		len = file_put_dir(rec, off, dir, base, VG_FILE_PATH_TRUNCATED);
		rec->dir_len = len;
		off += len;
	}
	vg_record_send(rec, off);
	return 0;
}

/* Argument @n (0-4) of the current syscall as an int (fds, dirfds) or a user pointer. */
#define ARG_INT(n, regs) ((int)VG_SYSCALL_ARG##n(regs))
#define ARG_PTR(n, regs) ((const char *)VG_SYSCALL_ARG##n(regs))

/* open(2): what static binaries (musl) and older libcs call; glibc calls openat. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_OPEN, vg_file_open)
{
	return file_open(kind, ret, VG_FILE_SYS_OPEN, AT_FDCWD, ARG_PTR(0, regs), VG_SYSCALL_ARG1(regs),
			 VG_SYSCALL_ARG2(regs), false);
}

/* openat(2): glibc's open(), fopen() and openat(). */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_OPEN, vg_file_openat)
{
	return file_open(kind, ret, VG_FILE_SYS_OPENAT, ARG_INT(0, regs), ARG_PTR(1, regs), VG_SYSCALL_ARG2(regs),
			 VG_SYSCALL_ARG3(regs), false);
}

/* openat2(2): the flags, mode and resolve rules are in a struct open_how in user memory. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_OPEN, vg_file_openat2)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)VG_SYSCALL_ARG2(regs));
	return file_open(kind, ret, VG_FILE_SYS_OPENAT2, ARG_INT(0, regs), ARG_PTR(1, regs), how.flags, how.mode,
			 how.resolve & FILE_RESOLVE_IN_ROOT);
}

/* creat(2) is open(O_CREAT | O_WRONLY | O_TRUNC); reported with those flags. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_OPEN, vg_file_creat)
{
	return file_open(kind, ret, VG_FILE_SYS_CREAT, AT_FDCWD, ARG_PTR(0, regs),
			 FILE_O_CREAT | FILE_O_WRONLY | FILE_O_TRUNC, VG_SYSCALL_ARG1(regs), false);
}

/*
 * Removals: unlink(2), unlinkat(2) (with AT_REMOVEDIR for directories) and rmdir(2). At exit the
 * name is gone, so the path is the string the caller passed (made absolute), never a walk. A
 * directory removed ages the directory cache (lib/file-path.h) whatever the filter says.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_UNLINK, vg_file_unlink)
{
	struct file_args a = { .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_UNLINK, VG_FILE_SYS_UNLINK, AT_FDCWD, ARG_PTR(0, regs), true, 0,
			  NULL, &a);
}

VG_SYSCALL_EXIT(vg_file_unlinkat)
{
	struct file_args a = { .flags = VG_SYSCALL_ARG2(regs), .fd = -1 };
	const struct vg_kind_config *kind;

	if (a.flags & FILE_AT_REMOVEDIR)
		vg_file_tree_changed(ret);
	kind = vg_interest(VG_OP_FILE_UNLINK);
	if (!kind)
		return 0;
	return file_paths(kind, ret, VG_OP_FILE_UNLINK, VG_FILE_SYS_UNLINKAT, ARG_INT(0, regs), ARG_PTR(1, regs),
			  true, 0, NULL, &a);
}

VG_SYSCALL_EXIT(vg_file_rmdir)
{
	struct file_args a = { .fd = -1 };
	const struct vg_kind_config *kind;

	vg_file_tree_changed(ret);
	kind = vg_interest(VG_OP_FILE_UNLINK);
	if (!kind)
		return 0;
	return file_paths(kind, ret, VG_OP_FILE_UNLINK, VG_FILE_SYS_RMDIR, AT_FDCWD, ARG_PTR(0, regs), true, 0,
			  NULL, &a);
}

/*
 * Renames: rename(2), renameat(2), renameat2(2) (RENAME_* flags); both names as passed. Each
 * rename ages the directory cache whatever the filter says: it may have moved a directory.
 */
static __always_inline int file_rename(long ret, __u16 syscall, int dirfd1, const char *user1, int dirfd2,
				       const char *user2, __u32 flags)
{
	struct file_args a = { .flags = flags, .fd = -1 };
	const struct vg_kind_config *kind;

	vg_file_tree_changed(ret);
	kind = vg_interest(VG_OP_FILE_RENAME);
	if (!kind)
		return 0;
	return file_paths(kind, ret, VG_OP_FILE_RENAME, syscall, dirfd1, user1, true, dirfd2, user2, &a);
}

VG_SYSCALL_EXIT(vg_file_rename)
{
	return file_rename(ret, VG_FILE_SYS_RENAME, AT_FDCWD, ARG_PTR(0, regs), AT_FDCWD, ARG_PTR(1, regs), 0);
}

VG_SYSCALL_EXIT(vg_file_renameat)
{
	return file_rename(ret, VG_FILE_SYS_RENAMEAT, ARG_INT(0, regs), ARG_PTR(1, regs), ARG_INT(2, regs),
			   ARG_PTR(3, regs), 0);
}

VG_SYSCALL_EXIT(vg_file_renameat2)
{
	return file_rename(ret, VG_FILE_SYS_RENAMEAT2, ARG_INT(0, regs), ARG_PTR(1, regs), ARG_INT(2, regs),
			   ARG_PTR(3, regs), VG_SYSCALL_ARG4(regs));
}

/* Mode changes: chmod(2), fchmodat(2), fchmodat2(2) (with AT_* flags) by path; fchmod(2) by fd. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHMOD, vg_file_chmod)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG1(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_CHMOD, VG_FILE_SYS_CHMOD, AT_FDCWD, ARG_PTR(0, regs), true, 0, NULL,
			  &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHMOD, vg_file_fchmod)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG1(regs), .fd = ARG_INT(0, regs) };

	return file_fd(kind, ret, VG_OP_FILE_CHMOD, VG_FILE_SYS_FCHMOD, &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHMOD, vg_file_fchmodat)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG2(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_CHMOD, VG_FILE_SYS_FCHMODAT, ARG_INT(0, regs), ARG_PTR(1, regs),
			  true, 0, NULL, &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHMOD, vg_file_fchmodat2)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG2(regs), .flags = VG_SYSCALL_ARG3(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_CHMOD, VG_FILE_SYS_FCHMODAT2, ARG_INT(0, regs), ARG_PTR(1, regs),
			  true, 0, NULL, &a);
}

/* Owner changes: chown(2), lchown(2), fchownat(2) by path; fchown(2) by fd. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHOWN, vg_file_chown)
{
	struct file_args a = { .uid = VG_SYSCALL_ARG1(regs), .gid = VG_SYSCALL_ARG2(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_CHOWN, VG_FILE_SYS_CHOWN, AT_FDCWD, ARG_PTR(0, regs), true, 0, NULL,
			  &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHOWN, vg_file_lchown)
{
	struct file_args a = { .uid = VG_SYSCALL_ARG1(regs), .gid = VG_SYSCALL_ARG2(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_CHOWN, VG_FILE_SYS_LCHOWN, AT_FDCWD, ARG_PTR(0, regs), true, 0, NULL,
			  &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHOWN, vg_file_fchown)
{
	struct file_args a = { .uid = VG_SYSCALL_ARG1(regs), .gid = VG_SYSCALL_ARG2(regs), .fd = ARG_INT(0, regs) };

	return file_fd(kind, ret, VG_OP_FILE_CHOWN, VG_FILE_SYS_FCHOWN, &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_CHOWN, vg_file_fchownat)
{
	struct file_args a = {
		.uid = VG_SYSCALL_ARG2(regs),
		.gid = VG_SYSCALL_ARG3(regs),
		.flags = VG_SYSCALL_ARG4(regs),
		.fd = -1,
	};

	return file_paths(kind, ret, VG_OP_FILE_CHOWN, VG_FILE_SYS_FCHOWNAT, ARG_INT(0, regs), ARG_PTR(1, regs),
			  true, 0, NULL, &a);
}

/* Hard links: link(2), linkat(2) (AT_SYMLINK_FOLLOW, AT_EMPTY_PATH); the existing name and the new one. */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_LINK, vg_file_link)
{
	struct file_args a = { .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_LINK, VG_FILE_SYS_LINK, AT_FDCWD, ARG_PTR(0, regs), true, AT_FDCWD,
			  ARG_PTR(1, regs), &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_LINK, vg_file_linkat)
{
	struct file_args a = { .flags = VG_SYSCALL_ARG4(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_LINK, VG_FILE_SYS_LINKAT, ARG_INT(0, regs), ARG_PTR(1, regs), true,
			  ARG_INT(2, regs), ARG_PTR(3, regs), &a);
}

/*
 * Symbolic links: symlink(2), symlinkat(2). The target is a string stored in the link, never
 * resolved (it may name nothing); the filter decides on the link's own path.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_SYMLINK, vg_file_symlink)
{
	struct file_args a = { .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_SYMLINK, VG_FILE_SYS_SYMLINK, AT_FDCWD, ARG_PTR(0, regs), false,
			  AT_FDCWD, ARG_PTR(1, regs), &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_SYMLINK, vg_file_symlinkat)
{
	struct file_args a = { .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_SYMLINK, VG_FILE_SYS_SYMLINKAT, AT_FDCWD, ARG_PTR(0, regs), false,
			  ARG_INT(1, regs), ARG_PTR(2, regs), &a);
}

/* Directories: mkdir(2), mkdirat(2), with the mode as passed (before the umask). */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_MKDIR, vg_file_mkdir)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG1(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_MKDIR, VG_FILE_SYS_MKDIR, AT_FDCWD, ARG_PTR(0, regs), true, 0, NULL,
			  &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_MKDIR, vg_file_mkdirat)
{
	struct file_args a = { .mode = VG_SYSCALL_ARG2(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_MKDIR, VG_FILE_SYS_MKDIRAT, ARG_INT(0, regs), ARG_PTR(1, regs), true,
			  0, NULL, &a);
}

/* Truncation: truncate(2) by path, ftruncate(2) by fd (open(O_TRUNC) is an open with truncate set). */
VG_SYSCALL_EXIT_OF(VG_OP_FILE_TRUNCATE, vg_file_truncate)
{
	struct file_args a = { .length = VG_SYSCALL_ARG1(regs), .fd = -1 };

	return file_paths(kind, ret, VG_OP_FILE_TRUNCATE, VG_FILE_SYS_TRUNCATE, AT_FDCWD, ARG_PTR(0, regs), true, 0,
			  NULL, &a);
}

VG_SYSCALL_EXIT_OF(VG_OP_FILE_TRUNCATE, vg_file_ftruncate)
{
	struct file_args a = { .length = VG_SYSCALL_ARG1(regs), .fd = ARG_INT(0, regs) };

	return file_fd(kind, ret, VG_OP_FILE_TRUNCATE, VG_FILE_SYS_FTRUNCATE, &a);
}
