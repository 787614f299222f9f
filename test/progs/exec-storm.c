/*
 * exec-storm WORKERS SECONDS PROGRAM: each worker vforks and execs PROGRAM and waits for it, as
 * fast as it can, for SECONDS. Prints one JSON line: execs, seconds, execs_per_sec.
 */
#include <signal.h>
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
	if (argc != 4) {
		fprintf(stderr, "usage: %s WORKERS SECONDS PROGRAM\n", argv[0]);
		return 2;
	}
	int workers = atoi(argv[1]);
	double seconds = atof(argv[2]);
	char *prog = argv[3];
	long *counts = mmap(NULL, sizeof(long) * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) return 1;
	double start = now();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			char *args[] = { prog, NULL };
			char *env[] = { NULL };
			long n = 0;
			while (now() - start < seconds) {
				pid_t pid = vfork();
				if (pid == 0) {
					execve(prog, args, env);
					_exit(127);
				}
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
	printf("{\"execs\":%ld,\"seconds\":%.3f,\"execs_per_sec\":%.0f}\n", total, elapsed, total / elapsed);
	return 0;
}
