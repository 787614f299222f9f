import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, type Handler, type TaskRecord, tail } from "./common.js";

/** The file ops, by event kind; every one has the same record (struct vg_file). */
export type FileOp =
  | "file.open"
  | "file.unlink"
  | "file.rename"
  | "file.chmod"
  | "file.chown"
  | "file.link"
  | "file.symlink"
  | "file.mkdir"
  | "file.truncate";

/**
 * One file syscall as the kernel saw it at its return. Each op fills what its calls have and
 * leaves the rest 0 or empty (see bpf/records/file.h).
 */
export interface FileCall {
  ktime: bigint;
  task: TaskRecord;
  /** The system call's name: "openat", "renameat2", ... */
  syscall: string;
  /** The syscall's return: an fd or 0, or -errno. */
  result: number;
  length: bigint;
  ino: bigint;
  dev: number;
  flags: number;
  mode: number;
  uid: number;
  gid: number;
  /** The fd argument of fchmod, fchown, ftruncate; -1 for the others. */
  fd: number;
  /** The first path argument as passed (symlink: the target). */
  path: string;
  /** The directory a relative `path` is resolved in; empty when absolute or unknown. */
  dir: string;
  pathTruncated: boolean;
  path2: string;
  dir2: string;
  path2Truncated: boolean;
  /** The resolved path of the file acted on: the file opened, or the fd's file. */
  file: string;
  fileTruncated: boolean;
}

export type FileRecord = { [K in FileOp]: FileCall & { op: K } }[FileOp];

const OP = enums.vg_op;
const OPS: [number, FileOp][] = [
  [OP.VG_OP_FILE_OPEN, "file.open"],
  [OP.VG_OP_FILE_UNLINK, "file.unlink"],
  [OP.VG_OP_FILE_RENAME, "file.rename"],
  [OP.VG_OP_FILE_CHMOD, "file.chmod"],
  [OP.VG_OP_FILE_CHOWN, "file.chown"],
  [OP.VG_OP_FILE_LINK, "file.link"],
  [OP.VG_OP_FILE_SYMLINK, "file.symlink"],
  [OP.VG_OP_FILE_MKDIR, "file.mkdir"],
  [OP.VG_OP_FILE_TRUNCATE, "file.truncate"],
];

/** enum vg_file_syscall by number: VG_FILE_SYS_OPENAT2 → "openat2". */
const SYSCALLS = new Map<number, string>(
  Object.entries(enums.vg_file_syscall).map(([name, n]) => [n, name.replace(/^VG_FILE_SYS_/, "").toLowerCase()]),
);

const FLAGS = enums.vg_file_flags;
const F = structs.vg_file.fields;
const FIXED = structs.vg_file.size;

function decoder(op: FileOp): Handler<FileRecord> {
  return (b, at, size, ktime): FileRecord | DecodeErrorKind => {
    if (size < FIXED) return "truncated";
    const parts = tail(at, FIXED, size, [
      b.u16(at + F.path_len.offset),
      b.u16(at + F.dir_len.offset),
      b.u16(at + F.path2_len.offset),
      b.u16(at + F.dir2_len.offset),
      b.u16(at + F.file_len.offset),
    ]);
    if (!parts) return "malformed";
    const syscall = SYSCALLS.get(b.u16(at + F.syscall.offset));
    if (syscall === undefined) return "malformed";
    const [pathAt = 0, dirAt = 0, path2At = 0, dir2At = 0, fileAt = 0, end = 0] = parts;
    const flags = b.u16(at + F.file_flags.offset);
    return {
      op,
      ktime,
      task: b.task(at + F.task.offset),
      syscall,
      result: b.i64n(at + F.result.offset),
      length: b.i64(at + F.length.offset),
      ino: b.u64(at + F.ino.offset),
      dev: b.u32(at + F.dev.offset),
      flags: b.u32(at + F.flags.offset),
      mode: b.u32(at + F.mode.offset),
      uid: b.u32(at + F.uid.offset),
      gid: b.u32(at + F.gid.offset),
      fd: b.i32(at + F.fd.offset),
      path: b.str(pathAt, dirAt),
      dir: b.str(dirAt, path2At),
      pathTruncated: (flags & FLAGS.VG_FILE_PATH_TRUNCATED) !== 0,
      path2: b.str(path2At, dir2At),
      dir2: b.str(dir2At, fileAt),
      path2Truncated: (flags & FLAGS.VG_FILE_PATH2_TRUNCATED) !== 0,
      file: b.str(fileAt, end),
      fileTruncated: (flags & FLAGS.VG_FILE_FILE_TRUNCATED) !== 0,
    } as FileRecord;
  };
}

export const fileHandlers = new Map<number, Handler<FileRecord>>(OPS.map(([n, op]) => [n, decoder(op)]));
