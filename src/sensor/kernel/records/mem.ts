import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, type Handler, type TaskRecord, tail } from "./common.js";

/** The syscall that asked for writable and executable memory. */
export type ExecMappingSyscall = "mmap" | "mprotect" | "pkey_mprotect";

export interface ExecMappingRecord {
  op: "mem.exec_mapping";
  ktime: bigint;
  task: TaskRecord;
  syscall: ExecMappingSyscall;
  /** As passed: mmap's hint, mprotect's start. */
  addr: bigint;
  len: bigint;
  prot: number;
  /** mmap's MAP_* flags; 0 for mprotect. */
  mapFlags: number;
  /** mmap's file descriptor as passed; -1 for mprotect. */
  fd: number;
  /** pkey_mprotect's key; -1 otherwise. */
  pkey: number;
  /** The mapped file's path (mmap of a file), else "". */
  path: string;
  pathTruncated: boolean;
  /** mmap: the mapping's address; mprotect: 0; or -errno. */
  result: bigint;
}

export interface MemfdCreateRecord {
  op: "mem.memfd_create";
  ktime: bigint;
  task: TaskRecord;
  name: string;
  nameTruncated: boolean;
  flags: number;
  /** The new file descriptor, or -errno. */
  result: number;
}

/** Records of the memory domain (bpf/records/mem.h). */
export type MemRecord = ExecMappingRecord | MemfdCreateRecord;

const SYSCALLS = new Map<number, ExecMappingSyscall>([
  [enums.vg_mem_syscall.VG_MEM_MMAP, "mmap"],
  [enums.vg_mem_syscall.VG_MEM_MPROTECT, "mprotect"],
  [enums.vg_mem_syscall.VG_MEM_PKEY_MPROTECT, "pkey_mprotect"],
]);
const FLAGS = enums.vg_mem_flags;

const M = structs.vg_exec_mapping.fields;
const decodeExecMapping: Handler<ExecMappingRecord> = (b, at, size, ktime): ExecMappingRecord | DecodeErrorKind => {
  if (size < structs.vg_exec_mapping.size) return "truncated";
  const parts = tail(at, structs.vg_exec_mapping.size, size, [b.u16(at + M.path_len.offset)]);
  const syscall = SYSCALLS.get(b.u16(at + M.syscall.offset));
  if (!parts || !syscall) return "malformed";
  const [pathAt = 0, end = 0] = parts;
  const flags = b.u32(at + M.mem_flags.offset);
  return {
    op: "mem.exec_mapping",
    ktime,
    task: b.task(at + M.task.offset),
    syscall,
    addr: b.u64(at + M.addr.offset),
    len: b.u64(at + M.len.offset),
    prot: b.u32(at + M.prot.offset),
    mapFlags: b.u32(at + M.map_flags.offset),
    fd: b.i32(at + M.fd.offset),
    pkey: b.i32(at + M.pkey.offset),
    path: b.str(pathAt, end),
    pathTruncated: (flags & FLAGS.VG_MEM_PATH_TRUNCATED) !== 0,
    result: b.i64(at + M.result.offset),
  };
};

const F = structs.vg_memfd_create.fields;
const decodeMemfdCreate: Handler<MemfdCreateRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_memfd_create.size) return "truncated";
  const parts = tail(at, structs.vg_memfd_create.size, size, [b.u16(at + F.name_len.offset)]);
  if (!parts) return "malformed";
  const [nameAt = 0, end = 0] = parts;
  return {
    op: "mem.memfd_create",
    ktime,
    task: b.task(at + F.task.offset),
    name: b.str(nameAt, end),
    nameTruncated: (b.u32(at + F.mem_flags.offset) & FLAGS.VG_MEM_NAME_TRUNCATED) !== 0,
    flags: b.u32(at + F.flags.offset),
    result: b.i64n(at + F.result.offset),
  };
};

const OP = enums.vg_op;
export const memHandlers = new Map<number, Handler<MemRecord>>([
  [OP.VG_OP_MEM_EXEC_MAPPING, decodeExecMapping],
  [OP.VG_OP_MEM_MEMFD_CREATE, decodeMemfdCreate],
]);
