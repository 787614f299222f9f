import { open } from "node:fs/promises";
import { fsProblem, type PackageId, PackageMetadataError } from "./package.js";

/**
 * The module list a Go toolchain (1.18 and later) writes into every binary it links, as
 * `go version -m` prints it. The format is defined only by Go's own debug/buildinfo package:
 * npm has no reader of it, and the scanners that read it (Syft, Trivy) are Go programs. So this
 * is a small reader of the part that names modules: the ELF section `.go.buildinfo` (or the
 * start of the first writable segment, where the linker puts it when sections are stripped),
 * its 32-byte header, then two length-prefixed strings, the Go version and the module info.
 */

export const GO_BUILDINFO_MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const HEADER_BYTES = 32;
/** Go's reader looks this far into the data for the header; so does this one. */
const SEARCH_BYTES = 64 * 1024;
/** Go 1.18 and later write the strings after the header instead of pointers to them. */
const FLAG_INLINE = 0x2;

export interface GoBuildInfo {
  goVersion: string;
  /** The main module; absent when built outside a module (`go build file.go`). */
  main?: PackageId;
  /** The dependencies, with a replacement's path and version where one was in force. */
  deps: PackageId[];
}

/** The varint-prefixed string at `at`; the offset after it. */
function readString(b: Buffer, at: number): [string, number] | undefined {
  let length = 0;
  let shift = 0;
  for (;;) {
    if (at >= b.length || shift > 28) return undefined;
    const byte = b[at++] as number;
    length |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  if (at + length > b.length) return undefined;
  return [b.toString("utf8", at, at + length), at + length];
}

/** The module lines of the info string: `mod`, `dep` and `=>` (the previous dep's replacement). */
export function parseModuleInfo(info: string): { main?: PackageId; deps: PackageId[] } {
  // The linker brackets the text with 16 sentinel bytes on each side.
  const text = info.length >= 33 && info[info.length - 17] === "\n" ? info.slice(16, -16) : info;
  let main: PackageId | undefined;
  const deps: PackageId[] = [];
  for (const line of text.split("\n")) {
    const [tag, path, version] = line.split("\t");
    if (!path) continue;
    const id: PackageId = { ecosystem: "go", name: path, version: version || "(devel)" };
    if (tag === "mod") main = id;
    else if (tag === "dep") deps.push(id);
    else if (tag === "=>" && deps.length > 0) deps[deps.length - 1] = id;
  }
  return { ...(main && { main }), deps };
}

/** The build info in `data` (the bytes from where it may start); undefined without the header. */
export function parseGoBuildInfo(data: Buffer, file: string): GoBuildInfo | undefined {
  let at = -1;
  for (let i = 0; i + HEADER_BYTES <= data.length; i += 16) {
    if (data.subarray(i, i + GO_BUILDINFO_MAGIC.length).equals(GO_BUILDINFO_MAGIC)) {
      at = i;
      break;
    }
  }
  if (at < 0) return undefined;
  const flags = data[at + 15] as number;
  if ((flags & FLAG_INLINE) === 0)
    throw new PackageMetadataError(file, "Go build info of a toolchain older than 1.18 (pointers, not inline strings)");
  const version = readString(data, at + HEADER_BYTES);
  const info = version && readString(data, version[1]);
  if (!version || !info) throw new PackageMetadataError(file, "Go build info cut short");
  return { goVersion: version[0], ...parseModuleInfo(info[0]) };
}

/** Where the build info may start, from the ELF headers: [file offset, bytes]; undefined if not ELF. */
function dataStart(head: Buffer, sections: (offset: number, size: number) => Promise<Buffer>) {
  return async (): Promise<[number, number] | undefined> => {
    if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = head[4] === 2;
    if (head[5] !== 1) return undefined; // big-endian ELF: not a platform the sensor runs on
    const u = (b: Buffer, at: number) => (is64 ? Number(b.readBigUInt64LE(at)) : b.readUInt32LE(at));
    const shoff = u(head, is64 ? 0x28 : 0x20);
    const shentsize = head.readUInt16LE(is64 ? 0x3a : 0x2e);
    const shnum = head.readUInt16LE(is64 ? 0x3c : 0x30);
    const shstrndx = head.readUInt16LE(is64 ? 0x3e : 0x32);
    if (shoff > 0 && shnum > 0 && shstrndx < shnum) {
      const table = await sections(shoff, shentsize * shnum);
      const sh = (i: number) => {
        const at = i * shentsize;
        return {
          name: table.readUInt32LE(at),
          offset: u(table, at + (is64 ? 0x18 : 0x10)),
          size: u(table, at + (is64 ? 0x20 : 0x14)),
        };
      };
      const strtab = sh(shstrndx);
      const names = await sections(strtab.offset, Math.min(strtab.size, 1 << 20));
      for (let i = 0; i < shnum; i++) {
        const s = sh(i);
        const end = names.indexOf(0, s.name);
        if (names.toString("latin1", s.name, end < 0 ? undefined : end) === ".go.buildinfo") return [s.offset, s.size];
      }
    }
    // No section table: the first writable PT_LOAD segment, where the linker places it.
    const phoff = u(head, is64 ? 0x20 : 0x1c);
    const phentsize = head.readUInt16LE(is64 ? 0x36 : 0x2a);
    const phnum = head.readUInt16LE(is64 ? 0x38 : 0x2c);
    const table = await sections(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      const type = table.readUInt32LE(at);
      const flags = table.readUInt32LE(at + (is64 ? 4 : 0x18));
      if (type === 1 && flags & 2) return [u(table, at + (is64 ? 8 : 4)), SEARCH_BYTES];
    }
    return undefined;
  };
}

/** The build info of the executable `file`; undefined when it is not a Go binary (or not ELF). */
export async function readGoBuildInfo(file: string): Promise<GoBuildInfo | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (err) {
    throw new PackageMetadataError(file, fsProblem(err));
  }
  try {
    const readAt = async (offset: number, size: number): Promise<Buffer> => {
      const buf = Buffer.alloc(Math.max(0, Math.min(size, 16 << 20)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    };
    const head = await readAt(0, 64);
    const where = await dataStart(head, readAt)();
    if (!where) return undefined;
    return parseGoBuildInfo(await readAt(where[0], Math.min(where[1], SEARCH_BYTES)), file);
  } catch (err) {
    if (err instanceof PackageMetadataError) throw err;
    throw new PackageMetadataError(file, `unreadable ELF: ${fsProblem(err)}`);
  } finally {
    await handle.close();
  }
}
