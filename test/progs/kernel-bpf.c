/*
 * kernel-bpf: loads BPF programs with the raw bpf() syscall: a two-instruction socket filter
 * named "vigil_ok" (then reads back its id and tag), one with an invalid opcode named
 * "vigil_bad" (rejected), a BTF blob that is not BTF, and a link of the good program to a
 * target that is not a cgroup. Prints one JSON line with what the events must show.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	long ret = syscall(SYS_bpf, cmd, attr, size);

	return ret < 0 ? -errno : ret;
}

static long load(const struct bpf_insn *insns, unsigned int count, const char *name)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = count;
	attr.license = (unsigned long)"GPL";
	strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
	return bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
}

int main(void)
{
	const struct bpf_insn good[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const struct bpf_insn bad[] = {
		{ .code = 0xff }, /* no such opcode */
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static const char not_btf[64] = "not BTF";
	struct bpf_prog_info info;
	union bpf_attr attr;
	long ok, rejected, btf, link;
	int dir;
	char tag[17];

	ok = load(good, 2, "vigil_ok");
	if (ok < 0) {
		fprintf(stderr, "load: %s\n", strerror((int)-ok));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = ok;
	attr.info.info_len = sizeof(info);
	attr.info.info = (unsigned long)&info;
	if (bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0) {
		perror("info");
		return 1;
	}
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);

	rejected = load(bad, 2, "vigil_bad");

	memset(&attr, 0, sizeof(attr));
	attr.btf = (unsigned long)not_btf;
	attr.btf_size = sizeof(not_btf);
	btf = bpf(BPF_BTF_LOAD, &attr, sizeof(attr));

	dir = open("/", O_RDONLY | O_DIRECTORY);
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = ok;
	attr.link_create.target_fd = dir;
	attr.link_create.attach_type = BPF_CGROUP_INET_INGRESS;
	link = bpf(BPF_LINK_CREATE, &attr, sizeof(attr));

	printf("{\"pid\":%d,\"fd\":%ld,\"id\":%u,\"tag\":\"%s\",\"rejected\":%ld,\"btf\":%ld,\"btf_size\":%zu,"
	       "\"target_fd\":%d,\"link\":%ld}\n",
	       getpid(), ok, info.id, tag, rejected, btf, sizeof(not_btf), dir, link);
	return 0;
}
