/*
 * Makes hard links to DIR/l1 through link, linkat (dirfd to cwd-relative) and linkat with
 * AT_EMPTY_PATH (an fd as the existing name), and fails one link. Run with DIR as the cwd,
 * after the test made DIR/l1.
 * Usage: file-link DIR. Prints {"pid", "dirfd", "fd", "calls": {name: result or -errno}}.
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
	char from[4096], to[4096];
	int dirfd, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	snprintf(from, sizeof(from), "%s/l1", argv[1]);
	fd = open(from, O_RDONLY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"fd\":%d,\"calls\":{", getpid(), dirfd, fd);
	snprintf(to, sizeof(to), "%s/l1b", argv[1]);
	call("link", syscall(SYS_link, from, to));
	call("linkat", syscall(SYS_linkat, dirfd, "l1", AT_FDCWD, "l1c", 0));
	call("linkat_empty_path", syscall(SYS_linkat, fd, "", dirfd, "l1d", AT_EMPTY_PATH));
	snprintf(from, sizeof(from), "%s/missing", argv[1]);
	call("link_missing", syscall(SYS_link, from, to));
	printf("}}\n");
	return 0;
}
