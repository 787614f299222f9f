// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enforcement: the programs that stop an operation a deny rule forbids, or kill the process a
 * kill rule names, before the operation takes effect. Each gathers what it sees and decides
 * through lib/enforce.h; each stop is sent to the agent as a vg_enforce_denial record, from
 * which it raises the alert. Not attached by the agent's event source: the enforcement stage
 * attaches the ones this kernel can run (src/sensor/enforce).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/enforce.h"
#include "lib/net-sock.h"
#include "lib/path.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

#define SIGKILL 9
#define EPERM 1
#define VG_IPPROTO_TCP 6

/* What a denial record says besides the subject: how and where it was stopped. */
struct denial {
	__u32 seq;
	__u32 hook;
	__u32 action;            /* enum vg_enforce_action */
	__u32 slot;              /* the rule's slot, or an enum vg_protect_op */
	__u16 family;
	__u16 protocol;
	__u32 target;
	__u32 arg;
	__u32 mode;
};

static __always_inline void denial_send(struct task_struct *task, const struct denial *d, struct vg_enforce_subject *s)
{
	struct vg_enforce_denial *rec = vg_record_start();
	struct file *exe = s->exe;
	struct inode *inode = NULL;
	bool truncated;
	__u32 len = 0, new_len = 0;

	if (!rec)
		return;
	rec->hdr.op = VG_OP_ENFORCE_DENIAL;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, task);
	rec->seq = d->seq;
	rec->hook = d->hook;
	rec->action = d->action;
	rec->slot = d->slot;
	rec->dev = 0;
	rec->ino = 0;
	__builtin_memcpy(rec->addr, s->addr, 16);
	rec->family = d->family;
	rec->port = s->port;
	rec->protocol = d->protocol;
	rec->pad = 0;
	rec->target = d->target;
	rec->arg = d->arg;
	rec->mode = d->mode;
	if (d->hook == VG_HOOK_EXEC && exe) {
		inode = BPF_CORE_READ(exe, f_inode);
		len = vg_path_copy(rec + 1, __builtin_preserve_access_index(&exe->f_path), &truncated);
	} else if (s->file) {
		struct dentry *file = s->file;

		inode = s->file_real ? s->file_real : BPF_CORE_READ(file, d_inode);
		len = vg_path_copy_at(rec + 1, s->file, s->file_mnt, &truncated);
	}
	if (inode) {
		rec->ino = BPF_CORE_READ(inode, i_ino);
		rec->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	}
	len &= VG_PATH_MAX - 1;
	rec->path_len = len;
	if (s->new_file)
		new_len = vg_path_copy_at((void *)(rec + 1) + len, s->new_file, s->new_mnt, &truncated);
	new_len &= VG_PATH_MAX - 1;
	rec->new_path_len = new_len;
	vg_record_send(rec, sizeof(*rec) + len + new_len);
}

/* A rule's stop: the generation and slot it was decided in. */
static __always_inline void rule_denial_send(struct task_struct *task, __u32 seq, __u32 hook, bool killed, int slot,
					     struct vg_enforce_subject *s, __u16 family, __u16 protocol)
{
	struct denial d = {
		.seq = seq,
		.hook = hook,
		.action = killed ? VG_ENFORCE_KILLED : VG_ENFORCE_DENIED,
		.slot = slot,
		.family = family,
		.protocol = protocol,
	};

	denial_send(task, &d, s);
}

static __always_inline void subject_creds(struct vg_enforce_subject *s, const struct cred *cred)
{
	s->uid = BPF_CORE_READ(cred, uid.val);
	s->euid = BPF_CORE_READ(cred, euid.val);
	s->gid = BPF_CORE_READ(cred, gid.val);
}

/* ---- exec ---- */

/*
 * The fallback where BPF-LSM is refused. sched_process_exec fires once the new program is
 * mapped and before it returns to user space: a SIGKILL sent here is taken on that return, so
 * the program never runs an instruction. The binary is matched by device and inode (and by
 * its path as the kernel resolves it), so a relative path, a hard link or a symlink to it is
 * the same binary. The comm, the credentials and the exe are already the new program's.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_enforce_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct vg_enforce_subject s = {};
	bool kill = false;
	__u32 seq;
	int slot;

	s.exe = BPF_CORE_READ(bprm, file);
	s.comm = task->comm;
	subject_creds(&s, task->cred);
	slot = vg_enforce_decide(VG_HOOK_EXEC, &s, &seq, &kill);
	if (slot < 0)
		return 0;
	bpf_send_signal(SIGKILL);
	rule_denial_send(task, seq, VG_HOOK_EXEC, true, slot, &s, 0, 0);
	return 0;
}

/*
 * Where the exec check keeps the start of the program's base name while it scans the name: in
 * memory the verifier does not follow, so that each position it could start at is not a state of
 * its own (6.1's verifier then gives up at a million instructions).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_enforce_name_base SEC(".maps");

/*
 * BPF-LSM's exec check, before the binary is loaded: the exec fails with EPERM. The comm is
 * still the caller's here, so it is taken from the name the program was run by, as exec will
 * set it.
 */
SEC("lsm/bprm_check_security")
int BPF_PROG(vg_enforce_lsm_exec, struct linux_binprm *bprm, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_enforce_subject s = {};
	char comm[VG_COMM_LEN] = {};
	char name[256] = {};
	bool kill = false;
	__u32 zero = 0, base;
	__u32 *at;
	int slot, i;
	__u32 seq;

	if (ret)
		return ret;
	at = bpf_map_lookup_elem(&vg_enforce_name_base, &zero);
	if (!at)
		return 0;
	*(volatile __u32 *)at = 0;
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(bprm, filename));
	for (i = 0; i < sizeof(name); i++) {
		if (!name[i])
			break;
		if (name[i] == '/')
			*(volatile __u32 *)at = i + 1;
	}
	base = *(volatile __u32 *)at;
	for (i = 0; i < VG_COMM_LEN - 1; i++)
		comm[i] = name[(base + i) & (sizeof(name) - 1)];
	s.exe = BPF_CORE_READ(bprm, file);
	s.comm = comm;
	subject_creds(&s, BPF_CORE_READ(bprm, cred));
	slot = vg_enforce_decide(VG_HOOK_EXEC, &s, &seq, &kill);
	if (slot < 0)
		return 0;
	if (kill)
		bpf_send_signal(SIGKILL);
	rule_denial_send(task, seq, VG_HOOK_EXEC, kill, slot, &s, 0, 0);
	return -EPERM;
}

/* ---- network ---- */

/* The caller of a socket syscall: its executable, comm and credentials. */
static __always_inline void subject_current(struct vg_enforce_subject *s, struct task_struct *task)
{
	struct mm_struct *mm = task->mm;

	s->exe = mm ? mm->exe_file : NULL;
	s->comm = task->comm;
	subject_creds(s, task->cred);
}

static __always_inline void subject_ip4(struct vg_enforce_subject *s, __u32 ip4)
{
	s->has_addr = true;
	s->addr[10] = 0xff;
	s->addr[11] = 0xff;
	__builtin_memcpy(&s->addr[12], &ip4, 4);
}

/*
 * A cgroup sock_addr program's verdict: 1 lets the call go on, 0 fails it with EPERM. No packet
 * leaves: connect and sendmsg are refused before the protocol sees the address.
 */
static __always_inline int sock_addr_verdict(struct bpf_sock_addr *ctx, __u32 hook, bool ip6)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_enforce_subject s = {};
	bool kill = false;
	__u32 seq;
	int slot;

	if (ip6) {
		s.has_addr = true;
		/* user_ip6 is read a word at a time: the context allows no narrower loads of it. */
		__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1], w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

		__builtin_memcpy(&s.addr[0], &w0, 4);
		__builtin_memcpy(&s.addr[4], &w1, 4);
		__builtin_memcpy(&s.addr[8], &w2, 4);
		__builtin_memcpy(&s.addr[12], &w3, 4);
	} else {
		subject_ip4(&s, ctx->user_ip4);
	}
	s.port = bpf_ntohs(ctx->user_port);
	subject_current(&s, task);
	slot = vg_enforce_decide(hook, &s, &seq, &kill);
	if (slot < 0)
		return 1;
	rule_denial_send(task, seq, hook, false, slot, &s, ip6 ? VG_AF_INET6 : VG_AF_INET, ctx->protocol);
	return 0;
}

/*
 * connect on IPv4 and IPv6 sockets (an IPv4-mapped address on an IPv6 socket is decided as the
 * IPv4 address it maps: the maps hold IPv4 that way).
 */
SEC("cgroup/connect4")
int vg_enforce_connect4(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_CONNECT, false);
}

SEC("cgroup/connect6")
int vg_enforce_connect6(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_CONNECT, true);
}

/* A datagram sent with an address reaches it without connect: it is decided as a connect. */
SEC("cgroup/sendmsg4")
int vg_enforce_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_CONNECT, false);
}

SEC("cgroup/sendmsg6")
int vg_enforce_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_CONNECT, true);
}

SEC("cgroup/bind4")
int vg_enforce_bind4(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_BIND, false);
}

SEC("cgroup/bind6")
int vg_enforce_bind6(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, VG_HOOK_BIND, true);
}

/* BPF-LSM's socket hooks: the same decision from the sockaddr the caller passed. */
static __always_inline int lsm_sock_verdict(struct socket *sock, struct sockaddr *address, int addrlen, __u32 hook)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_enforce_subject s = {};
	__u16 family = BPF_CORE_READ(address, sa_family);
	__u16 protocol = BPF_CORE_READ(sock, sk, sk_protocol);
	bool kill = false;
	__u32 seq;
	int slot;

	if (family == VG_AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)address;

		subject_ip4(&s, BPF_CORE_READ(in, sin_addr.s_addr));
		s.port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
	} else if (family == VG_AF_INET6 && addrlen >= VG_SOCKADDR_IN6_LEN) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;

		s.has_addr = true;
		bpf_probe_read_kernel(s.addr, 16, __builtin_preserve_access_index(&in6->sin6_addr));
		s.port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
	} else {
		return 0;
	}
	subject_current(&s, task);
	slot = vg_enforce_decide(hook, &s, &seq, &kill);
	if (slot < 0)
		return 0;
	rule_denial_send(task, seq, hook, false, slot, &s, family, protocol);
	return -EPERM;
}

SEC("lsm/socket_connect")
int BPF_PROG(vg_enforce_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return lsm_sock_verdict(sock, address, addrlen, VG_HOOK_CONNECT);
}

SEC("lsm/socket_bind")
int BPF_PROG(vg_enforce_lsm_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return lsm_sock_verdict(sock, address, addrlen, VG_HOOK_BIND);
}

/* ---- files ---- */

#define VG_FMODE_WRITE 0x2
#define VG_PROT_EXEC 0x4

/*
 * Self-protection (enum vg_protect_op): the sensor's processes (vg_protect_tgids), its files
 * and directories (vg_protect_files, by the identities enforce_file_inode_atoms reads) and its
 * maps, programs and links (vg_protect_ids). Only its own processes may touch them; the init
 * process may still signal it, so that the service manager can stop it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_protect_config);
} vg_protect_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} vg_protect_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vg_enforce_inode_key);
	__type(value, __u32);
} vg_protect_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vg_protect_id_key);
	__type(value, __u32);
} vg_protect_ids SEC(".maps");

static __always_inline bool protect_enabled(void)
{
	__u32 zero = 0;
	struct vg_protect_config *c = bpf_map_lookup_elem(&vg_protect_config, &zero);

	return c && c->enabled;
}

static __always_inline bool protected_tgid(__u32 tgid)
{
	return bpf_map_lookup_elem(&vg_protect_tgids, &tgid) != NULL;
}

/* Whether the caller is someone the protection stops: protection is on and it is not the sensor. */
static __always_inline bool protect_outsider(void)
{
	return protect_enabled() && !protected_tgid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline bool protected_inode(struct inode *inode)
{
	struct vg_enforce_inode_key key = {};

	if (!inode)
		return false;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	return bpf_map_lookup_elem(&vg_protect_files, &key) != NULL;
}

static __always_inline int protect_refuse(struct task_struct *task, __u32 op, __u32 hook, __u32 target, __u32 arg,
					  struct vg_enforce_subject *s)
{
	struct denial d = {
		.hook = hook,
		.action = VG_ENFORCE_PROTECTED,
		.slot = op,
		.target = target,
		.arg = arg,
	};

	denial_send(task, &d, s);
	return -EPERM;
}

/* The subject of a file hook: the caller, and the file @dentry reached through @mnt. */
static __always_inline void subject_file(struct vg_enforce_subject *s, struct task_struct *task,
					 struct dentry *dentry, struct vfsmount *mnt)
{
	subject_current(s, task);
	s->file = dentry;
	s->file_mnt = mnt;
}

/* A file hook's verdict from its rules: 0, or -EPERM with the denial sent (and the caller killed). */
static __always_inline int file_verdict(struct task_struct *task, __u32 hook, struct vg_enforce_subject *s,
					__u32 mode)
{
	bool kill = false;
	__u32 seq;
	int slot;

	slot = vg_enforce_decide(hook, s, &seq, &kill);
	if (slot < 0)
		return 0;
	struct denial d = {
		.seq = seq,
		.hook = hook,
		.action = VG_ENFORCE_DENIED,
		.slot = slot,
		.mode = mode,
	};
	denial_send(task, &d, s);
	return -EPERM;
}

/*
 * Every open, before the file is usable: a denied open fails with EPERM and nothing of the file
 * is read. On overlayfs this runs for the merged file and again for the layer's file it opens
 * (whose f_path is the merged one): either identity stops it.
 */
SEC("lsm/file_open")
int BPF_PROG(vg_enforce_lsm_open, struct file *file, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};
	struct dentry *dentry;
	__u32 f_mode;

	if (ret)
		return ret;
	task = bpf_get_current_task_btf();
	dentry = BPF_CORE_READ(file, f_path.dentry);
	subject_file(&s, task, dentry, BPF_CORE_READ(file, f_path.mnt));
	s.file_real = BPF_CORE_READ(file, f_inode);
	f_mode = BPF_CORE_READ(file, f_mode);
	if ((f_mode & VG_FMODE_WRITE) && protect_outsider() &&
	    (protected_inode(s.file_real) || protected_inode(BPF_CORE_READ(dentry, d_inode))))
		return protect_refuse(task, VG_PROTECT_WRITE, VG_HOOK_OPEN, 0, f_mode, &s);
	return file_verdict(task, VG_HOOK_OPEN, &s, f_mode);
}

/* Whether @dentry or the directory it is in is the sensor's. */
static __always_inline bool protected_entry(struct dentry *dir, struct dentry *dentry)
{
	return protected_inode(BPF_CORE_READ(dentry, d_inode)) || protected_inode(BPF_CORE_READ(dir, d_inode));
}

SEC("lsm/path_unlink")
int BPF_PROG(vg_enforce_lsm_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};

	if (ret)
		return ret;
	task = bpf_get_current_task_btf();
	subject_file(&s, task, dentry, BPF_CORE_READ(dir, mnt));
	if (protect_outsider() && protected_entry(BPF_CORE_READ(dir, dentry), dentry))
		return protect_refuse(task, VG_PROTECT_UNLINK, VG_HOOK_UNLINK, 0, 0, &s);
	return file_verdict(task, VG_HOOK_UNLINK, &s, 0);
}

/* A rename is decided on both names: what the file was called and what it is to replace. */
SEC("lsm/path_rename")
int BPF_PROG(vg_enforce_lsm_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};

	if (ret)
		return ret;
	task = bpf_get_current_task_btf();
	subject_file(&s, task, old_dentry, BPF_CORE_READ(old_dir, mnt));
	s.new_file = new_dentry;
	s.new_mnt = BPF_CORE_READ(new_dir, mnt);
	if (protect_outsider() && (protected_entry(BPF_CORE_READ(old_dir, dentry), old_dentry) ||
				   protected_entry(BPF_CORE_READ(new_dir, dentry), new_dentry)))
		return protect_refuse(task, VG_PROTECT_RENAME, VG_HOOK_RENAME, 0, 0, &s);
	return file_verdict(task, VG_HOOK_RENAME, &s, 0);
}

SEC("lsm/path_chmod")
int BPF_PROG(vg_enforce_lsm_chmod, const struct path *path, umode_t mode, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};
	struct dentry *dentry;

	if (ret)
		return ret;
	task = bpf_get_current_task_btf();
	dentry = BPF_CORE_READ(path, dentry);
	subject_file(&s, task, dentry, BPF_CORE_READ(path, mnt));
	if (protect_outsider() && protected_inode(BPF_CORE_READ(dentry, d_inode)))
		return protect_refuse(task, VG_PROTECT_CHMOD, VG_HOOK_CHMOD, 0, mode, &s);
	return file_verdict(task, VG_HOOK_CHMOD, &s, mode);
}

/*
 * A denied program mapped for execution by other means than exec: `ld.so ./program` opens and
 * maps it itself, so bprm_check_security never sees it. Decided as an exec of that file by the
 * caller; a library the rules do not name costs one lookup of the exec hook's config.
 */
SEC("lsm/mmap_file")
int BPF_PROG(vg_enforce_lsm_mmap, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags,
	     int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};
	bool kill = false;
	__u32 seq;
	int slot;

	if (ret || !file || !(prot & VG_PROT_EXEC))
		return ret;
	task = bpf_get_current_task_btf();
	subject_current(&s, task);
	s.exe = file;
	slot = vg_enforce_decide(VG_HOOK_EXEC, &s, &seq, &kill);
	if (slot < 0)
		return 0;
	if (kill)
		bpf_send_signal(SIGKILL);
	rule_denial_send(task, seq, VG_HOOK_EXEC, kill, slot, &s, 0, 0);
	return -EPERM;
}

/* ---- kernel modules ---- */

/*
 * finit_module reads the module's file through kernel_read_file, init_module hands its bytes
 * through kernel_load_data. A module the kernel asks modprobe for is loaded by modprobe's
 * finit_module, decided here like any other.
 */
static __always_inline int module_verdict(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_enforce_subject s = {};

	subject_current(&s, task);
	return file_verdict(task, VG_HOOK_MODULE, &s, 0);
}

SEC("lsm/kernel_read_file")
int BPF_PROG(vg_enforce_lsm_module_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id != bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return 0;
	return module_verdict();
}

SEC("lsm/kernel_load_data")
int BPF_PROG(vg_enforce_lsm_module_data, enum kernel_load_data_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id != bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return 0;
	return module_verdict();
}

/* ---- self-protection ---- */

/*
 * Signals sent by a process (kill, tgkill, pidfd_send_signal): the kernel's own signals do not
 * pass here. Signal 0 only asks whether the process exists.
 */
SEC("lsm/task_kill")
int BPF_PROG(vg_enforce_protect_signal, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};
	__u32 target;

	if (ret || sig == 0 || !protect_enabled())
		return ret;
	target = BPF_CORE_READ(p, tgid);
	if (!protected_tgid(target))
		return 0;
	task = bpf_get_current_task_btf();
	if (task->tgid == 1 || protected_tgid(task->tgid))
		return 0;
	subject_current(&s, task);
	return protect_refuse(task, VG_PROTECT_SIGNAL, 0, target, sig, &s);
}

/* ptrace attach, and the reads of /proc/PID/mem, environ and the like that take the same check. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(vg_enforce_protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct task_struct *task;
	struct vg_enforce_subject s = {};
	__u32 target;

	if (ret || !protect_outsider())
		return ret;
	target = BPF_CORE_READ(child, tgid);
	if (!protected_tgid(target))
		return 0;
	task = bpf_get_current_task_btf();
	subject_current(&s, task);
	return protect_refuse(task, VG_PROTECT_PTRACE, 0, target, mode, &s);
}

static __always_inline int protect_bpf_object(__u32 id, __u32 kind)
{
	struct vg_protect_id_key key = { .id = id, .kind = kind };
	struct task_struct *task;
	struct vg_enforce_subject s = {};

	if (!bpf_map_lookup_elem(&vg_protect_ids, &key))
		return 0;
	task = bpf_get_current_task_btf();
	subject_current(&s, task);
	return protect_refuse(task, VG_PROTECT_BPF, 0, id, kind, &s);
}

/* A new fd of a map, by its id or its pin: no one else can read, change or free the sensor's. */
SEC("lsm/bpf_map")
int BPF_PROG(vg_enforce_protect_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	if (ret || !protect_outsider())
		return ret;
	return protect_bpf_object(BPF_CORE_READ(map, id), VG_PROTECT_MAP);
}

SEC("lsm/bpf_prog")
int BPF_PROG(vg_enforce_protect_prog, struct bpf_prog *prog, int ret)
{
	if (ret || !protect_outsider())
		return ret;
	return protect_bpf_object(BPF_CORE_READ(prog, aux, id), VG_PROTECT_PROG);
}

/* Links have no hook of their own: an fd of one (to detach it) is asked for by id through bpf(). */
SEC("lsm/bpf")
int BPF_PROG(vg_enforce_protect_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret || cmd != BPF_LINK_GET_FD_BY_ID || !protect_outsider())
		return ret;
	return protect_bpf_object(BPF_CORE_READ(attr, link_id), VG_PROTECT_LINK);
}
