/**
 * Writes small bbolt database files, for tests of the reader: every bucket on pages of its own
 * (a bucket of four keys or more as two leaves under a branch page) or inline in its parent,
 * values past a page on overflow pages, two meta pages of which the newer is the one in force.
 */

const PAGE = 4096;

export type BoltTree = { [key: string]: string | Buffer | BoltTree | InlineBucket };
export interface InlineBucket {
  inline: BoltTree;
}

const isInline = (v: unknown): v is InlineBucket =>
  typeof v === "object" && v !== null && !Buffer.isBuffer(v) && "inline" in v && Object.keys(v).length === 1;

function fnv1a64(buf: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

export function boltFile(tree: BoltTree, options: { corruptNewerMeta?: boolean } = {}): Buffer {
  const pages: Buffer[] = [Buffer.alloc(PAGE), Buffer.alloc(PAGE), Buffer.alloc(PAGE)];
  // Page 2: an empty freelist.
  pages[2]?.writeBigUInt64LE(2n, 0);
  pages[2]?.writeUInt16LE(0x10, 8);

  const pageHeader = (buf: Buffer, id: number, flags: number, count: number, overflow: number) => {
    buf.writeBigUInt64LE(BigInt(id), 0);
    buf.writeUInt16LE(flags, 8);
    buf.writeUInt16LE(count, 10);
    buf.writeUInt32LE(overflow, 12);
  };

  /** A leaf page's bytes (without padding) for these entries. */
  const leafBytes = (id: number, entries: [string, Buffer, boolean][]): Buffer => {
    const elems = Buffer.alloc(16 + entries.length * 16);
    const data: Buffer[] = [];
    let offset = elems.length;
    entries.forEach(([key, value, bucket], i) => {
      const e = 16 + i * 16;
      const k = Buffer.from(key);
      elems.writeUInt32LE(bucket ? 1 : 0, e);
      elems.writeUInt32LE(offset - e, e + 4);
      elems.writeUInt32LE(k.length, e + 8);
      elems.writeUInt32LE(value.length, e + 12);
      data.push(k, value);
      offset += k.length + value.length;
    });
    const page = Buffer.concat([elems, ...data]);
    pageHeader(page, id, 0x02, entries.length, Math.max(0, Math.ceil(page.length / PAGE) - 1));
    return page;
  };

  const place = (bytes: Buffer): number => {
    const id = pages.length;
    const n = Math.ceil(bytes.length / PAGE);
    const padded = Buffer.alloc(n * PAGE);
    bytes.copy(padded);
    padded.writeBigUInt64LE(BigInt(id), 0);
    for (let i = 0; i < n; i++) pages.push(padded.subarray(i * PAGE, (i + 1) * PAGE));
    return id;
  };

  const entriesOf = (t: BoltTree): [string, Buffer, boolean][] =>
    Object.keys(t)
      .sort()
      .map((key) => {
        const v = t[key] as string | Buffer | BoltTree | InlineBucket;
        if (typeof v === "string") return [key, Buffer.from(v), false];
        if (Buffer.isBuffer(v)) return [key, v, false];
        const header = Buffer.alloc(16);
        if (isInline(v)) return [key, Buffer.concat([header, leafBytes(0, entriesOf(v.inline))]), true];
        header.writeBigUInt64LE(BigInt(writeBucket(v)), 0);
        return [key, header, true];
      });

  /** Writes a bucket's pages; returns its root page id. */
  const writeBucket = (t: BoltTree): number => {
    const entries = entriesOf(t);
    if (entries.length < 4) return place(leafBytes(0, entries));
    const half = Math.ceil(entries.length / 2);
    const parts = [entries.slice(0, half), entries.slice(half)];
    const children = parts.map((part) => place(leafBytes(0, part)));
    const elems = Buffer.alloc(16 + parts.length * 16);
    const keys: Buffer[] = [];
    let offset = elems.length;
    parts.forEach((part, i) => {
      const e = 16 + i * 16;
      const k = Buffer.from(part[0]?.[0] ?? "");
      elems.writeUInt32LE(offset - e, e);
      elems.writeUInt32LE(k.length, e + 4);
      elems.writeBigUInt64LE(BigInt(children[i] as number), e + 8);
      keys.push(k);
      offset += k.length;
    });
    const branch = Buffer.concat([elems, ...keys]);
    pageHeader(branch, 0, 0x01, parts.length, 0);
    return place(branch);
  };

  const root = writeBucket(tree);
  const meta = (id: number, txid: number, rootPage: number, corrupt: boolean) => {
    const page = pages[id] as Buffer;
    pageHeader(page, id, 0x04, 0, 0);
    const m = page.subarray(16);
    m.writeUInt32LE(0xed0cdaed, 0);
    m.writeUInt32LE(2, 4);
    m.writeUInt32LE(PAGE, 8);
    m.writeBigUInt64LE(BigInt(rootPage), 16);
    m.writeBigUInt64LE(2n, 32);
    m.writeBigUInt64LE(BigInt(pages.length), 40);
    m.writeBigUInt64LE(BigInt(txid), 48);
    m.writeBigUInt64LE(fnv1a64(m.subarray(0, 56)) ^ (corrupt ? 1n : 0n), 56);
  };
  // The older meta names an empty root bucket; the newer the tree.
  const empty = place(leafBytes(0, []));
  meta(0, 1, empty, false);
  meta(1, 2, root, options.corruptNewerMeta ?? false);
  return Buffer.concat(pages);
}
