import { structs } from "./layout.generated.js";
import { type DecodeErrorKind, handlers, type KernelRecord, RecordBytes } from "./records/index.js";

export type * from "./records/index.js";

export interface DecodeStats {
  records: number;
  errors: Record<DecodeErrorKind, number>;
}

const H = structs.vg_header.fields;
const HEADER_SIZE = structs.vg_header.size;

/**
 * Decodes the records of one batch from the kernel bridge. The envelope is read here and the
 * rest by the op's handler (records/); a bad record is counted and skipped, and the rest of the
 * batch still decodes.
 */
export class RecordDecoder {
  readonly stats: DecodeStats = { records: 0, errors: { truncated: 0, unknown_op: 0, malformed: 0 } };
  private readonly bytes = new RecordBytes();

  /** Entries of u32 length and the record, each entry padded to a multiple of 8 bytes. */
  decodeBatch(batch: Buffer, onRecord: (record: KernelRecord) => void): void {
    const b = this.bytes;
    b.reset(batch);
    let at = 0;
    while (at + 4 <= batch.length) {
      const len = b.u32(at);
      const start = at + 4;
      if (start + len > batch.length) {
        this.stats.errors.truncated++;
        return;
      }
      const record = this.decodeAt(b, start, len);
      if (typeof record === "string") this.stats.errors[record]++;
      else {
        this.stats.records++;
        onRecord(record);
      }
      at += (4 + len + 7) & ~7;
    }
  }

  /** Decodes one record occupying `len` bytes at `at` of `buf`. */
  decode(buf: Buffer, at: number, len: number): KernelRecord | DecodeErrorKind {
    return this.decodeAt(new RecordBytes(buf), at, len);
  }

  private decodeAt(b: RecordBytes, at: number, len: number): KernelRecord | DecodeErrorKind {
    if (len < HEADER_SIZE) return "truncated";
    const size = b.u32(at + H.size.offset);
    if (size > len) return "truncated";
    if (size < HEADER_SIZE) return "malformed";
    const handler = handlers.get(b.u16(at + H.op.offset));
    if (!handler) return "unknown_op";
    return handler(b, at, size, b.u64(at + H.ktime.offset));
  }
}
