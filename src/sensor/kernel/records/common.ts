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
 * Decodes one record of a known op: `at` is where it starts in the batch, `size` its size from
 * the header (already checked to lie within the batch). Returns an error kind for a bad one.
 */
export type Handler<R> = (b: RecordBytes, at: number, size: number, ktime: bigint) => R | DecodeErrorKind;

const T = structs.vg_task.fields;
const TASK_WORDS = structs.vg_task.size / 4;

/** Strings of up to this many bytes are cached, in this many slots (a power of two). */
const INTERN_MAX = 256;
const INTERN_SLOTS = 4096;

/** A cached string and its bytes: whole little-endian words, and the last 0-3 bytes. */
interface Interned {
  len: number;
  last: number;
  words: Int32Array;
  str: string;
}

/**
 * The bytes of one batch, as the decoders read them. Reads go through a DataView, which V8
 * compiles to plain loads, where Buffer's read methods assemble every value (and every BigInt)
 * from single bytes: the decoder's hottest loop runs several times faster this way.
 */
export class RecordBytes {
  buf: Buffer = Buffer.alloc(0);
  private view = new DataView(this.buf.buffer, 0, 0);
  /** The previous record's task bytes and what they decoded to: a busy process repeats them. */
  private lastTaskWords = new Int32Array(TASK_WORDS);
  private lastTask: TaskRecord | undefined;
  private readonly interned: (Interned | undefined)[] = new Array(INTERN_SLOTS).fill(undefined);

  constructor(buf?: Buffer) {
    if (buf) this.reset(buf);
  }

  /** Points the reader at the next batch. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get length(): number {
    return this.buf.length;
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  i32(at: number): number {
    return this.view.getInt32(at, true);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
  i64(at: number): bigint {
    return this.view.getBigInt64(at, true);
  }
  /**
   * A signed 64-bit value as a number, for the ones that fit in 53 bits (syscall results:
   * an fd, a count or -errno): no BigInt is made.
   */
  i64n(at: number): number {
    return this.view.getInt32(at + 4, true) * 4294967296 + this.view.getUint32(at, true);
  }
  /**
   * UTF-8 text of bytes [start, end). Short strings come from a cache keyed by their bytes: the
   * same paths and names arrive again and again, and hashing a few words in JS costs less than
   * making a new string (and collecting it later).
   */
  str(start: number, end: number): string {
    const len = end - start;
    if (len <= 0) return "";
    if (len > INTERN_MAX) return this.buf.toString("utf8", start, end);
    const view = this.view;
    const words = len >>> 2;
    let hash = len;
    for (let i = 0; i < words; i++) hash = Math.imul(hash ^ view.getInt32(start + 4 * i, true), 0x9e3779b1);
    let last = 0;
    for (let at = start + 4 * words; at < end; at++) last = (last << 8) | view.getUint8(at);
    hash = Math.imul(hash ^ last, 0x85ebca6b);
    hash ^= hash >>> 15;
    const slot = hash & (INTERN_SLOTS - 1);
    const known = this.interned[slot];
    if (known !== undefined && known.len === len && known.last === last) {
      let same = true;
      for (let i = 0; same && i < words; i++) same = view.getInt32(start + 4 * i, true) === known.words[i];
      if (same) return known.str;
    }
    const copy = new Int32Array(words);
    for (let i = 0; i < words; i++) copy[i] = view.getInt32(start + 4 * i, true);
    const str = this.buf.toString("utf8", start, end);
    this.interned[slot] = { len, last, words: copy, str };
    return str;
  }
  /** A NUL-terminated string in a fixed field of `max` bytes. */
  cString(start: number, max: number): string {
    const nul = this.buf.indexOf(0, start);
    const end = nul === -1 || nul > start + max ? start + max : nul;
    return this.str(start, end);
  }

  /**
   * struct vg_task at `at`. Records of one process come in runs, so the previous record's
   * TaskRecord is handed out again when the kernel sent the same bytes: decoders must not
   * change what they get.
   */
  task(at: number): TaskRecord {
    const last = this.lastTaskWords;
    let same = this.lastTask !== undefined;
    for (let i = 0; same && i < TASK_WORDS; i++) same = this.view.getInt32(at + 4 * i, true) === last[i];
    if (same) return this.lastTask as TaskRecord;
    for (let i = 0; i < TASK_WORDS; i++) last[i] = this.view.getInt32(at + 4 * i, true);
    this.lastTask = {
      pid: this.u32(at + T.pid.offset),
      tid: this.u32(at + T.tid.offset),
      ppid: this.u32(at + T.ppid.offset),
      uid: this.u32(at + T.uid.offset),
      gid: this.u32(at + T.gid.offset),
      euid: this.u32(at + T.euid.offset),
      egid: this.u32(at + T.egid.offset),
      cgroupId: this.u64(at + T.cgroup_id.offset),
      startBoottime: this.u64(at + T.start_boottime.offset),
      comm: this.cString(at + T.comm.offset, T.comm.size),
    };
    return this.lastTask;
  }
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
