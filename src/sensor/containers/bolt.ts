/**
 * A reader of bbolt databases (the embedded key/value store of Podman's libpod state and of
 * containerd's metadata), enough to look up a value by its bucket path. Read-only and from a
 * snapshot of the file: bbolt writes copy-on-write pages and flips one of two meta pages last,
 * so the newer meta page with a good checksum names a consistent tree; a file caught mid-write
 * fails its checks and is read again by the caller later.
 *
 * Layout (little-endian on the hosts the sensor runs on): a page is a 16-byte header (id u64,
 * flags u16, count u16, overflow u32) and its elements; pages 0 and 1 are meta pages; a bucket
 * is a B+tree of branch and leaf pages, or, when small, an "inline" page stored in its parent's
 * value after the 16-byte bucket header (root page id 0).
 */

const PAGE_HEADER = 16;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const BUCKET_LEAF = 0x01;
const MAGIC = 0xed0cdaed;

export class BoltError extends Error {
  override name = "BoltError";
}

/** A page: its bytes from the header on (an inline page is a slice of a value). */
interface Page {
  buf: Buffer;
  at: number;
}

export class BoltReader {
  private readonly pageSize: number;
  private readonly root: bigint;

  /** `buf` is the whole database file; throws BoltError when it is not a bbolt database. */
  constructor(private readonly buf: Buffer) {
    const metas = [0, 1].map((n) => this.meta(n === 0 ? 0 : this.pageSizeAt(0))).filter((m) => m !== undefined);
    if (metas.length === 0) throw new BoltError("not a bbolt database (no valid meta page)");
    const newest = metas.reduce((a, b) => (b.txid > a.txid ? b : a));
    this.pageSize = newest.pageSize;
    this.root = newest.root;
  }

  private pageSizeAt(offset: number): number {
    return this.buf.length >= offset + 32 ? this.buf.readUInt32LE(offset + PAGE_HEADER + 8) : 4096;
  }

  private meta(offset: number): { pageSize: number; root: bigint; txid: bigint } | undefined {
    const b = this.buf;
    const m = offset + PAGE_HEADER;
    if (b.length < m + 64) return undefined;
    if ((b.readUInt16LE(offset + 8) & META) === 0 || b.readUInt32LE(m) !== MAGIC || b.readUInt32LE(m + 4) !== 2) {
      return undefined;
    }
    if (fnv1a64(b, m, m + 56) !== b.readBigUInt64LE(m + 56)) return undefined;
    return { pageSize: b.readUInt32LE(m + 8), root: b.readBigUInt64LE(m + 16), txid: b.readBigUInt64LE(m + 48) };
  }

  private page(id: bigint): Page {
    const at = Number(id) * this.pageSize;
    if (id < 2n || at + PAGE_HEADER > this.buf.length) throw new BoltError(`page ${id} is outside the file`);
    return { buf: this.buf, at };
  }

  /**
   * The value at `key` in the bucket reached through `buckets` from the root; undefined when a
   * bucket or the key is absent. A bucket found where a value is asked for is undefined too.
   */
  get(buckets: readonly string[], key: string): Buffer | undefined {
    let page = this.page(this.root);
    for (const name of buckets) {
      const found = this.find(page, Buffer.from(name));
      if (!found?.bucket) return undefined;
      page = this.bucketRoot(found.value);
    }
    const found = this.find(page, Buffer.from(key));
    return found && !found.bucket ? found.value : undefined;
  }

  /** Every value of the bucket at `buckets` as a string, by key; empty when it is absent. */
  bucketStrings(buckets: readonly string[]): Record<string, string> {
    let page = this.page(this.root);
    for (const name of buckets) {
      const found = this.find(page, Buffer.from(name));
      if (!found?.bucket) return {};
      page = this.bucketRoot(found.value);
    }
    const out: Record<string, string> = {};
    this.each(page, (key, value, bucket) => {
      if (!bucket) out[key.toString()] = value.toString();
    });
    return out;
  }

  private each(page: Page, visit: (key: Buffer, value: Buffer, bucket: boolean) => void, depth = 0): void {
    if (depth > 64) throw new BoltError("bucket tree is deeper than 64 pages");
    const { buf, at } = page;
    if (at + PAGE_HEADER > buf.length) throw new BoltError("page is outside the file");
    const flags = buf.readUInt16LE(at + 8);
    const count = buf.readUInt16LE(at + 10);
    for (let i = 0; i < count; i++) {
      const e = at + PAGE_HEADER + i * 16;
      if (flags & LEAF) {
        const pos = e + buf.readUInt32LE(e + 4);
        const ksize = buf.readUInt32LE(e + 8);
        const vsize = buf.readUInt32LE(e + 12);
        if (pos + ksize + vsize > buf.length) throw new BoltError("leaf element is outside the file");
        visit(
          buf.subarray(pos, pos + ksize),
          buf.subarray(pos + ksize, pos + ksize + vsize),
          (buf.readUInt32LE(e) & BUCKET_LEAF) !== 0,
        );
      } else if (flags & BRANCH) {
        this.each(this.page(buf.readBigUInt64LE(e + 8)), visit, depth + 1);
      } else {
        throw new BoltError(`page of type ${flags} where a branch or leaf was expected`);
      }
    }
  }

  private bucketRoot(header: Buffer): Page {
    if (header.length < 16) throw new BoltError("bucket header is short");
    const root = header.readBigUInt64LE(0);
    return root === 0n ? { buf: header, at: 16 } : this.page(root);
  }

  /** Descends from `page` to the leaf element with `key`. */
  private find(start: Page, key: Buffer): { value: Buffer; bucket: boolean } | undefined {
    let page = start;
    for (let depth = 0; depth < 64; depth++) {
      const { buf, at } = page;
      if (at + PAGE_HEADER > buf.length) throw new BoltError("page is outside the file");
      const flags = buf.readUInt16LE(at + 8);
      const count = buf.readUInt16LE(at + 10);
      const elems = at + PAGE_HEADER;
      if (flags & LEAF) {
        for (let i = 0; i < count; i++) {
          const e = elems + i * 16;
          const pos = e + buf.readUInt32LE(e + 4);
          const ksize = buf.readUInt32LE(e + 8);
          const vsize = buf.readUInt32LE(e + 12);
          if (pos + ksize + vsize > buf.length) throw new BoltError("leaf element is outside the file");
          if (buf.compare(key, 0, key.length, pos, pos + ksize) !== 0) continue;
          return {
            value: buf.subarray(pos + ksize, pos + ksize + vsize),
            bucket: (buf.readUInt32LE(e) & BUCKET_LEAF) !== 0,
          };
        }
        return undefined;
      }
      if (!(flags & BRANCH)) throw new BoltError(`page of type ${flags} where a branch or leaf was expected`);
      // The last child whose first key is not after `key` (compare() > 0: the element's key sorts after it).
      let child: bigint | undefined;
      for (let i = 0; i < count; i++) {
        const e = elems + i * 16;
        const pos = e + buf.readUInt32LE(e);
        const ksize = buf.readUInt32LE(e + 4);
        if (i > 0 && buf.compare(key, 0, key.length, pos, pos + ksize) > 0) break;
        child = buf.readBigUInt64LE(e + 8);
      }
      if (child === undefined) return undefined;
      page = this.page(child);
    }
    throw new BoltError("bucket tree is deeper than 64 pages");
  }
}

/** FNV-1a, 64-bit: bbolt's meta page checksum. */
function fnv1a64(buf: Buffer, from: number, to: number): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = from; i < to; i++) {
    h ^= BigInt(buf[i] as number);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}
