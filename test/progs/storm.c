/*
 * storm exec WORKERS SECONDS PROGRAM: each worker vforks and execs PROGRAM and reaps it.
 * storm fork WORKERS SECONDS: each worker forks a child that exits at once and reaps it.
 * As fast as it can, for SECONDS; prints one JSON line: ops, seconds, ops_per_sec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static long worker(int exec_mode, char *prog, double start, double seconds)
{
	char *args[] = { prog, NULL };
	char *env[] = { NULL };
	long n = 0;

	while (now() - start < seconds) {
		pid_t pid = exec_mode ? vfork() : fork();
		if (pid == 0) {
			if (exec_mode)
				execve(prog, args, env);
			_exit(exec_mode ? 127 : 0);
		}
		if (pid < 0)
			break;
		waitpid(pid, NULL, 0);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	int exec_mode = argc == 5 && strcmp(argv[1], "exec") == 0;
	if (!exec_mode && !(argc == 4 && strcmp(argv[1], "fork") == 0)) {
		fprintf(stderr, "usage: %s exec WORKERS SECONDS PROGRAM | fork WORKERS SECONDS\n", argv[0]);
		return 2;
	}
	int workers = atoi(argv[2]);
	double seconds = atof(argv[3]);
	long *counts = mmap(NULL, sizeof(long) * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return 1;
	double start = now();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			counts[w] = worker(exec_mode, exec_mode ? argv[4] : NULL, start, seconds);
			_exit(0);
		}
	}
	while (wait(NULL) > 0) {
	}
	double elapsed = now() - start;
	long total = 0;
	for (int w = 0; w < workers; w++)
		total += counts[w];
	printf("{\"ops\":%ld,\"seconds\":%.3f,\"ops_per_sec\":%.0f}\n", total, elapsed, total / elapsed);
	return 0;
}
