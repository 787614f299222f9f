/*
 * Opens and closes one path in a loop, for measuring what the sensor adds to an open.
 * Usage: file-open-loop PATH [COUNT] [denied]. Prints {"pid", "count", "ns_per_op"}. With
 * "denied" every open must fail with EPERM (an enforcement rule refuses it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec start, end;
	long count, i;
	double ns;
	int denied = argc > 3 && strcmp(argv[3], "denied") == 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH [COUNT]\n", argv[0]);
		return 2;
	}
	count = argc > 2 ? atol(argv[2]) : 1000000;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < count; i++) {
		int fd = open(argv[1], O_RDONLY);

		if (denied && fd < 0 && errno == EPERM)
			continue;
		if (fd < 0 || denied) {
			fprintf(stderr, "%s: %s\n", argv[1], fd < 0 ? strerror(errno) : "opened, not denied");
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
	printf("{\"pid\":%d,\"count\":%ld,\"ns_per_op\":%.1f}\n", getpid(), count, ns / count);
	return 0;
}
