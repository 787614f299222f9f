/*
 * Socket calls that fail, each with a known errno, on loopback:
 *   connect to a port nobody listens on (ECONNREFUSED), bind to a port in use (EADDRINUSE),
 *   listen on a UDP socket (EOPNOTSUPP), accept with nothing pending on a non-blocking
 *   listener (EAGAIN), connect on a descriptor that is no socket (ENOTSOCK).
 * Prints each call's fd, port and result as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	return sin;
}

/* A bound, not listening TCP socket: its port refuses connections. */
static int bound(int *port)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len))
		die("bind");
	*port = ntohs(sin.sin_port);
	return fd;
}

int main(void)
{
	struct sockaddr_in sin;
	int port, refused_fd, inuse_fd, udp_fd, accept_fd, null_fd;
	int refused, inuse, listen_udp, accept_again, notsock;

	bound(&port);
	sin = loopback(port);
	refused_fd = socket(AF_INET, SOCK_STREAM, 0);
	refused = connect(refused_fd, (struct sockaddr *)&sin, sizeof(sin)) ? -errno : 0;

	inuse_fd = socket(AF_INET, SOCK_STREAM, 0);
	inuse = bind(inuse_fd, (struct sockaddr *)&sin, sizeof(sin)) ? -errno : 0;

	udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	listen_udp = listen(udp_fd, 5) ? -errno : 0;

	accept_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sin = loopback(0);
	if (bind(accept_fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(accept_fd, 1))
		die("listen");
	accept_again = accept(accept_fd, NULL, NULL) < 0 ? -errno : 0;

	null_fd = open("/dev/null", O_RDONLY);
	sin = loopback(port);
	notsock = connect(null_fd, (struct sockaddr *)&sin, sizeof(sin)) ? -errno : 0;

	printf("{\"pid\":%d,\"port\":%d,\"refused_fd\":%d,\"refused\":%d,\"inuse_fd\":%d,\"inuse\":%d,"
	       "\"udp_fd\":%d,\"listen_udp\":%d,\"accept_fd\":%d,\"accept_again\":%d,\"null_fd\":%d,\"notsock\":%d}\n",
	       getpid(), port, refused_fd, refused, inuse_fd, inuse, udp_fd, listen_udp, accept_fd, accept_again, null_fd,
	       notsock);
	return 0;
}
