import type { Handler } from "./common.js";
import { type DenialRecord, enforceHandlers } from "./enforce.js";
import { type FileRecord, fileHandlers } from "./file.js";
import { type KernelRecord as KernelDomainRecord, kernelHandlers } from "./kernel.js";
import { type MemRecord, memHandlers } from "./mem.js";
import { type NetRecord, netHandlers } from "./net.js";
import { type ProcRecord, procHandlers } from "./proc.js";
import { type ProcessRecord, processHandlers } from "./process.js";

export type { DecodeErrorKind, Handler, TaskRecord } from "./common.js";
export { RecordBytes } from "./common.js";
export type { DenialRecord, EnforceHook } from "./enforce.js";
export type { FileRecord } from "./file.js";
export type { MemRecord } from "./mem.js";
export type { NetRecord } from "./net.js";
export type { ProcRecord } from "./proc.js";
export type { ExecRecord, ExitRecord, ForkRecord, ProcessRecord } from "./process.js";
export type { KernelDomainRecord };

/** Every record the kernel programs send, decoded. */
export type KernelRecord =
  | ProcessRecord
  | FileRecord
  | NetRecord
  | MemRecord
  | ProcRecord
  | KernelDomainRecord
  | DenialRecord;

/** The decoder for each op (enum vg_op), from every domain. */
export const handlers = new Map<number, Handler<KernelRecord>>([
  ...processHandlers,
  ...fileHandlers,
  ...netHandlers,
  ...memHandlers,
  ...procHandlers,
  ...kernelHandlers,
  ...enforceHandlers,
]);
