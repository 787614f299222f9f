/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sockets as the network programs see them: the struct sock behind a file descriptor, and the
 * endpoints of a connection, read either from the socket or from a sockaddr in user memory.
 */
#ifndef VIGIL_LIB_NET_SOCK_H
#define VIGIL_LIB_NET_SOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "vigil.h"

/* uapi #defines, which vmlinux.h lacks. */
#define VG_AF_UNIX 1
#define VG_AF_INET 2
#define VG_AF_INET6 10
#define VG_SOCK_DGRAM 2
#define VG_SOCK_RAW 3
#define VG_IPPROTO_UDP 17
#define VG_S_IFMT 00170000
#define VG_S_IFSOCK 0140000

/* offsetof(struct sockaddr_un, sun_path), and the largest sockaddr with an IP address. */
#define VG_SUN_PATH_OFFSET 2
#define VG_SOCKADDR_IN6_LEN 28

/* The socket behind @fd in the current task, or NULL when @fd is not an open socket. */
static __always_inline struct sock *vg_net_fd_sock(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;
	__u16 mode;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & VG_S_IFMT) != VG_S_IFSOCK)
		return NULL;
	/* NULL for an O_PATH descriptor of a socket file, which is no socket. */
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* family, type and protocol of @sk; read as bit fields, which they were before Linux 5.6. */
static __always_inline void vg_net_sock_kind(struct sock *sk, __u16 *family, __u16 *type, __u16 *protocol)
{
	if (!sk) {
		*family = *type = *protocol = 0;
		return;
	}
	*family = BPF_CORE_READ(sk, __sk_common.skc_family);
	*type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	*protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

static __always_inline void vg_net_endpoint_clear(struct vg_net_endpoint *ep)
{
	__builtin_memset(ep, 0, sizeof(*ep));
}

static __always_inline bool vg_net_addr_zero(const struct vg_net_endpoint *ep)
{
	__u64 w[2];

	__builtin_memcpy(w, ep->addr, sizeof(w));
	return !(w[0] | w[1]);
}

/*
 * A Unix socket's name (its struct unix_address: a length and a sockaddr_un) into @ep, with the
 * sun_path bytes copied to @path. Unnamed sockets leave @ep unknown.
 */
static __always_inline void vg_net_unix_name(struct vg_net_endpoint *ep, struct sock *sk, char *path)
{
	/* struct sock is the first member of struct unix_sock. */
	struct unix_address *a = BPF_CORE_READ((struct unix_sock *)sk, addr);
	int len;
	__u32 n;

	if (!a)
		return;
	len = BPF_CORE_READ(a, len) - VG_SUN_PATH_OFFSET;
	if (len < 0)
		return;
	n = len > VG_NET_UNIX_PATH_MAX ? VG_NET_UNIX_PATH_MAX : len;
	/* Keeps clang from dropping the mask the verifier needs to bound the size. */
	barrier_var(n);
	if (bpf_probe_read_kernel(path, n & 0x7f,
				  (char *)a + bpf_core_field_offset(struct unix_address, name) + VG_SUN_PATH_OFFSET))
		return;
	ep->family = VG_AF_UNIX;
	ep->path_len = n & 0x7f;
}

/*
 * The socket's own address into @ep: for IP sockets when it has one (a bound port or address),
 * for Unix sockets when it has a name (copied to @path).
 */
static __always_inline void vg_net_sock_local(struct vg_net_endpoint *ep, struct sock *sk, char *path)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (family == VG_AF_UNIX) {
		vg_net_unix_name(ep, sk, path);
		return;
	}
	if (family == VG_AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		if (!a && !port)
			return;
		__builtin_memcpy(ep->addr, &a, sizeof(a));
	} else if (family == VG_AF_INET6) {
		BPF_CORE_READ_INTO(&ep->addr, sk, __sk_common.skc_v6_rcv_saddr);
		if (!port && vg_net_addr_zero(ep))
			return;
	} else {
		return;
	}
	ep->family = family;
	/* A raw socket's number is its protocol, not a port. */
	ep->port = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) == VG_SOCK_RAW ? 0 : port;
}

/* The socket's peer into @ep, when it is connected: its address, or a Unix peer's name. */
static __always_inline void vg_net_sock_remote(struct vg_net_endpoint *ep, struct sock *sk, char *path)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));

	if (family == VG_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);

		if (peer)
			vg_net_unix_name(ep, peer, path);
		return;
	}
	if (family == VG_AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		if (!a && !port)
			return;
		__builtin_memcpy(ep->addr, &a, sizeof(a));
	} else if (family == VG_AF_INET6) {
		BPF_CORE_READ_INTO(&ep->addr, sk, __sk_common.skc_v6_daddr);
		if (!port && vg_net_addr_zero(ep))
			return;
	} else {
		return;
	}
	ep->family = family;
	ep->port = port;
}

/*
 * The sockaddr the caller passed (@uaddr, @len bytes) into @ep, as given; a Unix name's bytes
 * go to @path. A family without addresses (AF_UNSPEC, unknown ones) leaves @ep unknown but for
 * its family.
 */
static __always_inline void vg_net_user_addr(struct vg_net_endpoint *ep, const void *uaddr, long len, char *path)
{
	__u8 sa[32] = {};
	__u16 family;
	long n;

	if (!uaddr || len < (long)sizeof(family))
		return;
	n = len < VG_SOCKADDR_IN6_LEN ? len : VG_SOCKADDR_IN6_LEN;
	barrier_var(n);
	if (bpf_probe_read_user(sa, n & 0x1f, uaddr))
		return;
	family = sa[0] | sa[1] << 8;
	if (family == VG_AF_INET && n >= 8) {
		__builtin_memcpy(ep->addr, &sa[4], 4);
	} else if (family == VG_AF_INET6 && n >= 24) {
		__builtin_memcpy(ep->addr, &sa[8], 16);
	} else if (family == VG_AF_UNIX) {
		n = len - VG_SUN_PATH_OFFSET;
		if (n > VG_NET_UNIX_PATH_MAX)
			n = VG_NET_UNIX_PATH_MAX;
		barrier_var(n);
		if (bpf_probe_read_user(path, n & 0x7f, (const char *)uaddr + VG_SUN_PATH_OFFSET))
			return;
		ep->path_len = n & 0x7f;
	} else {
		if (family == VG_AF_INET || family == VG_AF_INET6)
			return;
		ep->family = family;
		return;
	}
	ep->family = family;
	if (family != VG_AF_UNIX)
		ep->port = sa[2] << 8 | sa[3];
}

#endif /* VIGIL_LIB_NET_SOCK_H */
