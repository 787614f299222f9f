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

static __always_inline void denial_send(struct task_struct *task, __u32 seq, __u32 hook, bool killed, int slot,
					struct vg_enforce_subject *s, __u16 family, __u16 protocol)
{
	struct vg_enforce_denial *rec = vg_record_start();
	struct file *exe = s->exe;
	bool truncated;
	__u32 len = 0;

	if (!rec)
		return;
	rec->hdr.op = VG_OP_ENFORCE_DENIAL;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, task);
	rec->seq = seq;
	rec->hook = hook;
	rec->action = killed ? VG_ENFORCE_KILLED : VG_ENFORCE_DENIED;
	rec->slot = slot;
	rec->exe_dev = 0;
	rec->exe_ino = 0;
	__builtin_memcpy(rec->addr, s->addr, 16);
	rec->family = family;
	rec->port = s->port;
	rec->protocol = protocol;
	if (hook == VG_HOOK_EXEC && exe) {
		rec->exe_ino = BPF_CORE_READ(exe, f_inode, i_ino);
		rec->exe_dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
		len = vg_path_copy(rec + 1, __builtin_preserve_access_index(&exe->f_path), &truncated);
	}
	rec->path_len = len;
	vg_record_send(rec, sizeof(*rec) + (len & (VG_PATH_MAX - 1)));
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
	denial_send(task, seq, VG_HOOK_EXEC, true, slot, &s, 0, 0);
	return 0;
}

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
	int slot, i, base = 0;
	__u32 seq;

	if (ret)
		return ret;
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(bprm, filename));
	for (i = 0; i < sizeof(name); i++) {
		if (!name[i])
			break;
		if (name[i] == '/')
			base = i + 1;
	}
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
	denial_send(task, seq, VG_HOOK_EXEC, kill, slot, &s, 0, 0);
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
	denial_send(task, seq, hook, false, slot, &s, ip6 ? VG_AF_INET6 : VG_AF_INET, ctx->protocol);
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
	denial_send(task, seq, hook, false, slot, &s, family, protocol);
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
