/**
 * Building golden records for the decoder tests: bytes written out by hand from bpf/records/,
 * independent of the generated layout, so that a layout change the decoder does not follow
 * fails a test.
 */

/** Little-endian bytes of one value. */
function le(bytes: number, write: (b: Buffer) => unknown): Buffer {
  const b = Buffer.alloc(bytes);
  write(b);
  return b;
}

export const u8 = (...v: number[]) => Buffer.from(v);
export const u16 = (v: number) => le(2, (b) => b.writeUInt16LE(v));
export const u32 = (v: number) => le(4, (b) => b.writeUInt32LE(v >>> 0));
export const i32 = (v: number) => le(4, (b) => b.writeInt32LE(v));
export const u64 = (v: bigint) => le(8, (b) => b.writeBigUInt64LE(v));
export const i64 = (v: bigint | number) => le(8, (b) => b.writeBigInt64LE(BigInt(v)));

/** A string in a fixed field of n bytes, NUL-padded. */
export const fixed = (s: string, n: number) => Buffer.concat([Buffer.from(s), Buffer.alloc(n - Buffer.byteLength(s))]);

/** struct vg_header: op, flags, size, ktime. */
export const header = (op: number, size: number, ktime: bigint) =>
  Buffer.concat([u16(op), u16(0), u32(size), u64(ktime)]);

/** Wraps records the way the native drain hands them over: u32 length and bytes, the entry padded to 8. */
export function batch(...records: Buffer[]): Buffer {
  const pad = (r: Buffer) => Buffer.alloc(((4 + r.length + 7) & ~7) - 4 - r.length);
  return Buffer.concat(records.flatMap((r) => [u32(r.length), r, pad(r)]));
}
