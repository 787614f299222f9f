/*
 * proc-signal: signals itself first (kill and tgkill of its own pid with SIGCHLD, which it
 * ignores; not to be reported), then forks four children that wait and ends them with kill
 * SIGTERM, tgkill SIGKILL, tkill SIGKILL and sigqueue SIGTERM, and sends signal 0 to a pid that
 * no longer exists (ESRCH). Prints one JSON line with the pids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t waiting_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

int main(void)
{
	union sigval value = { .sival_int = 7 };
	int status;

	signal(SIGCHLD, SIG_IGN);
	kill(getpid(), SIGCHLD);
	syscall(SYS_tgkill, getpid(), gettid(), SIGCHLD);
	signal(SIGCHLD, SIG_DFL);

	pid_t a = waiting_child(), b = waiting_child(), c = waiting_child(), d = waiting_child();
	if (a < 0 || b < 0 || c < 0 || d < 0)
		return 1;
	long r_kill = kill(a, SIGTERM);
	long r_tgkill = syscall(SYS_tgkill, b, b, SIGKILL);
	long r_tkill = syscall(SYS_tkill, c, SIGKILL);
	long r_sigqueue = sigqueue(d, SIGTERM, value);
	for (int i = 0; i < 4; i++)
		wait(&status);

	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	if (gone < 0 || waitpid(gone, &status, 0) != gone)
		return 1;
	long r_gone = kill(gone, 0);
	int gone_errno = r_gone < 0 ? errno : 0;

	printf("{\"pid\":%d,\"tid\":%d,\"children\":[%d,%d,%d,%d],\"results\":[%ld,%ld,%ld,%ld],\"gone\":%d,"
	       "\"gone_errno\":%d}\n",
	       getpid(), gettid(), a, b, c, d, r_kill, r_tgkill, r_tkill, r_sigqueue, gone, gone_errno);
	return 0;
}
