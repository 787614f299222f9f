/*
 * proc-ptrace: forks a child that waits, PTRACE_ATTACHes to it, pokes a word into its memory
 * (PTRACE_POKEDATA at the address of a global, which fork left at the same address), and detaches
 * and kills it; attaches to a pid that no longer exists (ESRCH); and forks a child that calls
 * PTRACE_TRACEME and exits. Prints one JSON line with the pids, the address and the word.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned long word = 1;

int main(void)
{
	unsigned long poke = 0x5a5a1234;
	int status;

	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	if (child < 0)
		return 1;
	long attach = ptrace(PTRACE_ATTACH, child, NULL, NULL);
	if (attach != 0 || waitpid(child, &status, 0) != child)
		return 1;
	long pokedata = ptrace(PTRACE_POKEDATA, child, (void *)&word, (void *)poke);
	ptrace(PTRACE_DETACH, child, NULL, NULL);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	if (gone < 0 || waitpid(gone, &status, 0) != gone)
		return 1;
	long attach_gone = ptrace(PTRACE_ATTACH, gone, NULL, NULL);
	int attach_gone_errno = attach_gone < 0 ? errno : 0;

	pid_t tracee = fork();
	if (tracee == 0)
		_exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : 1);
	if (tracee < 0 || waitpid(tracee, &status, 0) != tracee || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;

	printf("{\"pid\":%d,\"child\":%d,\"addr\":\"%lu\",\"data\":\"%lu\",\"pokedata\":%ld,\"gone\":%d,"
	       "\"gone_errno\":%d,\"tracee\":%d}\n",
	       getpid(), child, (unsigned long)&word, poke, pokedata, gone, attach_gone_errno, tracee);
	return 0;
}
