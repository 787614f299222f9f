/*
 * cred-capraise raise|drop: run as root. Keeps its capabilities through a change to uid 65534
 * (PR_SET_KEEPCAPS, then setresuid, which empties the effective set), then calls capset as
 * that unprivileged user: "raise" puts CAP_NET_RAW back into the effective set from the
 * permitted one it kept; "drop" only narrows the permitted set to CAP_NET_RAW, raising nothing.
 * Raw syscalls, so that the C library cannot add calls. Prints one JSON line with the pid and
 * each call's result (-errno on failure).
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calls.h"

int main(int argc, char **argv)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	const unsigned int bit = 1u << (CAP_NET_RAW % 32);

	if (argc != 2 || (strcmp(argv[1], "raise") != 0 && strcmp(argv[1], "drop") != 0)) {
		fprintf(stderr, "usage: cred-capraise raise|drop\n");
		return 2;
	}
	printf("{\"pid\":%d,\"calls\":{", getpid());
	call("keepcaps", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	call("setresuid", syscall(SYS_setresuid, 65534, 65534, 65534));
	call("capget", syscall(SYS_capget, &header, data));
	if (strcmp(argv[1], "raise") == 0) {
		data[CAP_NET_RAW / 32].effective |= bit;
	} else {
		memset(data, 0, sizeof(data));
		data[CAP_NET_RAW / 32].permitted = bit;
	}
	call("capset", syscall(SYS_capset, &header, data));
	printf("}}\n");
	return 0;
}
