/*
 * Sends a DNS query for NAME to 127.0.0.1:53 (::1 for sendto6), with nothing needing to answer:
 *   net-dns MODE NAME TYPE ID
 * MODE: sendto (unconnected), sendto6, send (connect, then send), write (connect, then write),
 * sendmsg (connect, then sendmsg with the query in two buffers), sendmmsg (one sendmmsg of the
 * query and an AAAA query with ID+1, each with its address: on a connected socket the ICMP error
 * for the first would fail the second), loop (sendto of a message whose name is a compression
 * pointer to itself). Prints the fd and source port as JSON.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A query with recursion desired and one question of class IN; returns its length. */
static size_t query(uint8_t *buf, int id, const char *name, int type)
{
	size_t at = 12;
	const char *label = name;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*label) {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);

		buf[at++] = n;
		memcpy(buf + at, label, n);
		at += n;
		label += n + (dot ? 1 : 0);
	}
	buf[at++] = 0;
	buf[at++] = type >> 8;
	buf[at++] = type & 0xff;
	buf[at++] = 0;
	buf[at++] = 1; /* IN */
	return at;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sendto";
	const char *name = argc > 2 ? argv[2] : "example.invalid";
	int type = argc > 3 ? atoi(argv[3]) : 1;
	int id = argc > 4 ? atoi(argv[4]) : 0x1234;
	int v6 = strcmp(mode, "sendto6") == 0;
	int connected = strcmp(mode, "sendto") && strcmp(mode, "sendto6") && strcmp(mode, "loop") &&
			strcmp(mode, "sendmmsg");
	struct sockaddr_storage ss = { 0 }, local = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = v6 ? sizeof(*sin6) : sizeof(*sin), llen = sizeof(local);
	uint8_t buf[512], buf2[512];
	size_t n = query(buf, id, name, type);
	ssize_t sent;
	int fd;

	ss.ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		inet_pton(AF_INET6, "::1", &sin6->sin6_addr);
		sin6->sin6_port = htons(53);
	} else {
		inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
		sin->sin_port = htons(53);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (connected && connect(fd, (struct sockaddr *)&ss, len))
		die("connect");
	if (strcmp(mode, "loop") == 0) {
		/* The name is a pointer to offset 12: itself. */
		buf[12] = 0xc0;
		buf[13] = 12;
		sent = sendto(fd, buf, 18, 0, (struct sockaddr *)&ss, len);
	} else if (strcmp(mode, "sendmmsg") == 0) {
		size_t n2 = query(buf2, id + 1, name, 28);
		struct iovec iov[2] = { { buf, n }, { buf2, n2 } };
		struct mmsghdr msgs[2] = {
			{ .msg_hdr = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov[0], .msg_iovlen = 1 } },
			{ .msg_hdr = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov[1], .msg_iovlen = 1 } },
		};

		sent = sendmmsg(fd, msgs, 2, 0);
		if (sent != 2)
			die("sendmmsg");
	} else if (!connected) {
		sent = sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len);
	} else if (strcmp(mode, "send") == 0) {
		sent = send(fd, buf, n, 0);
	} else if (strcmp(mode, "write") == 0) {
		sent = write(fd, buf, n);
	} else if (strcmp(mode, "sendmsg") == 0) {
		struct iovec iov[2] = { { buf, 12 }, { buf + 12, n - 12 } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

		sent = sendmsg(fd, &msg, 0);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	if (sent < 0)
		die("send");
	getsockname(fd, (struct sockaddr *)&local, &llen);
	printf("{\"pid\":%d,\"fd\":%d,\"local_port\":%d,\"size\":%zu}\n", getpid(), fd,
	       ntohs(v6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port),
	       strcmp(mode, "loop") == 0 ? (size_t)18 : n);
	return 0;
}
