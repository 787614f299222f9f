/*
 * Makes directories in DIR through mkdir and mkdirat (dirfd, and cwd-relative), and fails one
 * that exists. Run with DIR as the cwd.
 * Usage: file-mkdir DIR. Prints {"pid", "dirfd", "calls": {name: result or -errno}}.
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
	char path[4096];
	int dirfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"calls\":{", getpid(), dirfd);
	snprintf(path, sizeof(path), "%s/m1", argv[1]);
	call("mkdir", syscall(SYS_mkdir, path, 0750));
	call("mkdirat", syscall(SYS_mkdirat, dirfd, "m2", 0700));
	call("mkdirat_cwd", syscall(SYS_mkdirat, AT_FDCWD, "m1/m3", 01777));
	call("mkdir_exists", syscall(SYS_mkdir, path, 0755));
	printf("}}\n");
	return 0;
}
