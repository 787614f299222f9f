/*
 * mem-wx FILE: asks for writable and executable memory in every way the sensor reports, once
 * each, after one request that is executable but not writable (which must not be reported):
 *   mmap of anonymous memory RWX; mprotect of an RW mapping to RWX; pkey_mprotect to RWX;
 *   mmap of FILE (made one page long) RWX and MAP_PRIVATE; mprotect RWX of an unmapped page (ENOMEM).
 * Prints one JSON line with the pid, the addresses (as decimal strings) and the results.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	void *rx = mmap(NULL, 5 * PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *anon = mmap(NULL, 3 * PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *rw = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rx == MAP_FAILED || anon == MAP_FAILED || rw == MAP_FAILED)
		return 1;
	long mprotect_result = syscall(SYS_mprotect, rw, 2 * PAGE, RWX);
	long pkey_result = syscall(SYS_pkey_mprotect, rw, PAGE, RWX, -1);

	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, PAGE) != 0)
		return 1;
	void *file = mmap(NULL, PAGE, RWX, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		return 1;

	/* A page that was mapped and is no more: mprotect fails with ENOMEM. */
	void *gone = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (gone == MAP_FAILED || munmap(gone, PAGE) != 0)
		return 1;
	long gone_result = syscall(SYS_mprotect, gone, PAGE, RWX);
	long gone_errno = gone_result < 0 ? errno : 0;

	printf("{\"pid\":%d,\"rx\":\"%lu\",\"anon\":\"%lu\",\"rw\":\"%lu\",\"mprotect\":%ld,\"pkey_mprotect\":%ld,"
	       "\"fd\":%d,\"file\":\"%lu\",\"gone\":\"%lu\",\"gone_errno\":%ld}\n",
	       getpid(), (unsigned long)rx, (unsigned long)anon, (unsigned long)rw, mprotect_result, pkey_result, fd,
	       (unsigned long)file, (unsigned long)gone, gone_errno);
	return 0;
}
