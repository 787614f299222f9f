import { enums, structs } from "../layout.generated.js";
import type { Handler, RecordBytes, TaskRecord } from "./common.js";

export type CredSyscall =
  | "setuid"
  | "setgid"
  | "setreuid"
  | "setregid"
  | "setresuid"
  | "setresgid"
  | "setfsuid"
  | "setfsgid"
  | "capset";

/** A task's credentials (struct vg_cred). */
export interface CredRecord {
  uid: number;
  euid: number;
  suid: number;
  fsuid: number;
  gid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  capEffective: bigint;
  capPermitted: bigint;
  capInheritable: bigint;
}

export interface CredChangeRecord {
  op: "cred.change";
  ktime: bigint;
  task: TaskRecord;
  syscall: CredSyscall;
  /** The id arguments in order, as passed (0xffffffff: leave unchanged); unused ones 0. */
  ids: [number, number, number];
  /** capset: effective, permitted and inheritable as passed; 0 otherwise. */
  caps: [bigint, bigint, bigint];
  old: CredRecord;
  new: CredRecord;
  /** 0 or -errno; setfsuid/setfsgid: the previous fsuid/fsgid. */
  result: number;
}

export interface PtraceRecord {
  op: "proc.ptrace";
  ktime: bigint;
  task: TaskRecord;
  request: number;
  /** The thread id as passed, in the caller's pid namespace. */
  target: number;
  addr: bigint;
  data: bigint;
  result: number;
}

export type SignalSyscall = "kill" | "tkill" | "tgkill" | "rt_sigqueueinfo" | "rt_tgsigqueueinfo";

export interface SignalRecord {
  op: "proc.signal";
  ktime: bigint;
  task: TaskRecord;
  syscall: SignalSyscall;
  /** kill, rt_sigqueueinfo: the pid as passed (0 or below: a group); tgkill: the tgid; tkill: 0. */
  targetPid: number;
  /** tkill, tgkill, rt_tgsigqueueinfo: the thread; otherwise 0. */
  targetTid: number;
  signal: number;
  result: number;
}

/** Records of processes acting on credentials and other processes (bpf/records/proc.h). */
export type ProcRecord = CredChangeRecord | PtraceRecord | SignalRecord;

const CS = enums.vg_cred_syscall;
const CRED_SYSCALLS = new Map<number, CredSyscall>([
  [CS.VG_CRED_SETUID, "setuid"],
  [CS.VG_CRED_SETGID, "setgid"],
  [CS.VG_CRED_SETREUID, "setreuid"],
  [CS.VG_CRED_SETREGID, "setregid"],
  [CS.VG_CRED_SETRESUID, "setresuid"],
  [CS.VG_CRED_SETRESGID, "setresgid"],
  [CS.VG_CRED_SETFSUID, "setfsuid"],
  [CS.VG_CRED_SETFSGID, "setfsgid"],
  [CS.VG_CRED_CAPSET, "capset"],
]);

const SS = enums.vg_signal_syscall;
const SIGNAL_SYSCALLS = new Map<number, SignalSyscall>([
  [SS.VG_SIGNAL_KILL, "kill"],
  [SS.VG_SIGNAL_TKILL, "tkill"],
  [SS.VG_SIGNAL_TGKILL, "tgkill"],
  [SS.VG_SIGNAL_RT_SIGQUEUEINFO, "rt_sigqueueinfo"],
  [SS.VG_SIGNAL_RT_TGSIGQUEUEINFO, "rt_tgsigqueueinfo"],
]);

const R = structs.vg_cred.fields;
function decodeCred(b: RecordBytes, at: number): CredRecord {
  return {
    uid: b.u32(at + R.uid.offset),
    euid: b.u32(at + R.euid.offset),
    suid: b.u32(at + R.suid.offset),
    fsuid: b.u32(at + R.fsuid.offset),
    gid: b.u32(at + R.gid.offset),
    egid: b.u32(at + R.egid.offset),
    sgid: b.u32(at + R.sgid.offset),
    fsgid: b.u32(at + R.fsgid.offset),
    capEffective: b.u64(at + R.cap_effective.offset),
    capPermitted: b.u64(at + R.cap_permitted.offset),
    capInheritable: b.u64(at + R.cap_inheritable.offset),
  };
}

const C = structs.vg_cred_change.fields;
const decodeCredChange: Handler<CredChangeRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_cred_change.size) return "truncated";
  const syscall = CRED_SYSCALLS.get(b.u32(at + C.syscall.offset));
  if (!syscall) return "malformed";
  const ids = at + C.ids.offset;
  const caps = at + C.caps.offset;
  return {
    op: "cred.change",
    ktime,
    task: b.task(at + C.task.offset),
    syscall,
    ids: [b.u32(ids), b.u32(ids + 4), b.u32(ids + 8)],
    caps: [b.u64(caps), b.u64(caps + 8), b.u64(caps + 16)],
    old: decodeCred(b, at + C.old_cred.offset),
    new: decodeCred(b, at + C.new_cred.offset),
    result: b.i64n(at + C.result.offset),
  };
};

const P = structs.vg_ptrace.fields;
const decodePtrace: Handler<PtraceRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_ptrace.size) return "truncated";
  return {
    op: "proc.ptrace",
    ktime,
    task: b.task(at + P.task.offset),
    request: b.i64n(at + P.request.offset),
    target: b.i32(at + P.target.offset),
    addr: b.u64(at + P.addr.offset),
    data: b.u64(at + P.data.offset),
    result: b.i64n(at + P.result.offset),
  };
};

const S = structs.vg_signal.fields;
const decodeSignal: Handler<SignalRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_signal.size) return "truncated";
  const syscall = SIGNAL_SYSCALLS.get(b.u32(at + S.syscall.offset));
  if (!syscall) return "malformed";
  return {
    op: "proc.signal",
    ktime,
    task: b.task(at + S.task.offset),
    syscall,
    targetPid: b.i32(at + S.target_pid.offset),
    targetTid: b.i32(at + S.target_tid.offset),
    signal: b.u32(at + S.sig.offset),
    result: b.i64n(at + S.result.offset),
  };
};

const OP = enums.vg_op;
export const procHandlers = new Map<number, Handler<ProcRecord>>([
  [OP.VG_OP_CRED_CHANGE, decodeCredChange],
  [OP.VG_OP_PROC_PTRACE, decodePtrace],
  [OP.VG_OP_PROC_SIGNAL, decodeSignal],
]);
