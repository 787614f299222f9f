/*
 * kernel-module DIR: tries to load a module twice, from a bogus image in memory (init_module)
 * and from a bogus file DIR/vigil-bogus.ko (finit_module), each with parameters. Neither can
 * succeed; the kernel's error is the point. Prints one JSON line with both results (-errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IMAGE_LEN 4096
#define IGNORE_VERMAGIC 2 /* MODULE_INIT_IGNORE_VERMAGIC */

static long result(long ret)
{
	return ret < 0 ? -errno : ret;
}

int main(int argc, char **argv)
{
	static char image[IMAGE_LEN];
	char path[PATH_MAX];
	long init, finit;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: kernel-module DIR\n");
		return 2;
	}
	memset(image, 0x5a, sizeof(image));
	init = result(syscall(SYS_init_module, image, sizeof(image), "vigil_init=1"));

	snprintf(path, sizeof(path), "%s/vigil-bogus.ko", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, image, sizeof(image)) != sizeof(image)) {
		perror(path);
		return 1;
	}
	finit = result(syscall(SYS_finit_module, fd, "vigil_finit=2 debug", IGNORE_VERMAGIC));
	close(fd);
	unlink(path);

	printf("{\"pid\":%d,\"image_len\":%d,\"init_result\":%ld,\"fd\":%d,\"path\":\"%s\",\"finit_result\":%ld}\n",
	       getpid(), IMAGE_LEN, init, fd, path, finit);
	return 0;
}
