/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the files: open, unlink, rename, chmod, chown, link, symlink, mkdir, truncate. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_FILE_H
#define VIGIL_RECORDS_FILE_H

/* The system call a file record comes from; the agent reports it by name. Never reused. */
enum vg_file_syscall {
	VG_FILE_SYS_OPEN = 1,
	VG_FILE_SYS_OPENAT = 2,
	VG_FILE_SYS_OPENAT2 = 3,
	VG_FILE_SYS_CREAT = 4,
	VG_FILE_SYS_UNLINK = 10,
	VG_FILE_SYS_UNLINKAT = 11,
	VG_FILE_SYS_RMDIR = 12,
	VG_FILE_SYS_RENAME = 20,
	VG_FILE_SYS_RENAMEAT = 21,
	VG_FILE_SYS_RENAMEAT2 = 22,
	VG_FILE_SYS_CHMOD = 30,
	VG_FILE_SYS_FCHMOD = 31,
	VG_FILE_SYS_FCHMODAT = 32,
	VG_FILE_SYS_FCHMODAT2 = 33,
	VG_FILE_SYS_CHOWN = 40,
	VG_FILE_SYS_FCHOWN = 41,
	VG_FILE_SYS_LCHOWN = 42,
	VG_FILE_SYS_FCHOWNAT = 43,
	VG_FILE_SYS_LINK = 50,
	VG_FILE_SYS_LINKAT = 51,
	VG_FILE_SYS_SYMLINK = 60,
	VG_FILE_SYS_SYMLINKAT = 61,
	VG_FILE_SYS_MKDIR = 70,
	VG_FILE_SYS_MKDIRAT = 71,
	VG_FILE_SYS_TRUNCATE = 80,
	VG_FILE_SYS_FTRUNCATE = 81,
};

/*
 * A cut part: a string argument that filled VG_PATH_MAX - 1 bytes (the kernel refuses longer
 * paths with ENAMETOOLONG), or a resolved path cut as vg_exec_flags describes (last components
 * kept, no leading '/'). A part that would not fit the record any more is left empty and cut.
 */
enum vg_file_flags {
	VG_FILE_PATH_TRUNCATED = 1 << 0,    /* path or dir */
	VG_FILE_PATH2_TRUNCATED = 1 << 1,   /* path2 or dir2 */
	VG_FILE_FILE_TRUNCATED = 1 << 2,    /* file */
};

/*
 * One layout for every file op (hdr.op says which): each op fills the fields it has and leaves
 * the others 0. Followed, in this order and without NULs, by:
 *   path_len bytes: the first path argument as the caller passed it (symlink: the link's target)
 *   dir_len bytes:  the directory a relative path is resolved in (the cwd or the dirfd's file);
 *                   0 when path is absolute or the dirfd names no open file
 *   path2_len, dir2_len: the same for the second path (rename, link: the new name; symlink: the
 *                   link's own path)
 *   file_len bytes: the resolved path of the file acted on, as the kernel reaches it: the file
 *                   an open returned (symlinks followed), or the fd of fchmod, fchown, ftruncate
 * A path argument is read from the caller's memory when the syscall returns; another thread of
 * the caller could have changed it meanwhile.
 */
struct vg_file {
	struct vg_header hdr;
	struct vg_task task;
	__s64 result;         /* the syscall's return: an fd or 0, or -errno */
	__s64 length;         /* truncate, ftruncate: the length asked for */
	__u64 ino;            /* open: the opened file's inode; 0 when it failed */
	__u32 dev;            /* its s_dev, kernel encoding as vg_exec.exe_dev */
	__u32 flags;          /* the flags argument: open's O_*, AT_* (unlinkat, linkat, fchownat,
				 fchmodat2), RENAME_* (renameat2); creat's are open's equivalent */
	__u32 mode;           /* open (as passed, whether or not it creates), chmod, mkdir */
	__u32 uid;            /* chown: (u32)-1 keeps the owner */
	__u32 gid;
	__s32 fd;             /* the fd argument of fchmod, fchown, ftruncate; -1 for the others */
	__u16 syscall;        /* enum vg_file_syscall */
	__u16 file_flags;     /* enum vg_file_flags */
	__u16 path_len;
	__u16 dir_len;
	__u16 path2_len;
	__u16 dir2_len;
	__u16 file_len;
	__u16 pad;
};

#ifdef __bpf__
/* See vg_btf_anchor in vigil.h. */
const struct {
	struct vg_file file;
	enum vg_file_syscall syscall;
	enum vg_file_flags flags;
} vg_btf_anchor_file __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_FILE_H */
