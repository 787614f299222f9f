/*
 * Changes the mode of DIR/c1 through chmod, fchmod, fchmodat (dirfd) and fchmodat2
 * (cwd-relative, AT_SYMLINK_NOFOLLOW), and fails one chmod. Run with DIR as the cwd, after the
 * test made DIR/c1.
 * Usage: file-chmod DIR. Prints {"pid", "dirfd", "fd", "calls": {name: result or -errno}}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calls.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

int main(int argc, char **argv)
{
	char path[4096];
	int dirfd, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/c1", argv[1]);
	fd = open(path, O_RDONLY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"fd\":%d,\"calls\":{", getpid(), dirfd, fd);
	call("chmod", syscall(SYS_chmod, path, 04755));
	call("fchmod", syscall(SYS_fchmod, fd, 0640));
	call("fchmodat", syscall(SYS_fchmodat, dirfd, "c1", 0604));
	call("fchmodat2", syscall(SYS_fchmodat2, AT_FDCWD, "c1", 0600, AT_SYMLINK_NOFOLLOW));
	snprintf(path, sizeof(path), "%s/missing", argv[1]);
	call("chmod_missing", syscall(SYS_chmod, path, 0600));
	printf("}}\n");
	return 0;
}
