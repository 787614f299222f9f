/*
 * Renames in DIR through rename, renameat (dirfd to cwd-relative) and renameat2 with
 * RENAME_NOREPLACE, and fails one rename. Run with DIR as the cwd, after the test made DIR/r1,
 * DIR/r2 and DIR/r3.
 * Usage: file-rename DIR. Prints {"pid", "dirfd", "calls": {name: result or -errno}}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calls.h"

int main(int argc, char **argv)
{
	char from[4096], to[4096];
	int dirfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	printf("{\"pid\":%d,\"dirfd\":%d,\"calls\":{", getpid(), dirfd);
	snprintf(from, sizeof(from), "%s/r1", argv[1]);
	snprintf(to, sizeof(to), "%s/r1b", argv[1]);
	call("rename", syscall(SYS_rename, from, to));
	call("renameat", syscall(SYS_renameat, dirfd, "r2", AT_FDCWD, "r2b"));
	snprintf(from, sizeof(from), "%s/r3", argv[1]);
	call("renameat2", syscall(SYS_renameat2, AT_FDCWD, from, dirfd, "r3b", RENAME_NOREPLACE));
	snprintf(from, sizeof(from), "%s/missing", argv[1]);
	call("rename_missing", syscall(SYS_rename, from, to));
	printf("}}\n");
	return 0;
}
