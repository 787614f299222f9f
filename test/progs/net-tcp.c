/*
 * A TCP connection over loopback, every step on its own socket call:
 *   net-tcp 4|6|mapped [nonblock]
 * 4: 127.0.0.1; 6: ::1; mapped: an IPv6 listener on :: and an IPv6 client connecting to
 * ::ffff:127.0.0.1. The listener binds port 0 and listens with a backlog of 7; the client
 * connects (non-blocking: connect returns EINPROGRESS); the server accepts with accept4
 * (SOCK_CLOEXEC) and no address buffer. Prints the fds, ports and results as JSON.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "4";
	int nonblock = argc > 2 && strcmp(argv[2], "nonblock") == 0;
	int v4 = strcmp(mode, "4") == 0;
	int family = v4 ? AF_INET : AF_INET6;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = v4 ? sizeof(*sin) : sizeof(*sin6);
	int lfd, cfd, afd, port, connect_result = 0;

	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	ss.ss_family = family;
	if (v4)
		inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	else if (strcmp(mode, "6") == 0)
		inet_pton(AF_INET6, "::1", &sin6->sin6_addr);
	else
		sin6->sin6_addr = in6addr_any;
	if (bind(lfd, (struct sockaddr *)&ss, len))
		die("bind");
	if (listen(lfd, 7))
		die("listen");
	port = port_of(lfd);

	cfd = socket(family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (cfd < 0)
		die("socket");
	if (strcmp(mode, "mapped") == 0)
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6->sin6_addr);
	if (v4)
		sin->sin_port = htons(port);
	else
		sin6->sin6_port = htons(port);
	if (connect(cfd, (struct sockaddr *)&ss, len)) {
		struct pollfd p = { .fd = cfd, .events = POLLOUT };

		connect_result = -errno;
		if (errno != EINPROGRESS)
			die("connect");
		if (poll(&p, 1, 5000) != 1)
			die("poll");
	}
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		die("accept4");
	printf("{\"pid\":%d,\"listen_fd\":%d,\"port\":%d,\"client_fd\":%d,\"client_port\":%d,"
	       "\"connect_result\":%d,\"accept_fd\":%d}\n",
	       getpid(), lfd, port, cfd, port_of(cfd), connect_result, afd);
	return 0;
}
