/*
 * Opens files in DIR through every open syscall, each with known arguments: open, openat
 * (relative to the cwd and to a dirfd), openat2, creat, a symlink, a path with "..", and
 * opens that fail. Run with DIR as the cwd, after the test made DIR/sub/ and DIR/link -> a.
 * Usage: file-open DIR. Prints {"pid", "dirfd", "calls": {name: result or -errno}}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calls.h"

int main(int argc, char **argv)
{
	struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
	char path[4096];
	int dirfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"calls\":{", getpid(), dirfd);
	snprintf(path, sizeof(path), "%s/a", argv[1]);
	call("open_create", syscall(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, 0640));
	call("openat_cwd", syscall(SYS_openat, AT_FDCWD, "a", O_RDONLY | O_CLOEXEC));
	call("openat_dirfd", syscall(SYS_openat, dirfd, "a", O_RDWR | O_APPEND));
	call("openat2", syscall(SYS_openat2, dirfd, "a", &how, sizeof(how)));
	snprintf(path, sizeof(path), "%s/b", argv[1]);
	call("creat", syscall(SYS_creat, path, 0600));
	snprintf(path, sizeof(path), "%s/link", argv[1]);
	call("open_symlink", syscall(SYS_open, path, O_RDONLY));
	call("openat_dotdot", syscall(SYS_openat, AT_FDCWD, "sub/../a", O_RDONLY));
	snprintf(path, sizeof(path), "%s/missing", argv[1]);
	call("open_missing", syscall(SYS_open, path, O_RDONLY));
	call("openat_missing", syscall(SYS_openat, dirfd, "nodir/x", O_WRONLY | O_CREAT, 0600));
	printf("}}\n");
	return 0;
}
