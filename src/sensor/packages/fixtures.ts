import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import yazl from "yazl";
import type { Container } from "../containers/index.js";
import type { Actor } from "../state/index.js";
import { GO_BUILDINFO_MAGIC } from "./go-buildinfo.js";

/** Test fixtures: package trees laid out as installers write them, below a directory. */

export function put(root: string, path: string, content: string | Buffer): string {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A wheel-installed distribution: its files, and a dist-info with METADATA and RECORD. */
export function pythonDist(site: string, name: string, version: string, files: string[], record = true): void {
  const info = `${name.replace(/-/g, "_")}-${version}.dist-info`;
  for (const f of files) put(site, f, "# module\n");
  put(
    site,
    `${info}/METADATA`,
    `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: x\n\nLong: text\n`,
  );
  if (record) {
    const lines = [...files, `${info}/METADATA`, `${info}/RECORD`, "../../../bin/tool"].map(
      (f) => `${f},sha256=abc,10`,
    );
    put(site, `${info}/RECORD`, `${lines.join("\n")}\n`);
  } else {
    const tops = [...new Set(files.map((f) => f.split("/")[0]?.replace(/\.py$/, "")))];
    put(site, `${info}/top_level.txt`, `${tops.join("\n")}\n`);
  }
}

export function nodePackage(modules: string, name: string, version: string): string {
  put(modules, `${name}/package.json`, JSON.stringify({ name, version, main: "index.js" }));
  return put(modules, `${name}/index.js`, "module.exports = 1;\n");
}

/** A jar built with a zip library, holding the given entries (and a class file). */
export async function jar(file: string, entries: Record<string, string>): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name);
  zip.addBuffer(Buffer.alloc(100, 0xca), "com/example/Main.class");
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.from(bytes);
}

/**
 * An ELF64 file laid out as the Go linker writes the build info (Go 1.18 and later): a
 * `.go.buildinfo` section whose 32-byte header (magic, pointer size, flags with the inline
 * bit) is followed by the Go version and the module info, each prefixed by its length as a
 * varint, the module info between 16-byte sentinels. Built by hand: there is no Go toolchain here.
 */
export function goBinary(goVersion: string, modules: string[], withSections = true): Buffer {
  const header = Buffer.alloc(32);
  GO_BUILDINFO_MAGIC.copy(header);
  header[14] = 8;
  header[15] = 0x2;
  const info = Buffer.from(`${"0".repeat(16)}${modules.join("\n")}\n${"1".repeat(16)}`, "latin1");
  const version = Buffer.from(goVersion);
  const data = Buffer.concat([header, varint(version.length), version, varint(info.length), info]);
  const padded = Buffer.concat([data, Buffer.alloc((16 - (data.length % 16)) % 16)]);
  const names = Buffer.from("\0.go.buildinfo\0.shstrtab\0", "latin1");
  const dataOff = 0x40 + 0x38; // after the ELF header and one program header
  const namesOff = dataOff + padded.length;
  const shOff = namesOff + names.length + ((8 - ((namesOff + names.length) % 8)) % 8);
  const elf = Buffer.alloc(withSections ? shOff + 3 * 64 : namesOff);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little-endian
  elf[6] = 1;
  elf.writeUInt16LE(2, 0x10); // ET_EXEC
  elf.writeUInt16LE(0x3e, 0x12); // x86-64
  elf.writeBigUInt64LE(0x40n, 0x20); // program headers
  if (withSections) elf.writeBigUInt64LE(BigInt(shOff), 0x28);
  elf.writeUInt16LE(64, 0x34);
  elf.writeUInt16LE(0x38, 0x36);
  elf.writeUInt16LE(1, 0x38);
  elf.writeUInt16LE(64, 0x3a);
  elf.writeUInt16LE(withSections ? 3 : 0, 0x3c);
  elf.writeUInt16LE(withSections ? 2 : 0, 0x3e);
  // One writable PT_LOAD segment starting at the data.
  elf.writeUInt32LE(1, 0x40);
  elf.writeUInt32LE(6, 0x44);
  elf.writeBigUInt64LE(BigInt(dataOff), 0x48);
  padded.copy(elf, dataOff);
  if (withSections) {
    names.copy(elf, namesOff);
    const section = (i: number, name: number, offset: number, size: number) => {
      const at = shOff + i * 64;
      elf.writeUInt32LE(name, at);
      elf.writeUInt32LE(i === 2 ? 3 : 1, at + 4);
      elf.writeBigUInt64LE(BigInt(offset), at + 0x18);
      elf.writeBigUInt64LE(BigInt(size), at + 0x20);
    };
    section(1, 1, dataOff, padded.length);
    section(2, 15, namesOff, names.length);
  }
  return elf;
}

/** dpkg's database below a root: status, and one .list per package. */
export function dpkgDatabase(
  root: string,
  packages: { name: string; version: string; arch?: string; files: string[] }[],
): void {
  const stanzas = packages.map((p) =>
    [
      `Package: ${p.name}`,
      "Status: install ok installed",
      `Architecture: ${p.arch ?? "amd64"}`,
      ...(p.arch ? ["Multi-Arch: same"] : []),
      `Version: ${p.version}`,
      "Description: x",
    ].join("\n"),
  );
  put(root, "var/lib/dpkg/status", `${stanzas.join("\n\n")}\n`);
  for (const p of packages) {
    put(root, `var/lib/dpkg/info/${p.name}${p.arch ? `:${p.arch}` : ""}.list`, `/.\n${p.files.join("\n")}\n`);
    for (const f of p.files) put(root, f.slice(1), "ELF");
  }
}

let nextPid = 40_000;

/** A process as the process table holds it, in `container` when given. */
export function actor(exe: string, container?: string, pid = nextPid++): Actor {
  return {
    pid,
    ppid: 1,
    uid: 0,
    gid: 0,
    euid: 0,
    comm: exe.split("/").pop() ?? "",
    exe,
    args: [exe],
    argsTruncated: false,
    cwd: "/",
    cgroupId: 1n,
    container: container === undefined ? null : ({ id: container } as Container),
    startBoottime: BigInt(pid) * 1000n,
  };
}
