// SPDX-License-Identifier: GPL-2.0-only
/*
 * Changes to the kernel and to what a process sees of the system: module loads, bpf() program
 * loads and attachments, namespace changes, mounts. All are syscalls taken at their exit
 * (lib/syscall.h), so the result is known and a failed attempt is reported with its errno.
 * They are rare on a host, so a record costs little; what matters is that the handlers of busy
 * syscalls (bpf, clone) drop the calls that are not events before any work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/fd.h"
#include "lib/filter.h"
#include "lib/path.h"
#include "lib/syscall.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

/* uapi constants that are #defines, so vmlinux.h lacks them. */
#define KERNEL_AT_FDCWD -100
#define KERNEL_MS_BIND 4096
#define KERNEL_MS_MOVE 8192
#define KERNEL_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define KERNEL_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define KERNEL_NSFS_MAGIC 0x6e736673
#define KERNEL_PIDFS_MAGIC 0x50494446

#define KERNEL_NS_FLAGS                                                                          \
	(VG_NS_TIME | VG_NS_MNT | VG_NS_CGROUP | VG_NS_UTS | VG_NS_IPC | VG_NS_USER | VG_NS_PID | \
	 VG_NS_NET)

/* Older kernels keep a namespace's type only in its operations. */
struct proc_ns_operations___old {
	int type;
} __attribute__((preserve_access_index));

struct ns_common___old {
	const struct proc_ns_operations___old *ops;
} __attribute__((preserve_access_index));

static __always_inline void kernel_record_head(struct vg_header *hdr, struct vg_task *task, __u16 op)
{
	hdr->op = op;
	hdr->flags = 0;
	hdr->ktime = bpf_ktime_get_ns();
	vg_task_fill(task, bpf_get_current_task_btf());
}

/*
 * Whether @file is an anonymous-inode file made for @name ("bpf-prog", "[fscontext]"): those are
 * how the kernel hands out BPF programs and mount contexts, and their dentry has that name
 * (the name /proc/PID/fd shows after "anon_inode:").
 * The file operations would be a stronger test, but their addresses are not in kallsyms
 * everywhere.
 */
static __always_inline bool kernel_anon_file_is(struct file *file, const char *name, __u32 size)
{
	char got[16] = {};
	const unsigned char *dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	if (!file || size > sizeof(got) || bpf_probe_read_kernel_str(got, size, dname) != size)
		return false;
	for (__u32 i = 0; i < size && i < sizeof(got); i++) {
		if (got[i] != name[i])
			return false;
	}
	return true;
}

/* Copies the user string @src into @dst (room for @max bytes); its length without the NUL, 0 when unreadable. */
static __always_inline __u32 kernel_user_str(char *dst, __u32 max, const char *src, bool *cut)
{
	char next = 0;
	long n;

	*cut = false;
	if (!src || max < 2)
		return 0;
	n = bpf_probe_read_user_str(dst, max, src);
	if (n <= 0)
		return 0;
	if (n >= max) {
		/* Full: cut unless the string ended exactly there. */
		bpf_probe_read_user(&next, 1, src + max - 1);
		*cut = next != 0;
		n = max;
	}
	return n - 1;
}

/* The same for a string in kernel memory. */
static __always_inline __u32 kernel_kernel_str(char *dst, __u32 max, const char *src, bool *cut)
{
	char next = 0;
	long n;

	*cut = false;
	if (!src || max < 2)
		return 0;
	n = bpf_probe_read_kernel_str(dst, max, src);
	if (n <= 0)
		return 0;
	if (n >= max) {
		bpf_probe_read_kernel(&next, 1, src + max - 1);
		*cut = next != 0;
		n = max;
	}
	return n - 1;
}

/*
 * Writes the path a syscall was given, made absolute: a relative @upath is joined to @base
 * (the cwd or a directory descriptor's path) with a '/', without resolving links or "..": the
 * kernel's own lookup is not visible from a tracepoint. An empty @upath stands for @base itself
 * when @empty_is_base (the *_EMPTY_PATH flags). @dst needs VG_PATH_MAX bytes of room; the
 * result is at most VG_PATH_MAX - 1 bytes.
 */
static __always_inline __u32 kernel_user_path(char *dst, const char *upath, const struct path *base,
					      bool empty_is_base, bool *cut)
{
	__u32 len, base_len, rest;
	bool base_cut, rest_cut;

	len = kernel_user_str(dst, VG_PATH_MAX, upath, cut);
	if (len > 0 && dst[0] == '/')
		return len;
	if (!base || (len == 0 && !empty_is_base))
		return len;
	base_len = vg_path_copy(dst, base, &base_cut);
	*cut = base_cut;
	if (len == 0)
		return base_len;
	/* No base to join to: the relative path as given, which cannot pass for an absolute one. */
	if (base_len == 0)
		return kernel_user_str(dst, VG_PATH_MAX, upath, cut);
	/* Under the root, "/" + "x" and not "//x". */
	if (base_len == 1 && dst[0] == '/')
		base_len = 0;
	if (base_len > VG_PATH_MAX - 3) {
		*cut = true;
		return base_len;
	}
	dst[base_len] = '/';
	rest = kernel_user_str(dst + base_len + 1, VG_PATH_MAX - 1 - base_len, upath, &rest_cut);
	if (rest_cut)
		*cut = true;
	return base_len + 1 + rest;
}

/* The current task's working directory. */
static __always_inline const struct path *kernel_cwd(void)
{
	struct fs_struct *fs = BPF_CORE_READ(bpf_get_current_task_btf(), fs);

	return __builtin_preserve_access_index(&fs->pwd);
}

/* Where a *at() syscall's relative path starts: the cwd for AT_FDCWD, else the descriptor's path. */
static __always_inline const struct path *kernel_at_base(long dfd)
{
	struct file *file;

	if ((int)dfd == KERNEL_AT_FDCWD)
		return kernel_cwd();
	file = vg_file_of_fd((int)dfd);
	if (!file)
		return NULL;
	return __builtin_preserve_access_index(&file->f_path);
}

/* ---- kernel.module_load ---- */

static __always_inline __u32 module_params(struct vg_module_load *rec, __u32 off, const char *params)
{
	bool cut;
	__u32 len;

	/* off <= sizeof(*rec) + VG_PATH_MAX: restated for the verifier. */
	if (off > sizeof(*rec) + VG_PATH_MAX)
		return off;
	len = kernel_user_str((char *)rec + off, VG_MODULE_PARAMS_MAX, params, &cut);
	rec->params_len = len;
	if (cut)
		rec->rec_flags |= VG_KERNEL_PARAMS_TRUNCATED;
	return off + len;
}

static __always_inline struct vg_module_load *module_record(long ret, __u32 call)
{
	struct vg_module_load *rec = vg_record_start();

	if (!rec)
		return NULL;
	kernel_record_head(&rec->hdr, &rec->task, VG_OP_KERNEL_MODULE_LOAD);
	rec->result = ret;
	rec->image_len = 0;
	rec->call = call;
	rec->fd = -1;
	rec->load_flags = 0;
	rec->rec_flags = 0;
	rec->path_len = 0;
	rec->params_len = 0;
	rec->pad = 0;
	return rec;
}

/*
 * init_module loads a module from an image in the caller's memory: there is no file to name,
 * only the image's size and the parameters. The syscall is the only place a failed load is
 * seen (the module tracepoints fire only for loads that succeed). On kernels built without
 * module support the syscall does not exist (it fails with ENOSYS) and the agent leaves the
 * handler out.
 */
VG_SYSCALL_EXIT_OF(VG_OP_KERNEL_MODULE_LOAD, vg_module_init)
{
	struct vg_module_load *rec;
	__u32 off;

	rec = module_record(ret, VG_MODULE_INIT);
	if (!rec)
		return 0;
	rec->image_len = VG_SYSCALL_ARG1(regs);
	off = module_params(rec, sizeof(*rec), (const char *)VG_SYSCALL_ARG2(regs));
	vg_record_send(rec, off);
	return 0;
}

/*
 * finit_module loads a module from a file descriptor (what modprobe uses); the descriptor is
 * still open at the syscall's exit, so the file's path is resolved from it.
 */
VG_SYSCALL_EXIT_OF(VG_OP_KERNEL_MODULE_LOAD, vg_module_finit)
{
	struct vg_module_load *rec;
	struct file *file;
	bool cut = false;
	__u32 off;

	rec = module_record(ret, VG_MODULE_FINIT);
	if (!rec)
		return 0;
	rec->fd = VG_SYSCALL_ARG0(regs);
	rec->load_flags = VG_SYSCALL_ARG2(regs);
	off = sizeof(*rec);
	file = vg_file_of_fd(rec->fd);
	if (file) {
		rec->path_len = vg_path_copy((char *)rec + off, __builtin_preserve_access_index(&file->f_path), &cut);
		off += rec->path_len;
		if (cut)
			rec->rec_flags |= VG_KERNEL_PATH_TRUNCATED;
	}
	off = module_params(rec, off, (const char *)VG_SYSCALL_ARG1(regs));
	vg_record_send(rec, off);
	return 0;
}

/* ---- kernel.bpf ---- */

/* The id of the BPF program behind descriptor @fd, and its tag when @tag; 0 when it is none. */
static __always_inline __u32 bpf_prog_of_fd(long fd, __u8 *tag)
{
	static const char prog_name[] = "bpf-prog";
	struct file *file = vg_file_of_fd(fd);
	struct bpf_prog *prog;

	if (!kernel_anon_file_is(file, prog_name, sizeof(prog_name)))
		return 0;
	prog = BPF_CORE_READ(file, private_data);
	if (tag)
		bpf_probe_read_kernel(tag, 8, __builtin_preserve_access_index(&prog->tag));
	return BPF_CORE_READ(prog, aux, id);
}

/*
 * bpf() at its exit: program loads (and BTF loads and attachments) are how code gets into the
 * kernel. Every other command, the map traffic of every BPF user on the host, is dropped on
 * the command number alone, before the filter maps are looked up: those calls are not events
 * of this kind, and counting them as filtered would bury the count that matters.
 */
VG_SYSCALL_EXIT(vg_bpf)
{
	__u32 cmd = VG_SYSCALL_ARG0(regs);
	union bpf_attr attr;
	struct vg_bpf *rec;
	__u64 size;

	if (cmd != VG_BPF_PROG_LOAD && cmd != VG_BPF_PROG_ATTACH && cmd != VG_BPF_RAW_TRACEPOINT_OPEN &&
	    cmd != VG_BPF_BTF_LOAD && cmd != VG_BPF_LINK_CREATE)
		return 0;
	if (!vg_interest(VG_OP_KERNEL_BPF))
		return 0;
	rec = vg_record_start();
	if (!rec)
		return 0;
	kernel_record_head(&rec->hdr, &rec->task, VG_OP_KERNEL_BPF);
	rec->result = ret;
	rec->cmd = cmd;
	rec->prog_type = 0;
	rec->attach_type = 0;
	rec->insn_cnt = 0;
	rec->prog_flags = 0;
	rec->prog_id = 0;
	rec->target_fd = 0;
	rec->btf_size = 0;
	__builtin_memset(rec->prog_tag, 0, sizeof(rec->prog_tag));
	__builtin_memset(rec->name, 0, sizeof(rec->name));

	/* The kernel reads only the @size bytes the caller passed and takes the rest as zero; so do we. */
	__builtin_memset(&attr, 0, sizeof(attr));
	size = (__u32)VG_SYSCALL_ARG2(regs);
	if (size > sizeof(attr))
		size = sizeof(attr);
	bpf_probe_read_user(&attr, size, (void *)VG_SYSCALL_ARG1(regs));

	switch (cmd) {
	case VG_BPF_PROG_LOAD:
		rec->prog_type = attr.prog_type;
		rec->attach_type = attr.expected_attach_type;
		rec->insn_cnt = attr.insn_cnt;
		rec->prog_flags = attr.prog_flags;
		__builtin_memcpy(rec->name, attr.prog_name, sizeof(attr.prog_name));
		rec->name[sizeof(attr.prog_name) - 1] = '\0';
		if (ret >= 0)
			rec->prog_id = bpf_prog_of_fd(ret, rec->prog_tag);
		break;
	case VG_BPF_PROG_ATTACH:
		rec->target_fd = attr.target_fd;
		rec->attach_type = attr.attach_type;
		rec->prog_id = bpf_prog_of_fd(attr.attach_bpf_fd, NULL);
		break;
	case VG_BPF_RAW_TRACEPOINT_OPEN:
		if (attr.raw_tracepoint.name)
			bpf_probe_read_user_str(rec->name, sizeof(rec->name), (void *)attr.raw_tracepoint.name);
		rec->prog_id = bpf_prog_of_fd(attr.raw_tracepoint.prog_fd, NULL);
		break;
	case VG_BPF_BTF_LOAD:
		rec->btf_size = attr.btf_size;
		break;
	case VG_BPF_LINK_CREATE:
		rec->target_fd = attr.link_create.target_fd;
		rec->attach_type = attr.link_create.attach_type;
		rec->prog_id = bpf_prog_of_fd(attr.link_create.prog_fd, NULL);
		break;
	}
	vg_record_send(rec, sizeof(*rec));
	return 0;
}

/* ---- ns.change ---- */

static __always_inline struct vg_ns_change *ns_record(long ret, __u32 call, __u64 flags)
{
	struct vg_ns_change *rec = vg_record_start();

	if (!rec)
		return NULL;
	kernel_record_head(&rec->hdr, &rec->task, VG_OP_NS_CHANGE);
	rec->result = ret;
	rec->flags = flags;
	rec->call = call;
	rec->fd = -1;
	rec->fd_kind = VG_NS_FD_NONE;
	rec->fd_ns_type = 0;
	rec->fd_ns_inum = 0;
	rec->pad = 0;
	return rec;
}

/* unshare, clone and clone3 share this: an event only when a new namespace was asked for. */
static __always_inline void ns_new(long ret, __u32 call, __u64 flags)
{
	struct vg_ns_change *rec;

	if (!vg_interest(VG_OP_NS_CHANGE))
		return;
	rec = ns_record(ret, call, flags);
	if (rec)
		vg_record_send(rec, sizeof(*rec));
}

/*
 * unshare moves the caller itself into new namespaces: the usual first step of a container
 * escape or of hiding from the host's view. Calls without a CLONE_NEW* flag (CLONE_FS,
 * CLONE_FILES) change no namespace and are not events.
 */
VG_SYSCALL_EXIT(vg_ns_unshare)
{
	__u64 flags = VG_SYSCALL_ARG0(regs);

	if (flags & KERNEL_NS_FLAGS)
		ns_new(ret, VG_NS_UNSHARE, flags);
	return 0;
}

/*
 * clone is every fork and thread start on the host, so the flags are checked before anything
 * else: only a clone into new namespaces is an event. The child returns from clone too (result
 * 0); only the parent's exit, which has the child's pid or the error, is sent.
 * clone's low byte is the exit signal, not flags, so CLONE_NEWTIME (0x80) cannot be asked
 * for there.
 */
VG_SYSCALL_EXIT(vg_ns_clone)
{
	__u64 flags;

	/* The child's half of every fork ends here at no more cost than this test. */
	if (ret == 0)
		return 0;
	flags = VG_SYSCALL_ARG0(regs);
	if (flags & KERNEL_NS_FLAGS & ~(__u64)VG_NS_TIME)
		ns_new(ret, VG_NS_CLONE, flags);
	return 0;
}

/* clone3 takes its flags in a struct in the caller's memory, read only when it is big enough. */
VG_SYSCALL_EXIT(vg_ns_clone3)
{
	struct clone_args *uargs = (struct clone_args *)VG_SYSCALL_ARG0(regs);
	__u64 flags = 0;

	if (ret == 0 || VG_SYSCALL_ARG1(regs) < sizeof(flags))
		return 0;
	if (bpf_probe_read_user(&flags, sizeof(flags), &uargs->flags))
		return 0;
	if (flags & KERNEL_NS_FLAGS)
		ns_new(ret, VG_NS_CLONE3, flags);
	return 0;
}

/*
 * setns joins existing namespaces, such as those of a container's or the host's processes,
 * through a namespace file or a pidfd. The descriptor is still open at exit, so what it
 * refers to is read from it: nstype 0 ("any") says nothing by itself.
 */
VG_SYSCALL_EXIT_OF(VG_OP_NS_CHANGE, vg_ns_setns)
{
	static const char pidfd_name[] = "[pidfd]";
	struct vg_ns_change *rec;
	struct inode *inode;
	struct file *file;
	__u64 magic;

	rec = ns_record(ret, VG_NS_SETNS, (__u32)VG_SYSCALL_ARG1(regs));
	if (!rec)
		return 0;
	rec->fd = VG_SYSCALL_ARG0(regs);
	file = vg_file_of_fd(rec->fd);
	if (file) {
		inode = BPF_CORE_READ(file, f_inode);
		magic = BPF_CORE_READ(inode, i_sb, s_magic);
		if (magic == KERNEL_NSFS_MAGIC) {
			struct ns_common *ns = BPF_CORE_READ(inode, i_private);

			rec->fd_kind = VG_NS_FD_NAMESPACE;
			rec->fd_ns_inum = BPF_CORE_READ(inode, i_ino);
			if (bpf_core_field_exists(ns->ns_type)) {
				rec->fd_ns_type = BPF_CORE_READ(ns, ns_type);
			} else {
				struct ns_common___old *old = (void *)ns;

				rec->fd_ns_type = BPF_CORE_READ(old, ops, type);
			}
		} else if (magic == KERNEL_PIDFS_MAGIC || kernel_anon_file_is(file, pidfd_name, sizeof(pidfd_name))) {
			/* pidfs since 6.9; an anonymous inode before. */
			rec->fd_kind = VG_NS_FD_PIDFD;
		} else {
			rec->fd_kind = VG_NS_FD_OTHER;
		}
	}
	vg_record_send(rec, sizeof(*rec));
	return 0;
}

/* ---- fs.mount ---- */

static __always_inline struct vg_mount *mount_record(long ret, __u32 call, __u64 flags)
{
	struct vg_mount *rec = vg_record_start();

	if (!rec)
		return NULL;
	kernel_record_head(&rec->hdr, &rec->task, VG_OP_FS_MOUNT);
	rec->result = ret;
	rec->flags = flags;
	rec->call = call;
	rec->attr_flags = 0;
	rec->rec_flags = 0;
	rec->fd = -1;
	rec->target_len = 0;
	rec->source_len = 0;
	rec->fstype_len = 0;
	rec->data_len = 0;
	return rec;
}

/*
 * Writes the target path (see kernel_user_path) right after the fixed part and says whether
 * the path filter wants it: a mount changes what is under the path, so it counts as a write.
 */
static __always_inline bool mount_target(const struct vg_kind_config *kind, struct vg_mount *rec,
					 const char *upath, const struct path *base, bool empty_is_base)
{
	char *target = (char *)rec + sizeof(*rec);
	struct vg_path_key *key;
	bool cut;
	long len;

	rec->target_len = kernel_user_path(target, upath, base, empty_is_base, &cut);
	if (cut)
		rec->rec_flags |= VG_KERNEL_PATH_TRUNCATED;
	key = vg_path_key_start(VG_OP_FS_MOUNT);
	if (!key)
		return true;
	len = rec->target_len;
	if (vg_paths_needed(kind))
		len = vg_path_key_load_kernel(key, target, rec->target_len);
	return vg_path_wanted(kind, key, len, VG_ACCESS_WRITE);
}

/* Appends a user string of at most @max bytes (NUL included) at @off; returns its length. */
static __always_inline __u32 mount_user_str(struct vg_mount *rec, __u32 off, const char *src, __u32 max)
{
	bool cut;
	__u32 len;

	/* Every part before the last two is a path: off < sizeof(*rec) + 2 * VG_PATH_MAX + VG_MOUNT_FSTYPE_MAX. */
	if (off > sizeof(*rec) + 2 * VG_PATH_MAX + VG_MOUNT_FSTYPE_MAX)
		return 0;
	len = kernel_user_str((char *)rec + off, max, src, &cut);
	if (cut)
		rec->rec_flags |= VG_KERNEL_PARAMS_TRUNCATED;
	return len;
}

/* Appends a kernel string of at most @max bytes (NUL included) at @off; returns its length. */
static __always_inline __u32 mount_kernel_str(struct vg_mount *rec, __u32 off, const char *src, __u32 max,
					      __u32 cut_flag)
{
	bool cut;
	__u32 len;

	if (off > sizeof(*rec) + 2 * VG_PATH_MAX + VG_MOUNT_FSTYPE_MAX)
		return 0;
	len = kernel_kernel_str((char *)rec + off, max, src, &cut);
	if (cut)
		rec->rec_flags |= cut_flag;
	return len;
}

/*
 * mount(2) at its exit: new filesystems, bind mounts, remounts (a read-only mount made
 * writable), moves and propagation changes all go through it. The source is a path only for
 * bind mounts and moves; otherwise it is a device or a name ("tmpfs") and is kept as given.
 * data is usually a string of options; only its first bytes are kept.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FS_MOUNT, vg_mount)
{
	const char *source;
	struct vg_mount *rec;
	__u32 off;
	bool cut;

	rec = mount_record(ret, VG_MOUNT_MOUNT, VG_SYSCALL_ARG3(regs));
	if (!rec)
		return 0;
	if (!mount_target(kind, rec, (const char *)VG_SYSCALL_ARG1(regs), kernel_cwd(), false))
		return 0;
	off = sizeof(*rec) + (rec->target_len & (VG_PATH_MAX - 1));

	source = (const char *)VG_SYSCALL_ARG0(regs);
	if (rec->flags & (KERNEL_MS_BIND | KERNEL_MS_MOVE))
		rec->source_len = kernel_user_path((char *)rec + off, source, kernel_cwd(), false, &cut);
	else
		rec->source_len = kernel_user_str((char *)rec + off, VG_PATH_MAX, source, &cut);
	if (cut)
		rec->rec_flags |= VG_KERNEL_SOURCE_TRUNCATED;
	off += rec->source_len & (VG_PATH_MAX - 1);

	rec->fstype_len = mount_user_str(rec, off, (const char *)VG_SYSCALL_ARG2(regs), VG_MOUNT_FSTYPE_MAX);
	off += rec->fstype_len & (VG_MOUNT_FSTYPE_MAX - 1);
	rec->data_len = mount_user_str(rec, off, (const char *)VG_SYSCALL_ARG4(regs), VG_MOUNT_DATA_MAX);
	off += rec->data_len & (VG_MOUNT_DATA_MAX - 1);
	vg_record_send(rec, off);
	return 0;
}

/*
 * umount2 (the kernel's "umount": the old one-argument umount is gone on 64-bit) uncovers
 * what a mount hid, or detaches a filesystem a process relies on.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FS_MOUNT, vg_umount)
{
	struct vg_mount *rec;

	rec = mount_record(ret, VG_MOUNT_UMOUNT, VG_SYSCALL_ARG1(regs));
	if (!rec)
		return 0;
	if (!mount_target(kind, rec, (const char *)VG_SYSCALL_ARG0(regs), kernel_cwd(), false))
		return 0;
	vg_record_send(rec, sizeof(*rec) + (rec->target_len & (VG_PATH_MAX - 1)));
	return 0;
}

/* Appends the device name and filesystem type of the mount that descriptor @fd holds; returns the new offset. */
static __always_inline __u32 mount_of_fd(struct vg_mount *rec, __u32 off, long fd)
{
	struct file *file = vg_file_of_fd(fd);
	struct vfsmount *mnt;

	if (!file)
		return off;
	mnt = BPF_CORE_READ(file, f_path.mnt);
	rec->source_len = mount_kernel_str(rec, off, BPF_CORE_READ(path_real_mount(mnt), mnt_devname), VG_PATH_MAX,
					   VG_KERNEL_SOURCE_TRUNCATED);
	off += rec->source_len & (VG_PATH_MAX - 1);
	rec->fstype_len = mount_kernel_str(rec, off, BPF_CORE_READ(mnt, mnt_sb, s_type, name), VG_MOUNT_FSTYPE_MAX,
					   VG_KERNEL_SOURCE_TRUNCATED);
	return off + (rec->fstype_len & (VG_MOUNT_FSTYPE_MAX - 1));
}

/*
 * fsmount turns a filesystem context (fsopen + fsconfig) into a detached mount: the mount
 * API's counterpart of mount(2)'s source and type. The new mount has taken the source from
 * the context, so they are read from the mount's descriptor, or from the context when
 * fsmount failed. The mount is not in the tree yet (move_mount puts it there), so it has no
 * target and the path filter does not apply.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FS_MOUNT, vg_fsmount)
{
	static const char context_name[] = "[fscontext]";
	struct fs_context *fc;
	struct vg_mount *rec;
	struct file *file;
	__u32 off = sizeof(*rec);

	rec = mount_record(ret, VG_MOUNT_FSMOUNT, (__u32)VG_SYSCALL_ARG1(regs));
	if (!rec)
		return 0;
	rec->fd = VG_SYSCALL_ARG0(regs);
	rec->attr_flags = VG_SYSCALL_ARG2(regs);
	if (ret >= 0) {
		off = mount_of_fd(rec, off, ret);
	} else {
		file = vg_file_of_fd(rec->fd);
		if (kernel_anon_file_is(file, context_name, sizeof(context_name))) {
			fc = BPF_CORE_READ(file, private_data);
			rec->source_len = mount_kernel_str(rec, off, BPF_CORE_READ(fc, source), VG_PATH_MAX,
							   VG_KERNEL_SOURCE_TRUNCATED);
			off += rec->source_len & (VG_PATH_MAX - 1);
			rec->fstype_len = mount_kernel_str(rec, off, BPF_CORE_READ(fc, fs_type, name),
							   VG_MOUNT_FSTYPE_MAX, VG_KERNEL_SOURCE_TRUNCATED);
			off += rec->fstype_len & (VG_MOUNT_FSTYPE_MAX - 1);
		}
	}
	vg_record_send(rec, off);
	return 0;
}

/*
 * move_mount attaches a detached mount (from fsmount or open_tree) to the tree, or moves one:
 * with the new mount API it is the step that changes what a path shows. A mount given by
 * descriptor is described by its device name and filesystem type; one given by path keeps
 * the path.
 */
VG_SYSCALL_EXIT_OF(VG_OP_FS_MOUNT, vg_move_mount)
{
	const char *from_path;
	struct vg_mount *rec;
	char first = 0;
	__u32 off;
	bool cut;

	rec = mount_record(ret, VG_MOUNT_MOVE_MOUNT, (__u32)VG_SYSCALL_ARG4(regs));
	if (!rec)
		return 0;
	rec->fd = VG_SYSCALL_ARG0(regs);
	if (!mount_target(kind, rec, (const char *)VG_SYSCALL_ARG3(regs), kernel_at_base(VG_SYSCALL_ARG2(regs)),
			  rec->flags & KERNEL_MOVE_MOUNT_T_EMPTY_PATH))
		return 0;
	off = sizeof(*rec) + (rec->target_len & (VG_PATH_MAX - 1));

	from_path = (const char *)VG_SYSCALL_ARG1(regs);
	if (from_path)
		bpf_probe_read_user(&first, 1, from_path);
	if (first == '\0' && (rec->flags & KERNEL_MOVE_MOUNT_F_EMPTY_PATH)) {
		off = mount_of_fd(rec, off, rec->fd);
	} else {
		rec->source_len = kernel_user_path((char *)rec + off, from_path, kernel_at_base(rec->fd), false, &cut);
		if (cut)
			rec->rec_flags |= VG_KERNEL_SOURCE_TRUNCATED;
		off += rec->source_len & (VG_PATH_MAX - 1);
	}
	vg_record_send(rec, off);
	return 0;
}
