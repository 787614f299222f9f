/*
 * loop open PATH N     open(PATH, O_RDONLY) and close, N times
 * loop connect PORT N  TCP connect to 127.0.0.1:PORT and close, N times (a thread accepts)
 * loop mixed N         per round: four opens in /tmp and /etc, a UDP connect, and every 64th
 *                      round a fork of a child that exits; N rounds
 * Prints one JSON line: ops, seconds, ns_per_op.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *acceptor(void *arg)
{
	int listener = *(int *)arg;
	for (;;) {
		int c = accept(listener, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	return NULL;
}

static int open_close(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int connect_close(int type, struct sockaddr_in *to)
{
	int s = socket(AF_INET, type, 0);
	if (s < 0)
		return -1;
	/* Closing with a reset leaves no TIME_WAIT, so a long loop does not run out of ports. */
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	int r = connect(s, (struct sockaddr *)to, sizeof(*to));
	setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(s);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s open PATH N | open-missing PATH N | connect PORT N | mixed N\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[argc - 1]);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double start;

	if (strcmp(mode, "open") == 0 && argc == 4) {
		if (open_close(argv[2]) < 0) {
			perror(argv[2]);
			return 1;
		}
		start = now();
		for (long i = 0; i < n; i++)
			open_close(argv[2]);
	} else if (strcmp(mode, "open-missing") == 0 && argc == 4) {
		if (open(argv[2], O_RDONLY) >= 0) {
			fprintf(stderr, "%s: exists\n", argv[2]);
			return 1;
		}
		start = now();
		for (long i = 0; i < n; i++)
			open(argv[2], O_RDONLY);
	} else if (strcmp(mode, "connect") == 0 && argc == 4) {
		int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		pthread_t t;
		setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		to.sin_port = htons(atoi(argv[2]));
		if (bind(listener, (struct sockaddr *)&to, sizeof(to)) || listen(listener, 4096)) {
			perror("listen");
			return 1;
		}
		pthread_create(&t, NULL, acceptor, &listener);
		start = now();
		for (long i = 0; i < n; i++)
			if (connect_close(SOCK_STREAM, &to)) {
				perror("connect");
				return 1;
			}
	} else if (strcmp(mode, "mixed") == 0 && argc == 3) {
		int fd = open("/tmp/vigil-loop", O_CREAT | O_WRONLY, 0600);
		if (fd < 0) {
			perror("/tmp/vigil-loop");
			return 1;
		}
		close(fd);
		to.sin_port = htons(9);
		start = now();
		for (long i = 0; i < n; i++) {
			open_close("/tmp/vigil-loop");
			open_close("/etc/hostname");
			open_close("/etc/passwd");
			open_close("/tmp");
			connect_close(SOCK_DGRAM, &to);
			if (i % 64 == 0) {
				pid_t pid = fork();
				if (pid == 0)
					_exit(0);
				waitpid(pid, NULL, 0);
			}
		}
		unlink("/tmp/vigil-loop");
	} else {
		fprintf(stderr, "usage: %s open PATH N | open-missing PATH N | connect PORT N | mixed N\n", argv[0]);
		return 2;
	}
	double elapsed = now() - start;
	printf("{\"ops\":%ld,\"seconds\":%.3f,\"ns_per_op\":%.1f}\n", n, elapsed, elapsed * 1e9 / n);
	return 0;
}
