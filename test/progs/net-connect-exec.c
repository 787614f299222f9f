/*
 * Connects out, then starts a shell: net-connect-exec ADDRESS PORT [shell-first].
 * A UDP socket is connected to ADDRESS:PORT (no packet is sent), then a child runs
 * /bin/sh -c 'exit 0' and is waited for; with shell-first the shell runs before the connect.
 * Prints the pids and the connect's result as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t shell(void)
{
	pid_t child = fork();

	if (child < 0) {
		perror("fork");
		exit(1);
	}
	if (child == 0) {
		execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
		_exit(127);
	}
	waitpid(child, NULL, 0);
	return child;
}

int main(int argc, char **argv)
{
	const char *address = argc > 1 ? argv[1] : "203.0.113.9";
	int port = argc > 2 ? atoi(argv[2]) : 4444;
	int shell_first = argc > 3 && strcmp(argv[3], "shell-first") == 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, result = 0;
	pid_t child = 0;

	if (inet_pton(AF_INET, address, &sin.sin_addr) != 1) {
		fprintf(stderr, "not an IPv4 address: %s\n", address);
		return 2;
	}
	if (shell_first)
		child = shell();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		result = -errno;
	if (!shell_first)
		child = shell();
	printf("{\"pid\":%d,\"child\":%d,\"connect_result\":%d}\n", getpid(), child, result);
	return 0;
}
