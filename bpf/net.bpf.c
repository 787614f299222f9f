// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network: connect, accept, bind and listen on IP and Unix sockets, and DNS queries sent over
 * UDP. Each is taken at its syscall's exit (lib/syscall.h), where the result is known and the
 * socket holds what the kernel chose (a source port, an accepted peer).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "vigil.h"
#include "lib/emit.h"
#include "lib/filter.h"
#include "lib/net-sock.h"
#include "lib/syscall.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

#define DNS_PORT 53

/* Where sockaddr bytes that are not sent go: far past any record these programs build. */
#define SCRATCH_OFFSET 8192

struct net_dns_sock_key {
	__u32 tgid;
	__s32 fd;
};

/*
 * UDP sockets connected to port 53, by process and descriptor. A resolver that connects its
 * socket (glibc, Go) then sends with no address, and write() may be used on it: this lets
 * send*() and write() tell such a socket with one hash lookup instead of walking from the fd to
 * the socket on every call. Each hit is checked against the socket itself, so a reused fd is
 * not mistaken; LRU, because entries are not removed when a descriptor is closed. A socket
 * passed to another process, or connected before the sensor started, is not known here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct net_dns_sock_key);
	__type(value, __u8);
} vg_net_dns_socks SEC(".maps");

/* A connect/accept/bind/listen record with the common part filled and no endpoint known. */
static __always_inline struct vg_net_call *call_start(__u32 op, long result, long fd)
{
	struct vg_net_call *rec = vg_record_start();

	if (!rec)
		return NULL;
	rec->hdr.op = op;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = result;
	rec->fd = fd;
	rec->family = rec->type = rec->protocol = 0;
	rec->pad = 0;
	rec->arg = 0;
	rec->pad2 = 0;
	vg_net_endpoint_clear(&rec->local);
	vg_net_endpoint_clear(&rec->remote);
	return rec;
}

/* Where the local Unix name goes; the remote one follows it. */
static __always_inline char *call_local_path(struct vg_net_call *rec)
{
	return (char *)(rec + 1);
}

static __always_inline char *call_remote_path(struct vg_net_call *rec)
{
	__u32 n = rec->local.path_len;

	barrier_var(n);
	return (char *)(rec + 1) + (n & 0x7f);
}

static __always_inline void call_send(struct vg_net_call *rec)
{
	__u32 n = rec->local.path_len + rec->remote.path_len;

	barrier_var(n);
	vg_record_send(rec, sizeof(*rec) + (n & 0xff));
}

static __always_inline bool sock_is_udp(struct sock *sk)
{
	return sk && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == VG_IPPROTO_UDP;
}

/* Whether a sockaddr in user memory is an IP address with port 53. */
static __always_inline bool user_addr_is_dns(const void *uaddr)
{
	__u16 sa[2]; /* family, port */

	if (bpf_probe_read_user(sa, sizeof(sa), uaddr))
		return false;
	return (sa[0] == VG_AF_INET || sa[0] == VG_AF_INET6) && sa[1] == bpf_htons(DNS_PORT);
}

/* Whether net.dns is on, without counting anything as filtered (see vg_interest). */
static __always_inline bool dns_enabled(void)
{
	__u32 op = VG_OP_NET_DNS;
	const struct vg_kind_config *dns = bpf_map_lookup_elem(&vg_kinds, &op);

	return dns && dns->enabled;
}

static __always_inline void dns_sock_remember(long fd)
{
	struct net_dns_sock_key key = {};
	__u8 one = 1;

	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.fd = fd;
	bpf_map_update_elem(&vg_net_dns_socks, &key, &one, BPF_ANY);
}

/*
 * Notes a UDP socket the caller just connected to port 53 (see vg_net_dns_socks) when the
 * connect itself is not wanted; costs a successful connect a 4-byte read of its address while
 * net.dns is on. (A wanted connect's record already holds what this reads.)
 */
static __always_inline void dns_sock_note(struct pt_regs *regs)
{
	long fd;

	if (!dns_enabled())
		return;
	if (!user_addr_is_dns((const void *)VG_SYSCALL_ARG1(regs)))
		return;
	fd = VG_SYSCALL_ARG0(regs);
	if (sock_is_udp(vg_net_fd_sock(fd)))
		dns_sock_remember(fd);
}

/*
 * connect's exit: the result (0, or -EINPROGRESS for a non-blocking TCP connect) is known, and
 * so is the source address the kernel picked for the socket. sys_enter would see neither; the
 * cgroup connect hooks see no failures and no Unix sockets.
 */
VG_SYSCALL_EXIT(vg_net_connect)
{
	long fd = VG_SYSCALL_ARG0(regs);
	struct vg_net_call *rec;
	struct sock *sk;

	if (!vg_interest(VG_OP_NET_CONNECT)) {
		/* A UDP connect succeeds at once or not at all. */
		if (ret == 0)
			dns_sock_note(regs);
		return 0;
	}
	rec = call_start(VG_OP_NET_CONNECT, ret, fd);
	if (!rec)
		return 0;
	sk = vg_net_fd_sock(fd);
	vg_net_sock_kind(sk, &rec->family, &rec->type, &rec->protocol);
	if (sk)
		vg_net_sock_local(&rec->local, sk, call_local_path(rec));
	vg_net_user_addr(&rec->remote, (const void *)VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs),
			 call_remote_path(rec));
	if (ret == 0 && rec->protocol == VG_IPPROTO_UDP && rec->remote.port == DNS_PORT &&
	    (rec->remote.family == VG_AF_INET || rec->remote.family == VG_AF_INET6) && dns_enabled())
		dns_sock_remember(fd);
	call_send(rec);
	return 0;
}

/*
 * accept and accept4 at their exit, for the same reason as connect: the peer and the new fd
 * are known, and the new socket is in the caller's table.
 */
static __always_inline int accept_exit(struct pt_regs *regs, long result, bool has_flags)
{
	long fd = VG_SYSCALL_ARG0(regs);
	struct vg_net_call *rec;
	struct sock *sk;

	rec = call_start(VG_OP_NET_ACCEPT, result, fd);
	if (!rec)
		return 0;
	if (has_flags)
		rec->arg = VG_SYSCALL_ARG3(regs);
	/* The peer comes from the new socket: the caller's address buffer may be NULL. */
	sk = vg_net_fd_sock(result >= 0 ? result : fd);
	vg_net_sock_kind(sk, &rec->family, &rec->type, &rec->protocol);
	if (sk) {
		vg_net_sock_local(&rec->local, sk, call_local_path(rec));
		if (result >= 0)
			vg_net_sock_remote(&rec->remote, sk, call_remote_path(rec));
	}
	call_send(rec);
	return 0;
}

VG_SYSCALL_EXIT_OF(VG_OP_NET_ACCEPT, vg_net_accept)
{
	return accept_exit(regs, ret, false);
}

VG_SYSCALL_EXIT_OF(VG_OP_NET_ACCEPT, vg_net_accept4)
{
	return accept_exit(regs, ret, true);
}

/* bind's exit: the port the kernel chose for port 0 is known only once bind has returned. */
VG_SYSCALL_EXIT_OF(VG_OP_NET_BIND, vg_net_bind)
{
	long fd = VG_SYSCALL_ARG0(regs);
	struct vg_net_call *rec;
	struct sock *sk;

	rec = call_start(VG_OP_NET_BIND, ret, fd);
	if (!rec)
		return 0;
	sk = vg_net_fd_sock(fd);
	vg_net_sock_kind(sk, &rec->family, &rec->type, &rec->protocol);
	/* Once bound, the socket holds the address as given and the port as chosen. */
	if (sk && ret == 0)
		vg_net_sock_local(&rec->local, sk, call_local_path(rec));
	if (!rec->local.family)
		vg_net_user_addr(&rec->local, (const void *)VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs),
				 call_local_path(rec));
	call_send(rec);
	return 0;
}

/* listen's exit: the socket's bound address (listen binds an unbound socket to a free port). */
VG_SYSCALL_EXIT_OF(VG_OP_NET_LISTEN, vg_net_listen)
{
	long fd = VG_SYSCALL_ARG0(regs);
	struct vg_net_call *rec;
	struct sock *sk;

	rec = call_start(VG_OP_NET_LISTEN, ret, fd);
	if (!rec)
		return 0;
	rec->arg = VG_SYSCALL_ARG1(regs);
	sk = vg_net_fd_sock(fd);
	vg_net_sock_kind(sk, &rec->family, &rec->type, &rec->protocol);
	if (sk)
		vg_net_sock_local(&rec->local, sk, call_local_path(rec));
	call_send(rec);
	return 0;
}

/*
 * The UDP socket behind @fd when a datagram sent on it to @uaddr (the caller's destination, or
 * NULL for the connected peer) goes to port 53; otherwise NULL. The cheap test comes first:
 * the destination port in user memory, or the hash of sockets connected to port 53.
 */
static __always_inline struct sock *dns_socket(long fd, const void *uaddr)
{
	struct net_dns_sock_key key = {};
	struct sock *sk;

	if (uaddr) {
		if (!user_addr_is_dns(uaddr))
			return NULL;
		sk = vg_net_fd_sock(fd);
		return sock_is_udp(sk) ? sk : NULL;
	}
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.fd = fd;
	if (!bpf_map_lookup_elem(&vg_net_dns_socks, &key))
		return NULL;
	sk = vg_net_fd_sock(fd);
	if (sock_is_udp(sk) && BPF_CORE_READ(sk, __sk_common.skc_dport) == bpf_htons(DNS_PORT))
		return sk;
	bpf_map_delete_elem(&vg_net_dns_socks, &key);
	return NULL;
}

/* A DNS record with the common part and both endpoints filled, and no payload yet. */
static __always_inline struct vg_net_dns *dns_start(long fd, long result, __u16 syscall, struct sock *sk,
						    const void *uaddr, long uaddr_len)
{
	struct vg_net_dns *rec = vg_record_start();
	char *scratch;

	if (!rec)
		return NULL;
	scratch = (char *)rec + SCRATCH_OFFSET;
	rec->hdr.op = VG_OP_NET_DNS;
	rec->hdr.flags = 0;
	rec->hdr.ktime = bpf_ktime_get_ns();
	vg_task_fill(&rec->task, bpf_get_current_task_btf());
	rec->result = result;
	rec->fd = fd;
	vg_net_sock_kind(sk, &rec->family, &rec->type, &rec->protocol);
	rec->syscall = syscall;
	rec->size = 0;
	rec->payload_len = 0;
	rec->pad = 0;
	vg_net_endpoint_clear(&rec->local);
	vg_net_endpoint_clear(&rec->remote);
	/* The source port ties the query to its answer; a send binds an unbound socket. */
	vg_net_sock_local(&rec->local, sk, scratch);
	if (uaddr)
		vg_net_user_addr(&rec->remote, uaddr, uaddr_len, scratch);
	else
		vg_net_sock_remote(&rec->remote, sk, scratch);
	return rec;
}

/* The first VG_NET_DNS_PAYLOAD_MAX bytes of a datagram in one buffer. */
static __always_inline void dns_payload_buf(struct vg_net_dns *rec, const void *buf, __u64 len)
{
	__u32 n = len < VG_NET_DNS_PAYLOAD_MAX ? len : VG_NET_DNS_PAYLOAD_MAX;

	barrier_var(n);
	rec->size = len;
	if (!bpf_probe_read_user(rec + 1, n & 0x3ff, buf))
		rec->payload_len = n;
}

/* The same from the first VG_NET_IOV_MAX buffers of an iovec array. */
static __always_inline void dns_payload_iov(struct vg_net_dns *rec, const struct iovec *uiov, __u64 iovlen)
{
	__u32 copied = 0;
	__u64 size = 0;
	int i;

	for (i = 0; i < VG_NET_IOV_MAX; i++) {
		struct iovec iov;
		__u32 n;

		if (i >= iovlen || bpf_probe_read_user(&iov, sizeof(iov), &uiov[i]))
			break;
		size += iov.iov_len;
		if (copied >= VG_NET_DNS_PAYLOAD_MAX)
			continue;
		n = iov.iov_len < VG_NET_DNS_PAYLOAD_MAX - copied ? iov.iov_len : VG_NET_DNS_PAYLOAD_MAX - copied;
		barrier_var(n);
		barrier_var(copied);
		if (bpf_probe_read_user((char *)(rec + 1) + (copied & 0x3ff), n & 0x3ff, iov.iov_base))
			break;
		copied += n;
	}
	rec->size = size;
	rec->payload_len = copied;
}

static __always_inline void dns_send(struct vg_net_dns *rec)
{
	__u32 n = rec->payload_len;

	barrier_var(n);
	vg_record_send(rec, sizeof(*rec) + (n & 0x3ff));
}

/*
 * The send syscalls' exits, for DNS: the datagram and its destination are in the caller's
 * memory, and the result says whether it went out. Unlike the other programs these test
 * whether the datagram is a DNS query before vg_interest: the test is about as cheap (a 4-byte
 * read or one hash lookup) and rules out nearly every send, and so the filtered count of
 * net.dns counts DNS queries and not every send on the host. send() is sendto() with no
 * address.
 */
VG_SYSCALL_EXIT(vg_net_sendto)
{
	long fd = VG_SYSCALL_ARG0(regs);
	const void *uaddr = (const void *)VG_SYSCALL_ARG4(regs);
	struct vg_net_dns *rec;
	struct sock *sk;

	sk = dns_socket(fd, uaddr);
	if (!sk || !vg_interest(VG_OP_NET_DNS))
		return 0;
	/* The address length is the sixth argument, which is not needed: IP addresses fit 28 bytes. */
	rec = dns_start(fd, ret, VG_NET_SEND_SENDTO, sk, uaddr, VG_SOCKADDR_IN6_LEN);
	if (!rec)
		return 0;
	dns_payload_buf(rec, (const void *)VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs));
	dns_send(rec);
	return 0;
}

/* sendmsg's exit, as sendto's; the destination and the datagram's buffers are in a msghdr. */
VG_SYSCALL_EXIT(vg_net_sendmsg)
{
	long fd = VG_SYSCALL_ARG0(regs);
	struct user_msghdr msg;
	struct vg_net_dns *rec;
	struct sock *sk;

	if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)VG_SYSCALL_ARG1(regs)))
		return 0;
	sk = dns_socket(fd, msg.msg_name);
	if (!sk || !vg_interest(VG_OP_NET_DNS))
		return 0;
	rec = dns_start(fd, ret, VG_NET_SEND_SENDMSG, sk, msg.msg_name, msg.msg_namelen);
	if (!rec)
		return 0;
	dns_payload_iov(rec, msg.msg_iov, msg.msg_iovlen);
	dns_send(rec);
	return 0;
}

/*
 * One record per message sent (glibc's resolver sends its A and AAAA queries in one call),
 * each with its own result; when the call failed, the first message with the error.
 */
VG_SYSCALL_EXIT(vg_net_sendmmsg)
{
	long fd = VG_SYSCALL_ARG0(regs);
	const struct mmsghdr *vec = (const struct mmsghdr *)VG_SYSCALL_ARG1(regs);
	long sent = ret < 0 ? 1 : ret;
	int i;

	for (i = 0; i < VG_NET_MMSG_MAX; i++) {
		struct vg_net_dns *rec;
		struct mmsghdr m;
		struct sock *sk;

		if (i >= sent || bpf_probe_read_user(&m, sizeof(m), &vec[i]))
			break;
		sk = dns_socket(fd, m.msg_hdr.msg_name);
		if (!sk || !vg_interest(VG_OP_NET_DNS))
			continue;
		rec = dns_start(fd, ret < 0 ? ret : m.msg_len, VG_NET_SEND_SENDMMSG, sk, m.msg_hdr.msg_name,
				m.msg_hdr.msg_namelen);
		if (!rec)
			return 0;
		dns_payload_iov(rec, m.msg_hdr.msg_iov, m.msg_hdr.msg_iovlen);
		dns_send(rec);
	}
	return 0;
}

/*
 * write() on a UDP socket connected to port 53 (Go's resolver sends its queries so). write is
 * the busiest syscall there is, so a write that is not on a known DNS socket costs only one
 * hash lookup, and nothing but the kind's switch while net.dns is off.
 */
VG_SYSCALL_EXIT(vg_net_write)
{
	struct vg_net_dns *rec;
	struct sock *sk;
	long fd;

	if (!dns_enabled())
		return 0;
	fd = VG_SYSCALL_ARG0(regs);
	sk = dns_socket(fd, NULL);
	if (!sk || !vg_interest(VG_OP_NET_DNS))
		return 0;
	rec = dns_start(fd, ret, VG_NET_SEND_WRITE, sk, NULL, 0);
	if (!rec)
		return 0;
	dns_payload_buf(rec, (const void *)VG_SYSCALL_ARG1(regs), VG_SYSCALL_ARG2(regs));
	dns_send(rec);
	return 0;
}
