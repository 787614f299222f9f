/*
 * A Unix stream connection: net-unix NAME, where NAME is a path or "@name" for an abstract
 * name. The server binds NAME and listens with a backlog of 3, the client connects, the server
 * accepts with no address buffer. Prints the fds as JSON.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *name = argc > 1 ? argv[1] : "@vigil-net-unix";
	size_t n = strlen(name);
	socklen_t len;
	int lfd, cfd, afd;

	if (n >= sizeof(sun.sun_path))
		die("name too long");
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@') {
		/* Abstract: a leading NUL, and the length says where the name ends. */
		sun.sun_path[0] = '\0';
		len = offsetof(struct sockaddr_un, sun_path) + n;
	} else {
		unlink(name);
		len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, len) || listen(lfd, 3))
		die("server");
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sun, len))
		die("connect");
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		die("accept");
	printf("{\"pid\":%d,\"listen_fd\":%d,\"client_fd\":%d,\"accept_fd\":%d}\n", getpid(), lfd, cfd, afd);
	if (name[0] != '@')
		unlink(name);
	return 0;
}
