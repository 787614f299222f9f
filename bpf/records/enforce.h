/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Enforcement: the maps the agent compiles deny and kill rules into, and the record a program
 * sends when it stopped an operation. Included by vigil.h only.
 *
 * A rule's condition is compiled (src/sensor/enforce/compile.ts) into disjuncts, each a slot of
 * its hook: a slot holds when every atom it requires holds and none it forbids does. An atom is
 * one test of one field ("the exe is under /tmp/", "the port is 22 or 23", "the address is in
 * 10.0.0.0/8"); each map answers, for the value a hook sees, the bitmask of atoms that hold.
 *
 * Every map key carries a generation (0 or 1) and vg_enforce_state.seq says which one is in
 * force (seq & 1). The agent writes a new set into the generation not in force, then switches
 * seq, then waits for every program that may still read the old generation to finish (an update
 * of vg_enforce_barrier, a map-in-map, makes the kernel wait for an RCU grace period) before it
 * touches that generation again: a program sees one whole set, never a mix.
 */
#ifndef VIGIL_RECORDS_ENFORCE_H
#define VIGIL_RECORDS_ENFORCE_H

/* Where an operation is decided. */
enum vg_enforce_hook {
	VG_HOOK_EXEC = 0,       /* process.exec: the program about to run */
	VG_HOOK_CONNECT = 1,    /* net.connect: connect, and sendmsg with an address (UDP) */
	VG_HOOK_BIND = 2,       /* net.bind */
	VG_HOOK_OPEN = 3,       /* file.open (BPF-LSM file_open) */
	VG_HOOK_UNLINK = 4,     /* file.unlink (BPF-LSM path_unlink) */
	VG_HOOK_RENAME = 5,     /* file.rename (BPF-LSM path_rename): old and new path */
	VG_HOOK_CHMOD = 6,      /* file.chmod (BPF-LSM path_chmod) */
	VG_HOOK_MODULE = 7,     /* kernel.module_load (BPF-LSM kernel_read_file, kernel_module_request) */
	VG_HOOK_MAX = 8,
};

/* What a map entry tests: the map is fixed by the test (strings, values, inodes, addresses). */
enum vg_enforce_test {
	/* vg_enforce_strings: exact (the string and a NUL) and prefixes, of the first bytes. */
	VG_TEST_EXE = 0,
	VG_TEST_COMM = 1,
	VG_TEST_PATH = 2,
	/* vg_enforce_strings, the string reversed: suffixes. */
	VG_TEST_EXE_SUFFIX = 3,
	VG_TEST_COMM_SUFFIX = 4,
	VG_TEST_PATH_SUFFIX = 5,
	/* vg_enforce_inodes: the file by device and inode, whatever the name it is reached by. */
	VG_TEST_EXE_INODE = 6,
	VG_TEST_PATH_INODE = 7,
	/* vg_enforce_values. */
	VG_TEST_UID = 8,
	VG_TEST_EUID = 9,
	VG_TEST_GID = 10,
	VG_TEST_PORT = 11,
	/* vg_enforce_addrs: IPv6, IPv4 as IPv4-mapped (::ffff:a.b.c.d). */
	VG_TEST_ADDRESS = 12,
	/* A rename's new path: strings, strings reversed, inodes. */
	VG_TEST_NEW_PATH = 13,
	VG_TEST_NEW_PATH_SUFFIX = 14,
	VG_TEST_NEW_PATH_INODE = 15,
	VG_TEST_MAX = 16,
};

enum vg_enforce_limit {
	/* Slots (disjuncts of rules) and atoms of one hook: a bit each in a u64. */
	VG_ENFORCE_SLOTS = 64,
	VG_ENFORCE_ATOMS = 64,
	/*
	 * Bytes of a string the string tests see (an LPM trie's key holds at most 256 bytes, the
	 * generation, hook and test among them): an exact string is at most 251 bytes.
	 */
	VG_ENFORCE_STR = 252,
};

/* What the hook did. */
enum vg_enforce_action {
	VG_ENFORCE_DENIED = 1,   /* the operation failed with EPERM */
	VG_ENFORCE_KILLED = 2,   /* SIGKILL before the program ran its first instruction */
	VG_ENFORCE_PROTECTED = 3, /* self-protection refused it (EPERM); slot is an enum vg_protect_op */
};

/*
 * Self-protection: what another process tried on the sensor (its processes, files, and BPF
 * objects), refused where BPF-LSM runs.
 */
enum vg_protect_op {
	VG_PROTECT_SIGNAL = 1,   /* a signal to a sensor process: target is its pid, arg the signal */
	VG_PROTECT_PTRACE = 2,   /* ptrace or /proc access to a sensor process: target is its pid */
	VG_PROTECT_BPF = 3,      /* an fd of a sensor map, program or link: target is its id, arg the kind */
	VG_PROTECT_WRITE = 4,    /* a sensor file opened for writing */
	VG_PROTECT_UNLINK = 5,
	VG_PROTECT_RENAME = 6,
	VG_PROTECT_CHMOD = 7,
};

/* vg_protect_ids: which kind of BPF object an id names. */
enum vg_protect_bpf_kind {
	VG_PROTECT_MAP = 1,
	VG_PROTECT_PROG = 2,
	VG_PROTECT_LINK = 3,
};

/* Set by the agent once it has filled the protection maps; zero: nothing is protected. */
struct vg_protect_config {
	__u32 enabled;
	__u32 pad;
};

struct vg_protect_id_key {
	__u32 id;
	__u32 kind;              /* enum vg_protect_bpf_kind */
};

struct vg_enforce_state {
	__u32 seq;               /* generation in force: seq & 1 */
	__u32 pad;
};

/* One hook in one generation, at index gen * VG_HOOK_MAX + hook of vg_enforce_hooks. */
struct vg_enforce_hook_config {
	__u32 slots;             /* slots in use, from 0 */
	__u32 tests;             /* 1 << enum vg_enforce_test for each test an atom uses */
	__u64 kill;              /* slots whose rule kills rather than denies */
	__u64 require[VG_ENFORCE_SLOTS];  /* atoms that must hold, per slot */
	__u64 forbid[VG_ENFORCE_SLOTS];   /* atoms that must not hold, per slot */
};

struct vg_enforce_str_key {
	__u32 prefixlen;         /* in bits, from gen on */
	__u8 gen;
	__u8 hook;
	__u8 test;
	__u8 pad;
	char str[VG_ENFORCE_STR];
};

struct vg_enforce_value_key {
	__u8 gen;
	__u8 hook;
	__u8 test;
	__u8 pad;
	__u32 value;
};

struct vg_enforce_inode_key {
	__u64 ino;
	__u32 dev;               /* kernel encoding, as vg_exec.exe_dev */
	__u8 gen;
	__u8 hook;
	__u8 test;
	__u8 pad;
};

struct vg_enforce_addr_key {
	__u32 prefixlen;         /* in bits, from gen on */
	__u8 gen;
	__u8 hook;
	__u8 pad[2];
	__u8 addr[16];           /* network order */
};

/*
 * A program stopped an operation. seq and slot name the rule (the agent keeps the slots of the
 * generations it wrote); the operation's own facts follow, as the hook saw them. Followed by
 * path_len bytes of the path (exec: the executable's; file hooks: the file's, a rename's old
 * path), then new_path_len bytes of a rename's new path.
 */
struct vg_enforce_denial {
	struct vg_header hdr;
	struct vg_task task;
	__u32 seq;
	__u16 hook;              /* enum vg_enforce_hook */
	__u16 action;            /* enum vg_enforce_action */
	__u32 slot;
	__u32 dev;               /* exec: the program's device and inode; file hooks: the file's */
	__u64 ino;
	__u8 addr[16];           /* connect, bind: network order */
	__u16 family;            /* AF_INET, AF_INET6; 0 for exec */
	__u16 port;              /* host order */
	__u16 protocol;          /* IPPROTO_TCP, IPPROTO_UDP */
	__u16 path_len;
	__u16 new_path_len;
	__u16 pad;
	__u32 target;            /* self-protection: see enum vg_protect_op */
	__u32 arg;
	__u32 mode;              /* chmod: the new mode; open: the file's f_mode */
};

#ifdef __bpf__
/* Every type of this header in BTF, for gen-layout.mjs (see vg_btf_anchor in vigil.h). */
const struct {
	enum vg_enforce_hook hook;
	enum vg_enforce_test test;
	enum vg_enforce_limit limit;
	enum vg_enforce_action action;
	struct vg_enforce_state state;
	struct vg_enforce_hook_config hook_config;
	struct vg_enforce_str_key str_key;
	struct vg_enforce_value_key value_key;
	struct vg_enforce_inode_key inode_key;
	struct vg_enforce_addr_key addr_key;
	struct vg_enforce_denial denial;
	enum vg_protect_op protect_op;
	enum vg_protect_bpf_kind protect_bpf_kind;
	struct vg_protect_config protect_config;
	struct vg_protect_id_key protect_id_key;
} vg_btf_anchor_enforce __attribute__((weak));
#endif

#endif /* VIGIL_RECORDS_ENFORCE_H */
