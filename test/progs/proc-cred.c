/*
 * proc-cred: run as root. Drops CAP_NET_RAW from the effective set with capset, then drops to
 * nobody (setresgid 65534 65534 65534, setfsuid 1234, setreuid 65534 65534) and tries to get
 * root back (setuid 0, which fails with EPERM). Raw syscalls, so that the C library's wrappers
 * cannot add or reorder calls. Prints one JSON line: the pid, the capset sets asked for, each
 * syscall's result, and the credentials from /proc/self/status before the first syscall and
 * after each one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STEPS 5

static char states[STEPS + 1][512];

/* The credentials as /proc/self/status shows them, as a JSON object. */
static void snapshot(char *out, size_t size)
{
	unsigned int uid[4] = {}, gid[4] = {};
	unsigned long long inh = 0, prm = 0, eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Uid: %u %u %u %u", &uid[0], &uid[1], &uid[2], &uid[3]);
		sscanf(line, "Gid: %u %u %u %u", &gid[0], &gid[1], &gid[2], &gid[3]);
		sscanf(line, "CapInh: %llx", &inh);
		sscanf(line, "CapPrm: %llx", &prm);
		sscanf(line, "CapEff: %llx", &eff);
	}
	if (f)
		fclose(f);
	snprintf(out, size,
		 "{\"uid\":%u,\"euid\":%u,\"suid\":%u,\"fsuid\":%u,\"gid\":%u,\"egid\":%u,\"sgid\":%u,\"fsgid\":%u,"
		 "\"cap_effective\":\"%llu\",\"cap_permitted\":\"%llu\",\"cap_inheritable\":\"%llu\"}",
		 uid[0], uid[1], uid[2], uid[3], gid[0], gid[1], gid[2], gid[3], eff, prm, inh);
}

int main(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	unsigned long long effective, permitted, inheritable;
	long results[STEPS];
	int errnos[STEPS];

	if (syscall(SYS_capget, &header, data) != 0)
		return 1;
	data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	effective = (unsigned long long)data[1].effective << 32 | data[0].effective;
	permitted = (unsigned long long)data[1].permitted << 32 | data[0].permitted;
	inheritable = (unsigned long long)data[1].inheritable << 32 | data[0].inheritable;

	snapshot(states[0], sizeof(states[0]));
	for (int i = 0; i < STEPS; i++) {
		errno = 0;
		switch (i) {
		case 0:
			results[i] = syscall(SYS_capset, &header, data);
			break;
		case 1:
			results[i] = syscall(SYS_setresgid, 65534, 65534, 65534);
			break;
		case 2:
			results[i] = syscall(SYS_setfsuid, 1234);
			break;
		case 3:
			results[i] = syscall(SYS_setreuid, 65534, 65534);
			break;
		default:
			results[i] = syscall(SYS_setuid, 0);
			break;
		}
		errnos[i] = results[i] < 0 ? errno : 0;
		snapshot(states[i + 1], sizeof(states[i + 1]));
	}

	printf("{\"pid\":%d,\"effective\":\"%llu\",\"permitted\":\"%llu\",\"inheritable\":\"%llu\",\"results\":[", getpid(),
	       effective, permitted, inheritable);
	for (int i = 0; i < STEPS; i++)
		printf("%s%ld", i ? "," : "", results[i]);
	printf("],\"errnos\":[");
	for (int i = 0; i < STEPS; i++)
		printf("%s%d", i ? "," : "", errnos[i]);
	printf("],\"states\":[");
	for (int i = 0; i <= STEPS; i++)
		printf("%s%s", i ? "," : "", states[i]);
	printf("]}\n");
	return 0;
}
