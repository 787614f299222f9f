import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, type Handler, type RecordBytes, type TaskRecord, tail } from "./common.js";

export interface ExecRecord {
  op: "process.exec";
  ktime: bigint;
  task: TaskRecord;
  oldPid: number;
  exeIno: bigint;
  exeDev: number;
  exe: string;
  exeTruncated: boolean;
  /** The executable is in no directory: a memfd or a deleted file. */
  fileless: boolean;
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

export type ProcessRecord = ExecRecord | ForkRecord | ExitRecord;

const EXEC_FLAGS = enums.vg_exec_flags;

/**
 * argv as the kernel stores it: NUL-separated, the last one NUL-terminated unless cut. Frozen:
 * every event of the process shares it.
 */
function splitArgs(b: RecordBytes, start: number, end: number): readonly string[] {
  const args: string[] = [];
  let from = start;
  while (from < end) {
    let nul = b.buf.indexOf(0, from);
    if (nul === -1 || nul > end) nul = end;
    args.push(b.str(from, nul));
    from = nul + 1;
  }
  return Object.freeze(args);
}

const E = structs.vg_exec.fields;
const decodeExec: Handler<ExecRecord> = (b, at, size, ktime): ExecRecord | DecodeErrorKind => {
  if (size < structs.vg_exec.size) return "truncated";
  const parts = tail(at, structs.vg_exec.size, size, [
    b.u16(at + E.exe_len.offset),
    b.u16(at + E.cwd_len.offset),
    b.u32(at + E.args_len.offset),
  ]);
  if (!parts) return "malformed";
  const [exeAt = 0, cwdAt = 0, argsAt = 0, end = 0] = parts;
  const flags = b.u32(at + E.exec_flags.offset);
  return {
    op: "process.exec",
    ktime,
    task: b.task(at + E.task.offset),
    oldPid: b.u32(at + E.old_pid.offset),
    exeIno: b.u64(at + E.exe_ino.offset),
    exeDev: b.u32(at + E.exe_dev.offset),
    exe: b.str(exeAt, cwdAt),
    exeTruncated: (flags & EXEC_FLAGS.VG_EXEC_EXE_TRUNCATED) !== 0,
    fileless: (flags & EXEC_FLAGS.VG_EXEC_FILELESS) !== 0,
    cwd: b.str(cwdAt, argsAt),
    cwdTruncated: (flags & EXEC_FLAGS.VG_EXEC_CWD_TRUNCATED) !== 0,
    args: splitArgs(b, argsAt, end),
    argsTruncated: (flags & EXEC_FLAGS.VG_EXEC_ARGS_TRUNCATED) !== 0,
  };
};

const decodeFork: Handler<ForkRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_fork.size) return "truncated";
  return { op: "process.fork", ktime, task: b.task(at + structs.vg_fork.fields.task.offset) };
};

const X = structs.vg_exit.fields;
const decodeExit: Handler<ExitRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_exit.size) return "truncated";
  return {
    op: "process.exit",
    ktime,
    task: b.task(at + X.task.offset),
    status: b.u32(at + X.exit_code.offset),
  };
};

const OP = enums.vg_op;
export const processHandlers = new Map<number, Handler<ProcessRecord>>([
  [OP.VG_OP_PROCESS_EXEC, decodeExec],
  [OP.VG_OP_PROCESS_FORK, decodeFork],
  [OP.VG_OP_PROCESS_EXIT, decodeExit],
]);
