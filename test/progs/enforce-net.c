/*
 * Socket calls an enforcement rule may refuse, repeated:
 *   enforce-net connect|bind|sendto ADDRESS PORT [COUNT]
 * connect: a TCP connect to ADDRESS:PORT (IPv4 or IPv6); bind: a TCP bind to it; sendto: one
 * UDP datagram to it. Each round uses a new socket. Prints how many calls succeeded and how many
 * failed with each errno, as JSON: {"ok":N,"EPERM":N,"other":N,"last_errno":E}.
 */
#define _GNU_SOURCE
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
	struct sockaddr_storage ss;
	socklen_t len;
	long count, ok = 0, eperm = 0, other = 0;
	int last = 0, family, type;

	if (argc < 4) {
		fprintf(stderr, "usage: enforce-net connect|bind|sendto ADDRESS PORT [COUNT]\n");
		return 2;
	}
	count = argc > 4 ? atol(argv[4]) : 1;
	memset(&ss, 0, sizeof(ss));
	if (strchr(argv[2], ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		family = AF_INET6;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET6, argv[2], &in6->sin6_addr) != 1)
			return 2;
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		family = AF_INET;
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &in->sin_addr) != 1)
			return 2;
		len = sizeof(*in);
	}
	type = strcmp(argv[1], "sendto") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	for (long i = 0; i < count; i++) {
		int fd = socket(family, type, 0), r;

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		if (strcmp(argv[1], "connect") == 0)
			r = connect(fd, (struct sockaddr *)&ss, len);
		else if (strcmp(argv[1], "bind") == 0)
			r = bind(fd, (struct sockaddr *)&ss, len);
		else
			r = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1 ? 0 : -1;
		if (r == 0)
			ok++;
		else if (errno == EPERM)
			eperm++;
		else
			other++;
		if (r)
			last = errno;
		close(fd);
	}
	printf("{\"ok\":%ld,\"EPERM\":%ld,\"other\":%ld,\"last_errno\":%d}\n", ok, eperm, other, last);
	return 0;
}
