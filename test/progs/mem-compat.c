/*
 * mem-compat: 32-bit (ia32) syscalls from a 64-bit process, through int 0x80, whose numbers are
 * x86-64's mmap and mprotect: ia32's link (9) and unlink (10), on names that do not exist and
 * with a third register that reads as PROT_READ | PROT_WRITE | PROT_EXEC. Then one 64-bit RWX
 * mmap, the only request for writable and executable memory here.
 * Prints {"pid", "link", "unlink" (-errno; -38 without ia32 emulation), "mmap" (decimal string)}.
 * x86-64 only: elsewhere it prints {"pid", "skipped": true}.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)
#define IA32_LINK 9
#define IA32_UNLINK 10

static long ia32_syscall(long nr, unsigned int a, unsigned int b, unsigned int c)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(void)
{
	/* ia32 syscalls take 32-bit pointers: the names must live below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED)
		return 1;
	strcpy(low, "/nonexistent/vigil-a");
	strcpy(low + 64, "/nonexistent/vigil-b");
	long link_result = ia32_syscall(IA32_LINK, (unsigned long)low, (unsigned long)(low + 64), RWX);
	long unlink_result = ia32_syscall(IA32_UNLINK, (unsigned long)low, 0, RWX);
	void *rwx = mmap(NULL, 4096, RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rwx == MAP_FAILED)
		return 1;
	printf("{\"pid\":%d,\"link\":%ld,\"unlink\":%ld,\"mmap\":\"%lu\"}\n", getpid(), link_result, unlink_result,
	       (unsigned long)rwx);
	return 0;
}
#else
int main(void)
{
	printf("{\"pid\":%d,\"skipped\":true}\n", getpid());
	return 0;
}
#endif
