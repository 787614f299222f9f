/*
 * mem-memfd memfd NAME: memfd_create(NAME, MFD_CLOEXEC), copies /bin/true into it and runs it
 *   with fexecve (execveat(fd, "", AT_EMPTY_PATH)), argv ["fileless", "memfd"]. Before that, a
 *   memfd_create with a 300-byte name, which fails with EINVAL.
 * mem-memfd deleted PATH: copies /bin/true to PATH, opens it, unlinks it and runs the open file
 *   the same way, argv ["fileless", "deleted"].
 * Prints one JSON line (pid, fd, the file's inode and device) before the exec; /bin/true then exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* One JSON line about the file to be run, flushed: the exec replaces this program. */
static void report(int fd, const char *extra)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		st.st_ino = st.st_dev = 0;
	printf("{\"pid\":%d,\"fd\":%d,\"ino\":\"%llu\",\"dev\":\"%llu\"%s}\n", getpid(), fd,
	       (unsigned long long)st.st_ino, (unsigned long long)st.st_dev, extra);
	fflush(stdout);
}

static int copy_true(int out)
{
	char buf[65536];
	ssize_t n;
	int in = open("/bin/true", O_RDONLY);

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n)
			return -1;
	}
	close(in);
	return n == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	extern char **environ;
	int fd;

	if (argc != 3 || (strcmp(argv[1], "memfd") != 0 && strcmp(argv[1], "deleted") != 0)) {
		fprintf(stderr, "usage: %s memfd NAME | deleted PATH\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "memfd") == 0) {
		char *args[] = { "fileless", "memfd", NULL };
		char long_name[301], extra[64];
		int bad, bad_errno;

		memset(long_name, 'n', 300);
		long_name[300] = '\0';
		bad = memfd_create(long_name, 0);
		bad_errno = errno;
		fd = memfd_create(argv[2], MFD_CLOEXEC);
		if (fd < 0 || bad >= 0 || copy_true(fd) != 0)
			return 1;
		snprintf(extra, sizeof(extra), ",\"long_name_errno\":%d", bad_errno);
		report(fd, extra);
		fexecve(fd, args, environ);
		return 1;
	} else {
		char *args[] = { "fileless", "deleted", NULL };
		int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0700);

		if (out < 0 || copy_true(out) != 0 || close(out) != 0)
			return 1;
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || unlink(argv[2]) != 0)
			return 1;
		report(fd, "");
		fexecve(fd, args, environ);
		return 1;
	}
}
