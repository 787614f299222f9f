/*
 * Makes symbolic links in DIR through symlink and symlinkat (dirfd, and cwd-relative), and fails
 * one that exists. Run with DIR as the cwd.
 * Usage: file-symlink DIR. Prints {"pid", "dirfd", "calls": {name: result or -errno}}.
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
	snprintf(path, sizeof(path), "%s/s1", argv[1]);
	call("symlink", syscall(SYS_symlink, "/etc/passwd", path));
	call("symlinkat", syscall(SYS_symlinkat, "../target", dirfd, "s2"));
	call("symlinkat_cwd", syscall(SYS_symlinkat, "s1", AT_FDCWD, "s3"));
	call("symlink_exists", syscall(SYS_symlink, "t", path));
	printf("}}\n");
	return 0;
}
