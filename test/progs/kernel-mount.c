/*
 * kernel-mount DIR: mounts in a private mount namespace of its own, so nothing outlives it.
 * From DIR as the working directory: a tmpfs on the relative path "mnt" with options, the
 * same with an option tmpfs rejects (a password, which events must not show), umount2 of
 * "mnt", a bind mount from a source that does not exist, and the mount API: fsopen, fsconfig,
 * fsmount and move_mount onto DIR/mnt. Prints one JSON line with every result (-errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static long result(long ret)
{
	return ret < 0 ? -errno : ret;
}

int main(int argc, char **argv)
{
	char target[PATH_MAX];
	long tmpfs, rejected, unmounted, bind, fsmounted, moved;
	int fs, mnt;

	if (argc != 2 || chdir(argv[1]) < 0 || mkdir("mnt", 0700) < 0) {
		fprintf(stderr, "usage: kernel-mount DIR (DIR must exist and have no mnt in it)\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("private mount namespace");
		return 1;
	}
	snprintf(target, sizeof(target), "%s/mnt", argv[1]);

	tmpfs = result(mount("vigil-tmp", "mnt", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700"));
	rejected = result(mount("vigil-tmp", "mnt", "tmpfs", 0, "size=1m,password=hunter2"));
	unmounted = result(umount2("mnt", MNT_DETACH));
	bind = result(mount("does-not-exist", target, NULL, MS_BIND | MS_REC, NULL));

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", "vigil-fs", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		perror("fsopen/fsconfig");
		return 1;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	fsmounted = result(mnt);
	moved = result(move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));

	printf("{\"pid\":%d,\"target\":\"%s\",\"tmpfs\":%ld,\"tmpfs_flags\":%d,\"rejected\":%ld,\"umount\":%ld,"
	       "\"umount_flags\":%d,\"bind\":%ld,\"bind_flags\":%d,\"fs_fd\":%d,\"fsmount\":%ld,"
	       "\"attr_flags\":%d,\"move_mount\":%ld}\n",
	       getpid(), target, tmpfs, MS_NOSUID | MS_NODEV, rejected, unmounted, MNT_DETACH, bind,
	       MS_BIND | MS_REC, fs, fsmounted, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, moved);
	return 0;
}
