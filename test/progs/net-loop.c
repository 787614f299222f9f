/*
 * A loop of one socket operation over loopback, for measuring what the sensor adds to it:
 *   net-loop MODE COUNT
 * MODE: udp (socket, connect to 127.0.0.1:9, close), tcp (connect to a local listener, accept,
 * close both), sendto (a datagram to 127.0.0.1:9 on one unconnected socket), dns (a DNS query to
 * 127.0.0.1:53 on one unconnected socket), write (one byte to /dev/null). Prints the count and
 * the nanoseconds per iteration as JSON.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "udp";
	long count = argc > 2 ? atol(argv[2]) : 10000;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t len = sizeof(sin);
	int lfd = -1, fd = -1;
	double start;
	long i;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (strcmp(mode, "tcp") == 0) {
		sin.sin_port = 0;
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, len) || listen(lfd, 128) ||
		    getsockname(lfd, (struct sockaddr *)&sin, &len))
			die("listener");
	} else if (strcmp(mode, "sendto") == 0 || strcmp(mode, "dns") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (strcmp(mode, "dns") == 0)
			sin.sin_port = htons(53);
	} else if (strcmp(mode, "write") == 0) {
		fd = open("/dev/null", O_WRONLY);
	} else if (strcmp(mode, "udp") != 0) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	start = now_ns();
	for (i = 0; i < count; i++) {
		if (strcmp(mode, "udp") == 0) {
			fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd < 0 || connect(fd, (struct sockaddr *)&sin, len))
				die("connect");
			close(fd);
		} else if (strcmp(mode, "tcp") == 0) {
			int afd;

			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (struct sockaddr *)&sin, len))
				die("connect");
			afd = accept(lfd, NULL, NULL);
			if (afd < 0)
				die("accept");
			close(fd);
			close(afd);
		} else if (strcmp(mode, "sendto") == 0) {
			if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, len) != 1)
				die("sendto");
		} else if (strcmp(mode, "dns") == 0) {
			/* id 1, RD, one question: example.invalid A IN */
			static const char q[] = "\0\1\1\0\0\1\0\0\0\0\0\0\7example\7invalid\0\0\1\0\1";

			if (sendto(fd, q, sizeof(q) - 1, 0, (struct sockaddr *)&sin, len) != sizeof(q) - 1)
				die("sendto");
		} else if (write(fd, "x", 1) != 1) {
			die("write");
		}
	}
	printf("{\"mode\":\"%s\",\"count\":%ld,\"ns_per_op\":%.0f}\n", mode, count, (now_ns() - start) / count);
	return 0;
}
