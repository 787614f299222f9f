/*
 * The program an exec rule denies: creates the file named by its first argument. When the
 * file exists, the program ran at least one instruction of its own.
 *   enforce-marker FILE
 */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return 1;
	write(fd, "ran\n", 4);
	close(fd);
	return 0;
}
