import { enums, structs } from "./layout.generated.js";

/** The task a record is about, as the kernel saw it. */
export interface TaskRecord {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  cgroupId: bigint;
  startBoottime: bigint;
  comm: string;
}

export interface ExecRecord {
  op: "process.exec";
  ktime: bigint;
  task: TaskRecord;
  oldPid: number;
  exeIno: bigint;
  exeDev: number;
  exe: string;
  exeTruncated: boolean;
  cwd: string;
  cwdTruncated: boolean;
  args: readonly string[];
  argsTruncated: boolean;
}

export interface ForkRecord {
  op: "process.fork";
  ktime: bigint;
  task: TaskRecord;
}

export interface ExitRecord {
  op: "process.exit";
  ktime: bigint;
  task: TaskRecord;
  /** wait(2) status */
  status: number;
}

export type KernelRecord = ExecRecord | ForkRecord | ExitRecord;

/** Why a record was skipped. */
export type DecodeErrorKind = "truncated" | "unknown_op" | "malformed";

export interface DecodeStats {
  records: number;
  errors: Record<DecodeErrorKind, number>;
}

const H = structs.vg_header.fields;
const T = structs.vg_task.fields;
const HEADER_SIZE = structs.vg_header.size;
const OP = enums.vg_op;
const EXEC_FLAGS = enums.vg_exec_flags;

function cString(buf: Buffer, start: number, max: number): string {
  const nul = buf.indexOf(0, start);
  const end = nul === -1 || nul > start + max ? start + max : nul;
  return buf.toString("utf8", start, end);
}

function task(buf: Buffer, at: number): TaskRecord {
  return {
    pid: buf.readUInt32LE(at + T.pid.offset),
    tid: buf.readUInt32LE(at + T.tid.offset),
    ppid: buf.readUInt32LE(at + T.ppid.offset),
    uid: buf.readUInt32LE(at + T.uid.offset),
    gid: buf.readUInt32LE(at + T.gid.offset),
    euid: buf.readUInt32LE(at + T.euid.offset),
    egid: buf.readUInt32LE(at + T.egid.offset),
    cgroupId: buf.readBigUInt64LE(at + T.cgroup_id.offset),
    startBoottime: buf.readBigUInt64LE(at + T.start_boottime.offset),
    comm: cString(buf, at + T.comm.offset, T.comm.size),
  };
}

/**
 * argv as the kernel stores it: NUL-separated, the last one NUL-terminated unless cut. Frozen:
 * every event of the process shares it.
 */
function splitArgs(buf: Buffer, start: number, end: number): readonly string[] {
  const args: string[] = [];
  let from = start;
  while (from < end) {
    let nul = buf.indexOf(0, from);
    if (nul === -1 || nul > end) nul = end;
    args.push(buf.toString("utf8", from, nul));
    from = nul + 1;
  }
  return Object.freeze(args);
}

type Handler = (buf: Buffer, at: number, size: number, ktime: bigint) => KernelRecord | DecodeErrorKind;

const E = structs.vg_exec.fields;
function decodeExec(buf: Buffer, at: number, size: number, ktime: bigint): ExecRecord | DecodeErrorKind {
  if (size < structs.vg_exec.size) return "truncated";
  const exeLen = buf.readUInt16LE(at + E.exe_len.offset);
  const cwdLen = buf.readUInt16LE(at + E.cwd_len.offset);
  const argsLen = buf.readUInt32LE(at + E.args_len.offset);
  const exeAt = at + structs.vg_exec.size;
  const cwdAt = exeAt + exeLen;
  const argsAt = cwdAt + cwdLen;
  if (argsAt + argsLen > at + size) return "malformed";
  const flags = buf.readUInt32LE(at + E.exec_flags.offset);
  return {
    op: "process.exec",
    ktime,
    task: task(buf, at + E.task.offset),
    oldPid: buf.readUInt32LE(at + E.old_pid.offset),
    exeIno: buf.readBigUInt64LE(at + E.exe_ino.offset),
    exeDev: buf.readUInt32LE(at + E.exe_dev.offset),
    exe: buf.toString("utf8", exeAt, cwdAt),
    exeTruncated: (flags & EXEC_FLAGS.VG_EXEC_EXE_TRUNCATED) !== 0,
    cwd: buf.toString("utf8", cwdAt, argsAt),
    cwdTruncated: (flags & EXEC_FLAGS.VG_EXEC_CWD_TRUNCATED) !== 0,
    args: splitArgs(buf, argsAt, argsAt + argsLen),
    argsTruncated: (flags & EXEC_FLAGS.VG_EXEC_ARGS_TRUNCATED) !== 0,
  };
}

function decodeFork(buf: Buffer, at: number, size: number, ktime: bigint): ForkRecord | DecodeErrorKind {
  if (size < structs.vg_fork.size) return "truncated";
  return { op: "process.fork", ktime, task: task(buf, at + structs.vg_fork.fields.task.offset) };
}

function decodeExit(buf: Buffer, at: number, size: number, ktime: bigint): ExitRecord | DecodeErrorKind {
  if (size < structs.vg_exit.size) return "truncated";
  const X = structs.vg_exit.fields;
  return {
    op: "process.exit",
    ktime,
    task: task(buf, at + X.task.offset),
    status: buf.readUInt32LE(at + X.exit_code.offset),
  };
}

const handlers = new Map<number, Handler>([
  [OP.VG_OP_PROCESS_EXEC, decodeExec],
  [OP.VG_OP_PROCESS_FORK, decodeFork],
  [OP.VG_OP_PROCESS_EXIT, decodeExit],
]);

/**
 * Decodes the records of one batch from the kernel bridge: entries of u32 length, the record,
 * padding to 8 bytes. A bad record is counted and skipped; the rest of the batch still decodes.
 */
export class RecordDecoder {
  readonly stats: DecodeStats = { records: 0, errors: { truncated: 0, unknown_op: 0, malformed: 0 } };

  decodeBatch(batch: Buffer, onRecord: (record: KernelRecord) => void): void {
    let at = 0;
    while (at + 4 <= batch.length) {
      const len = batch.readUInt32LE(at);
      const start = at + 4;
      if (start + len > batch.length) {
        this.stats.errors.truncated++;
        return;
      }
      const record = this.decode(batch, start, len);
      if (typeof record === "string") this.stats.errors[record]++;
      else {
        this.stats.records++;
        onRecord(record);
      }
      at += (4 + len + 7) & ~7;
    }
  }

  /** Decodes one record occupying `len` bytes at `at`. */
  decode(buf: Buffer, at: number, len: number): KernelRecord | DecodeErrorKind {
    if (len < HEADER_SIZE) return "truncated";
    const size = buf.readUInt32LE(at + H.size.offset);
    if (size > len) return "truncated";
    if (size < HEADER_SIZE) return "malformed";
    const handler = handlers.get(buf.readUInt16LE(at + H.op.offset));
    if (!handler) return "unknown_op";
    return handler(buf, at, size, buf.readBigUInt64LE(at + H.ktime.offset));
  }
}
