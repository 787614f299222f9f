/*
 * Changes the owner of DIR/o1 through chown, lchown (group only), fchown (owner only) and
 * fchownat (dirfd, AT_SYMLINK_NOFOLLOW), and fails one chown. Run with DIR as the cwd, after
 * the test made DIR/o1.
 * Usage: file-chown DIR. Prints {"pid", "dirfd", "fd", "calls": {name: result or -errno}}.
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
	int dirfd, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/o1", argv[1]);
	fd = open(path, O_RDONLY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"fd\":%d,\"calls\":{", getpid(), dirfd, fd);
	call("chown", syscall(SYS_chown, path, 1234, 5678));
	call("lchown", syscall(SYS_lchown, path, -1, 42));
	call("fchown", syscall(SYS_fchown, fd, 7, -1));
	call("fchownat", syscall(SYS_fchownat, dirfd, "o1", 0, 0, AT_SYMLINK_NOFOLLOW));
	snprintf(path, sizeof(path), "%s/missing", argv[1]);
	call("chown_missing", syscall(SYS_chown, path, 0, 0));
	printf("}}\n");
	return 0;
}
