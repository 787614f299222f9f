import { constants } from "node:os";
import { posix } from "node:path";
import type { FileRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

/* include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h */
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_TMPFILE = 0o20000000;
const AT_REMOVEDIR = 0x200;
const OPEN_WRITES = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;

const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) {
  // Aliases (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK) keep the first, canonical name.
  if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);
}

/** The errno name of a failed call's result, null on success. */
export function errorName(result: number): string | null {
  if (result >= 0) return null;
  return ERRNO_NAMES.get(-result) ?? `E${-result}`;
}

/**
 * A path argument made absolute: joined to the directory the kernel resolved it in, and
 * normalised lexically. An absolute one is as passed; without a directory (a bad dirfd) the
 * string is all there is.
 */
export function absolutePath(path: string, dir: string): string {
  return dir === "" ? path : posix.join(dir, path);
}

/** A chown id as passed: (uid_t)-1 keeps the current one. */
const id = (v: number) => (v === 0xffffffff ? -1 : v);

/** The calls on a file descriptor, whose path is the fd's file. */
const FD_CALLS = new Set(["fchmod", "fchown", "ftruncate"]);

/** The fd of the fd-based calls; null for the path-based ones. */
const fdOf = (r: FileRecord) => (FD_CALLS.has(r.syscall) ? r.fd : null);

/** What a chmod, chown or truncate acted on: the fd's file for the fd calls, else the path as given. */
function target(r: FileRecord): { path: string; path_truncated: boolean; fd: number | null } {
  const fd = fdOf(r);
  return fd === null
    ? { path: absolutePath(r.path, r.dir), path_truncated: r.pathTruncated, fd }
    : { path: r.file, path_truncated: r.fileTruncated, fd };
}

export const fileBuilders: Builders<FileRecord> = {
  "file.open": (r, base, emit) => {
    // The file reached when the open succeeded; else the path asked for.
    const opened = r.result >= 0 && r.file !== "";
    emit({
      kind: "file.open",
      ...base,
      file: {
        syscall: r.syscall,
        path: opened ? r.file : absolutePath(r.path, r.dir),
        path_truncated: opened ? r.fileTruncated : r.pathTruncated,
        requested: r.path,
        flags: r.flags,
        write: (r.flags & OPEN_WRITES) !== 0,
        create: (r.flags & O_CREAT) !== 0,
        truncate: (r.flags & O_TRUNC) !== 0,
        mode: r.flags & (O_CREAT | O_TMPFILE) ? r.mode : null,
        inode: opened ? r.ino : 0n,
        dev: opened ? r.dev : 0,
        result: r.result,
        error: errorName(r.result),
      },
    });
  },
  "file.unlink": (r, base, emit) =>
    emit({
      kind: "file.unlink",
      ...base,
      file: {
        syscall: r.syscall,
        path: absolutePath(r.path, r.dir),
        path_truncated: r.pathTruncated,
        directory: r.syscall === "rmdir" || (r.flags & AT_REMOVEDIR) !== 0,
        flags: r.flags,
        result: r.result,
        error: errorName(r.result),
      },
    }),
  "file.rename": (r, base, emit) =>
    emit({
      kind: "file.rename",
      ...base,
      file: {
        syscall: r.syscall,
        old_path: absolutePath(r.path, r.dir),
        old_path_truncated: r.pathTruncated,
        new_path: absolutePath(r.path2, r.dir2),
        new_path_truncated: r.path2Truncated,
        flags: r.flags,
        result: r.result,
        error: errorName(r.result),
      },
    }),
  "file.chmod": (r, base, emit) => {
    emit({
      kind: "file.chmod",
      ...base,
      file: {
        syscall: r.syscall,
        ...target(r),
        mode: r.mode,
        flags: r.flags,
        result: r.result,
        error: errorName(r.result),
      },
    });
  },
  "file.chown": (r, base, emit) => {
    emit({
      kind: "file.chown",
      ...base,
      file: {
        syscall: r.syscall,
        ...target(r),
        uid: id(r.uid),
        gid: id(r.gid),
        flags: r.flags,
        result: r.result,
        error: errorName(r.result),
      },
    });
  },
  "file.link": (r, base, emit) =>
    emit({
      kind: "file.link",
      ...base,
      file: {
        syscall: r.syscall,
        old_path: absolutePath(r.path, r.dir),
        old_path_truncated: r.pathTruncated,
        new_path: absolutePath(r.path2, r.dir2),
        new_path_truncated: r.path2Truncated,
        flags: r.flags,
        result: r.result,
        error: errorName(r.result),
      },
    }),
  "file.symlink": (r, base, emit) =>
    emit({
      kind: "file.symlink",
      ...base,
      file: {
        syscall: r.syscall,
        target: r.path,
        target_truncated: r.pathTruncated,
        path: absolutePath(r.path2, r.dir2),
        path_truncated: r.path2Truncated,
        result: r.result,
        error: errorName(r.result),
      },
    }),
  "file.mkdir": (r, base, emit) =>
    emit({
      kind: "file.mkdir",
      ...base,
      file: {
        syscall: r.syscall,
        path: absolutePath(r.path, r.dir),
        path_truncated: r.pathTruncated,
        mode: r.mode,
        result: r.result,
        error: errorName(r.result),
      },
    }),
  "file.truncate": (r, base, emit) => {
    emit({
      kind: "file.truncate",
      ...base,
      file: {
        syscall: r.syscall,
        ...target(r),
        length: r.length,
        result: r.result,
        error: errorName(r.result),
      },
    });
  },
};
