/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LSM_PROBE_H
#define LSM_PROBE_H

/* A file as LSM hooks see it: the inode number and its superblock's s_dev (kernel encoding). */
struct probe_file {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

#endif
