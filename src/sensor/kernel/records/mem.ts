import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, decodeTask, type Handler, type TaskRecord, tail } from "./common.js";

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
const decodeExecMapping: Handler<ExecMappingRecord> = (buf, at, size, ktime): ExecMappingRecord | DecodeErrorKind => {
  if (size < structs.vg_exec_mapping.size) return "truncated";
  const parts = tail(at, structs.vg_exec_mapping.size, size, [buf.readUInt16LE(at + M.path_len.offset)]);
  const syscall = SYSCALLS.get(buf.readUInt16LE(at + M.syscall.offset));
  if (!parts || !syscall) return "malformed";
  const [pathAt = 0, end = 0] = parts;
  const flags = buf.readUInt32LE(at + M.mem_flags.offset);
  return {
    op: "mem.exec_mapping",
    ktime,
    task: decodeTask(buf, at + M.task.offset),
    syscall,
    addr: buf.readBigUInt64LE(at + M.addr.offset),
    len: buf.readBigUInt64LE(at + M.len.offset),
    prot: buf.readUInt32LE(at + M.prot.offset),
    mapFlags: buf.readUInt32LE(at + M.map_flags.offset),
    fd: buf.readInt32LE(at + M.fd.offset),
    pkey: buf.readInt32LE(at + M.pkey.offset),
    path: buf.toString("utf8", pathAt, end),
    pathTruncated: (flags & FLAGS.VG_MEM_PATH_TRUNCATED) !== 0,
    result: buf.readBigInt64LE(at + M.result.offset),
  };
};

const F = structs.vg_memfd_create.fields;
const decodeMemfdCreate: Handler<MemfdCreateRecord> = (buf, at, size, ktime) => {
  if (size < structs.vg_memfd_create.size) return "truncated";
  const parts = tail(at, structs.vg_memfd_create.size, size, [buf.readUInt16LE(at + F.name_len.offset)]);
  if (!parts) return "malformed";
  const [nameAt = 0, end = 0] = parts;
  return {
    op: "mem.memfd_create",
    ktime,
    task: decodeTask(buf, at + F.task.offset),
    name: buf.toString("utf8", nameAt, end),
    nameTruncated: (buf.readUInt32LE(at + F.mem_flags.offset) & FLAGS.VG_MEM_NAME_TRUNCATED) !== 0,
    flags: buf.readUInt32LE(at + F.flags.offset),
    result: Number(buf.readBigInt64LE(at + F.result.offset)),
  };
};

const OP = enums.vg_op;
export const memHandlers = new Map<number, Handler<MemRecord>>([
  [OP.VG_OP_MEM_EXEC_MAPPING, decodeExecMapping],
  [OP.VG_OP_MEM_MEMFD_CREATE, decodeMemfdCreate],
]);
