/*
 * Connects a datagram socket: net-dgram udp4|udp6|raw4 ADDRESS PORT. A connected UDP socket is
 * given a source port at once; a raw ICMP socket has no ports. Prints the fd, the source port and
 * the result as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "udp4";
	const char *address = argc > 2 ? argv[2] : "127.0.0.1";
	int port = argc > 3 ? atoi(argv[3]) : 9;
	int v6 = strcmp(mode, "udp6") == 0;
	struct sockaddr_storage ss = { 0 }, local = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = v6 ? sizeof(*sin6) : sizeof(*sin), llen = sizeof(local);
	int fd, result = 0, local_port;

	fd = strcmp(mode, "raw4") == 0 ? socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
				       : socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	ss.ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		inet_pton(AF_INET6, address, &sin6->sin6_addr);
		sin6->sin6_port = htons(port);
	} else {
		inet_pton(AF_INET, address, &sin->sin_addr);
		sin->sin_port = htons(port);
	}
	if (connect(fd, (struct sockaddr *)&ss, len))
		result = -errno;
	getsockname(fd, (struct sockaddr *)&local, &llen);
	local_port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
						       : ((struct sockaddr_in *)&local)->sin_port);
	printf("{\"pid\":%d,\"fd\":%d,\"local_port\":%d,\"result\":%d}\n", getpid(), fd, local_port, result);
	return 0;
}
