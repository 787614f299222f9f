/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the network: connect, accept, bind, listen, DNS queries. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_NET_H
#define VIGIL_RECORDS_NET_H

enum vg_net_limit {
	/* Bytes of sun_path (struct sockaddr_un). */
	VG_NET_UNIX_PATH_MAX = 108,
	/* Bytes of a DNS datagram's payload sent (a classic DNS message fits 512 bytes). */
	VG_NET_DNS_PAYLOAD_MAX = 512,
	/* Messages of one sendmmsg examined; glibc's resolver sends two (A and AAAA). */
	VG_NET_MMSG_MAX = 8,
	/* Buffers of one sendmsg whose bytes are copied. */
	VG_NET_IOV_MAX = 4,
};

/* The syscall that sent a DNS query. */
enum vg_net_send {
	VG_NET_SEND_SENDTO = 1,
	VG_NET_SEND_SENDMSG = 2,
	VG_NET_SEND_SENDMMSG = 3,
	VG_NET_SEND_WRITE = 4,
};

/*
 * One end of a connection: an IPv4 or IPv6 address and port, or a Unix socket's name, whose
 * path_len bytes of sun_path follow the record (an abstract name starts with a NUL; a path name
 * may be followed by a NUL and garbage the caller passed). family 0: not known.
 */
struct vg_net_endpoint {
	__u8 addr[16];      /* network order; IPv4 in the first 4 bytes */
	__u16 family;       /* AF_INET, AF_INET6, AF_UNIX */
	__u16 port;         /* host order */
	__u16 path_len;
	__u16 pad;
};

/*
 * connect, accept, accept4, bind, listen (hdr.op says which). Followed by local.path_len bytes
 * of the local Unix name, then remote.path_len bytes of the remote one.
 *
 *   connect: remote is the address argument; local the address the socket has after the call
 *            (the one the kernel chose for it), when it has one.
 *   bind:    local is the address argument, with the port the kernel bound when it chose one.
 *   listen:  local is the socket's bound address.
 *   accept:  local and remote are the new socket's (remote the peer); when accept failed, local
 *            is the listening socket's.
 */
struct vg_net_call {
	struct vg_header hdr;
	struct vg_task task;
	__s32 result;         /* 0, the new fd, or -errno */
	__s32 fd;             /* the socket the call was made on */
	/* The socket's, from struct sock; family 0 when fd is not a socket. */
	__u16 family;
	__u16 type;
	__u16 protocol;
	__u16 pad;
	__u32 arg;            /* listen: backlog; accept4: flags */
	__u32 pad2;
	struct vg_net_endpoint local;
	struct vg_net_endpoint remote;
};

/*
 * A datagram sent over UDP to port 53. Followed by payload_len bytes of the payload (its first
 * VG_NET_DNS_PAYLOAD_MAX bytes).
 */
struct vg_net_dns {
	struct vg_header hdr;
	struct vg_task task;
	__s32 result;         /* bytes sent, or -errno */
	__s32 fd;
	__u16 family;
	__u16 type;
	__u16 protocol;
	__u16 syscall;        /* enum vg_net_send */
	__u32 size;           /* bytes of the datagram */
	__u16 payload_len;
	__u16 pad;
	struct vg_net_endpoint local;
	struct vg_net_endpoint remote;
};

#ifdef __bpf__
/* Every net type, by value, so that gen-layout.mjs sees it (see vg_btf_anchor in vigil.h). */
const struct {
	enum vg_net_limit limit;
	enum vg_net_send send;
	struct vg_net_endpoint endpoint;
	struct vg_net_call call;
	struct vg_net_dns dns;
} vg_btf_anchor_net __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_NET_H */
