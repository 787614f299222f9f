/*
 * kernel-ns: changes namespaces every way there is, each with known arguments: unshare of a
 * mount and a UTS namespace, an unshare with an invalid flag beside CLONE_NEWNET (rejected),
 * setns back into the UTS namespace it started in by its /proc file (opened before), setns of
 * that file with the wrong nstype (rejected), setns by a pidfd of its parent, clone and clone3
 * into new namespaces, and a plain fork (which is no namespace change). Prints one JSON line with what the events must show.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long result(long ret)
{
	return ret < 0 ? -errno : ret;
}

/* The child exits at once; the parent reaps it and gets its pid or -errno. */
static long reaped(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return result(pid);
}

int main(void)
{
	unsigned long unshare_flags = CLONE_NEWNS | CLONE_NEWUTS;
	unsigned long bad_flags = CLONE_NEWNET | CLONE_PARENT;
	unsigned long clone_flags = CLONE_NEWUTS | SIGCHLD;
	struct clone_args args;
	long unshared, bad, joined, wrong, by_pidfd, cloned, cloned3, forked;
	struct stat st;
	int uts, pidfd;

	uts = open("/proc/self/ns/uts", O_RDONLY);
	if (uts < 0 || fstat(uts, &st) < 0) {
		perror("/proc/self/ns/uts");
		return 1;
	}
	unshared = result(unshare(unshare_flags));
	bad = result(unshare(bad_flags));

	joined = result(setns(uts, CLONE_NEWUTS));
	wrong = result(setns(uts, CLONE_NEWNET));

	pidfd = (int)syscall(SYS_pidfd_open, getppid(), 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		return 1;
	}
	by_pidfd = result(setns(pidfd, CLONE_NEWUTS | CLONE_NEWIPC));

	cloned = reaped(syscall(SYS_clone, clone_flags, 0, NULL, NULL, 0));

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_NEWNET | CLONE_NEWIPC;
	args.exit_signal = SIGCHLD;
	cloned3 = reaped(syscall(SYS_clone3, &args, sizeof(args)));

	forked = reaped(fork());

	printf("{\"pid\":%d,\"unshare_flags\":%lu,\"unshare\":%ld,\"bad_flags\":%lu,\"bad\":%ld,"
	       "\"uts_fd\":%d,\"uts_inum\":%lu,\"setns\":%ld,\"wrong\":%ld,"
	       "\"pidfd\":%d,\"pidfd_flags\":%d,\"by_pidfd\":%ld,"
	       "\"clone_flags\":%lu,\"clone\":%ld,\"clone3_flags\":%llu,\"clone3\":%ld,\"fork\":%ld}\n",
	       getpid(), unshare_flags, unshared, bad_flags, bad, uts, (unsigned long)st.st_ino, joined, wrong,
	       pidfd, CLONE_NEWUTS | CLONE_NEWIPC, by_pidfd, clone_flags, cloned, (unsigned long long)args.flags,
	       cloned3, forked);
	return 0;
}
