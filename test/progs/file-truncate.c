/*
 * Truncates DIR/t1 through truncate and ftruncate, and fails two truncates (a missing file, a
 * negative length). Run with DIR as the cwd, after the test made DIR/t1.
 * Usage: file-truncate DIR. Prints {"pid", "fd", "calls": {name: result or -errno}}.
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
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/t1", argv[1]);
	fd = open(path, O_WRONLY);
	printf("{\"pid\":%d,\"fd\":%d,\"calls\":{", getpid(), fd);
	call("truncate", syscall(SYS_truncate, path, 4096L * 1024 * 1024 * 5));
	call("ftruncate", syscall(SYS_ftruncate, fd, 7L));
	call("truncate_negative", syscall(SYS_truncate, path, -1L));
	snprintf(path, sizeof(path), "%s/missing", argv[1]);
	call("truncate_missing", syscall(SYS_truncate, path, 1L));
	printf("}}\n");
	return 0;
}
