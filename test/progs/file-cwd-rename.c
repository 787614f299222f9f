/*
 * Opens a file relative to its cwd, renames an ancestor of the cwd, and opens another: the
 * second open's directory has a new path although its dentry, inode and parent are the same.
 * Usage: file-cwd-rename CWD FROM TO, with CWD below FROM. Creates CWD/x and CWD/y.
 * Prints {"pid", "calls": {name: result or -errno}}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calls.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s CWD FROM TO\n", argv[0]);
		return 2;
	}
	if (chdir(argv[1])) {
		perror(argv[1]);
		return 1;
	}
	printf("{\"pid\":%d,\"calls\":{", getpid());
	call("open_before", syscall(SYS_openat, AT_FDCWD, "x", O_WRONLY | O_CREAT, 0600));
	call("rename", syscall(SYS_rename, argv[2], argv[3]));
	call("open_after", syscall(SYS_openat, AT_FDCWD, "y", O_WRONLY | O_CREAT, 0600));
	printf("}}\n");
	return 0;
}
