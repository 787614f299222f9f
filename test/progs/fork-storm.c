/*
 * fork-storm WORKERS SECONDS: each worker forks a child that exits at once and reaps it, as
 * fast as it can, for SECONDS. Prints one JSON line: forks, seconds, forks_per_sec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s WORKERS SECONDS\n", argv[0]);
		return 2;
	}
	int workers = atoi(argv[1]);
	double seconds = atof(argv[2]);
	long *counts = mmap(NULL, sizeof(long) * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) return 1;
	double start = now();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			long n = 0;
			while (now() - start < seconds) {
				pid_t pid = fork();
				if (pid == 0) _exit(0);
				if (pid < 0) break;
				waitpid(pid, NULL, 0);
				n++;
			}
			counts[w] = n;
			_exit(0);
		}
	}
	while (wait(NULL) > 0) {
	}
	double elapsed = now() - start;
	long total = 0;
	for (int w = 0; w < workers; w++) total += counts[w];
	printf("{\"forks\":%ld,\"seconds\":%.3f,\"forks_per_sec\":%.0f}\n", total, elapsed, total / elapsed);
	return 0;
}
