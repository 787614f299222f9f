/*
 * Removes names in DIR through unlink, unlinkat (relative to a dirfd, and AT_REMOVEDIR
 * relative to the cwd) and rmdir, and fails one unlink. Run with DIR as the cwd, after the test
 * made DIR/u1, DIR/u2, DIR/d1/ and DIR/d2/.
 * Usage: file-unlink DIR. Prints {"pid", "dirfd", "calls": {name: result or -errno}}.
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
	snprintf(path, sizeof(path), "%s/u1", argv[1]);
	call("unlink", syscall(SYS_unlink, path));
	call("unlinkat", syscall(SYS_unlinkat, dirfd, "u2", 0));
	call("unlinkat_removedir", syscall(SYS_unlinkat, AT_FDCWD, "d1", AT_REMOVEDIR));
	snprintf(path, sizeof(path), "%s/d2", argv[1]);
	call("rmdir", syscall(SYS_rmdir, path));
	snprintf(path, sizeof(path), "%s/missing", argv[1]);
	call("unlink_missing", syscall(SYS_unlink, path));
	printf("}}\n");
	return 0;
}
