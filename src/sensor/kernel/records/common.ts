import { structs } from "../layout.generated.js";

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

/** Why a record was skipped. */
export type DecodeErrorKind = "truncated" | "unknown_op" | "malformed";

/**
 * Decodes one record of a known op: `at` is where it starts in `buf`, `size` its size from
 * the header (already checked to lie within the batch). Returns an error kind for a bad one.
 */
export type Handler<R> = (buf: Buffer, at: number, size: number, ktime: bigint) => R | DecodeErrorKind;

const T = structs.vg_task.fields;

/** A NUL-terminated string in a fixed field of `max` bytes. */
export function cString(buf: Buffer, start: number, max: number): string {
  const nul = buf.indexOf(0, start);
  const end = nul === -1 || nul > start + max ? start + max : nul;
  return buf.toString("utf8", start, end);
}

export function decodeTask(buf: Buffer, at: number): TaskRecord {
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
 * Variable-length parts that follow a record's fixed struct, in order: returns the start of
 * each and the end, or undefined when they overrun the record (a malformed record).
 */
export function tail(at: number, fixedSize: number, size: number, lengths: number[]): number[] | undefined {
  const starts: number[] = [];
  let pos = at + fixedSize;
  for (const len of lengths) {
    starts.push(pos);
    pos += len;
  }
  starts.push(pos);
  return pos > at + size ? undefined : starts;
}
