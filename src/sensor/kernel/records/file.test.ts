import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventBase, VigilEvent } from "../../../events/schema.js";
import { EventSchema } from "../../../events/schema.js";
import { absolutePath, errorName, fileBuilders } from "../../enrich/file.js";
import { RecordDecoder } from "../decode.js";
import type { FileRecord } from "./file.js";
import { batch } from "./golden.js";

/*
 * Golden records: bytes written out by hand from bpf/records/file.h, independent of the
 * generated layout, so that a layout change the decoder does not follow fails here.
 */
const le = (bytes: number, v: number | bigint) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigInt64LE(BigInt(v));
  else if (bytes === 4) b.writeInt32LE(Number(v) > 0x7fffffff ? Number(v) - 2 ** 32 : Number(v));
  else b.writeUInt16LE(Number(v));
  return b;
};
const comm = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(16 - s.length)]);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm
const task = Buffer.concat([
  le(4, 4242),
  le(4, 4243),
  le(4, 4100),
  le(4, 1000),
  le(4, 1001),
  le(4, 0),
  le(4, 1002),
  le(4, 0),
  le(8, 7n),
  le(8, 5_000_000_000n),
  comm("cat"),
]);

interface Fields {
  op: number;
  result?: number;
  length?: bigint;
  ino?: bigint;
  dev?: number;
  flags?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  fd?: number;
  syscall: number;
  fileFlags?: number;
  path?: string;
  dir?: string;
  path2?: string;
  dir2?: string;
  file?: string;
  /** Overrides the size in the header. */
  size?: number;
}

/** struct vg_file (144 bytes) and its parts: path, dir, path2, dir2, file. */
function fileRecord(f: Fields): Buffer {
  const parts = [f.path, f.dir, f.path2, f.dir2, f.file].map((p) => Buffer.from(p ?? ""));
  const size = f.size ?? 144 + parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([
    le(2, f.op),
    le(2, 0),
    le(4, size),
    le(8, 123456789n),
    task,
    le(8, BigInt(f.result ?? 0)),
    le(8, f.length ?? 0n),
    le(8, f.ino ?? 0n),
    le(4, f.dev ?? 0),
    le(4, f.flags ?? 0),
    le(4, f.mode ?? 0),
    le(4, f.uid ?? 0),
    le(4, f.gid ?? 0),
    le(4, f.fd ?? -1),
    le(2, f.syscall),
    le(2, f.fileFlags ?? 0),
    ...parts.map((p) => le(2, p.length)),
    le(2, 0),
    ...parts,
  ]);
}

function decode(...records: Buffer[]): { out: FileRecord[]; d: RecordDecoder } {
  const d = new RecordDecoder();
  const out: FileRecord[] = [];
  d.decodeBatch(batch(...records), (r) => out.push(r as FileRecord));
  return { out, d };
}

const base: EventBase = {
  time: 1764000000000000000n,
  mono_time: 123456789n,
  process: {
    pid: 4242,
    tid: 4243,
    ppid: 4100,
    uid: 1000,
    gid: 1001,
    euid: 0,
    comm: "cat",
    exe: "/usr/bin/cat",
    args: ["cat", "x"],
    args_truncated: false,
    cwd: "/home/u",
    cgroup_id: 7n,
    start_time: 1763999999000000000n,
    ancestry: [],
  },
  container: null,
  k8s: null,
};

/** The events the builders make of a record; each checked against the schema. */
function build(record: FileRecord): VigilEvent[] {
  const events: VigilEvent[] = [];
  const builder = fileBuilders[record.op] as (r: FileRecord, b: EventBase, emit: (e: VigilEvent) => void) => void;
  builder(record, base, (e) => events.push(EventSchema.parse(e)));
  return events;
}

// enum vg_op, enum vg_file_syscall, enum vg_file_flags
const OPEN = 10;
const RENAME = 12;
const CHMOD = 13;
const CHOWN = 14;
const SYMLINK = 16;
const TRUNCATE = 18;
const SYS_OPENAT = 2;
const SYS_RENAMEAT2 = 22;
const SYS_FCHMOD = 31;
const SYS_CHOWN = 40;
const SYS_SYMLINKAT = 61;
const SYS_FTRUNCATE = 81;
const PATH_TRUNCATED = 1;
const PATH2_TRUNCATED = 2;
const FILE_TRUNCATED = 4;

test("an open record decodes every field", () => {
  const { out, d } = decode(
    fileRecord({
      op: OPEN,
      result: 3,
      ino: 131073n,
      dev: 0x800001,
      flags: 0o2101,
      mode: 0o644,
      syscall: SYS_OPENAT,
      path: "x",
      dir: "",
      file: "/home/u/x",
    }),
  );
  assert.deepEqual(out, [
    {
      op: "file.open",
      ktime: 123456789n,
      task: {
        pid: 4242,
        tid: 4243,
        ppid: 4100,
        uid: 1000,
        gid: 1001,
        euid: 0,
        egid: 1002,
        cgroupId: 7n,
        startBoottime: 5_000_000_000n,
        comm: "cat",
      },
      syscall: "openat",
      result: 3,
      length: 0n,
      ino: 131073n,
      dev: 0x800001,
      flags: 0o2101,
      mode: 0o644,
      uid: 0,
      gid: 0,
      fd: -1,
      path: "x",
      dir: "",
      pathTruncated: false,
      path2: "",
      dir2: "",
      path2Truncated: false,
      file: "/home/u/x",
      fileTruncated: false,
    },
  ]);
  assert.equal(d.stats.records, 1);
});

test("a successful open reports the file reached; the flags are decoded", () => {
  const [record] = decode(
    fileRecord({
      op: OPEN,
      result: 3,
      ino: 131073n,
      dev: 0x800001,
      flags: 0o2101, // O_WRONLY | O_CREAT | O_APPEND
      mode: 0o644,
      syscall: SYS_OPENAT,
      path: "link",
      file: "/etc/passwd",
    }),
  ).out;
  assert.ok(record);
  assert.deepEqual(build(record), [
    {
      kind: "file.open",
      ...base,
      file: {
        syscall: "openat",
        path: "/etc/passwd",
        path_truncated: false,
        requested: "link",
        flags: 0o2101,
        write: true,
        create: true,
        truncate: false,
        mode: 0o644,
        inode: 131073n,
        dev: 0x800001,
        result: 3,
        error: null,
      },
    },
  ]);
});

test("a failed open reports the path asked for, joined to its directory and normalised", () => {
  const [record] = decode(
    fileRecord({
      op: OPEN,
      result: -13,
      flags: 0,
      mode: 0o777,
      syscall: SYS_OPENAT,
      path: "../etc/./shadow",
      dir: "/home/u",
      fileFlags: FILE_TRUNCATED,
    }),
  ).out;
  assert.ok(record);
  const [event] = build(record);
  assert.deepEqual(event?.kind === "file.open" && event.file, {
    syscall: "openat",
    path: "/home/etc/shadow",
    path_truncated: false,
    requested: "../etc/./shadow",
    flags: 0,
    write: false,
    create: false,
    truncate: false,
    mode: null,
    inode: 0n,
    dev: 0,
    result: -13,
    error: "EACCES",
  });
});

test("a rename record carries both paths, each with its directory and its cut flag", () => {
  const [record] = decode(
    fileRecord({
      op: RENAME,
      flags: 1,
      syscall: SYS_RENAMEAT2,
      fileFlags: PATH2_TRUNCATED,
      path: "a",
      dir: "/tmp/w",
      path2: "/abs/b",
      dir2: "",
    }),
  ).out;
  assert.ok(record);
  assert.deepEqual(
    [record.path, record.dir, record.path2, record.dir2, record.file],
    ["a", "/tmp/w", "/abs/b", "", ""],
  );
  const [event] = build(record);
  assert.deepEqual(event?.kind === "file.rename" && event.file, {
    syscall: "renameat2",
    old_path: "/tmp/w/a",
    old_path_truncated: false,
    new_path: "/abs/b",
    new_path_truncated: true,
    flags: 1,
    result: 0,
    error: null,
  });
});

test("fd calls take the fd's file as their path; chown's -1 keeps an id", () => {
  const { out } = decode(
    fileRecord({ op: CHMOD, mode: 0o4755, fd: 5, syscall: SYS_FCHMOD, file: "/usr/bin/x" }),
    fileRecord({ op: CHOWN, uid: 0xffffffff, gid: 42, syscall: SYS_CHOWN, path: "/etc/x", result: -1 }),
    fileRecord({
      op: TRUNCATE,
      length: -1n,
      fd: 4,
      syscall: SYS_FTRUNCATE,
      file: "deep/cut",
      fileFlags: FILE_TRUNCATED,
      result: -22,
    }),
  );
  const parts = out.flatMap(build).map((e) => (e as { file: unknown }).file);
  assert.deepEqual(parts, [
    {
      syscall: "fchmod",
      path: "/usr/bin/x",
      path_truncated: false,
      fd: 5,
      mode: 0o4755,
      flags: 0,
      result: 0,
      error: null,
    },
    {
      syscall: "chown",
      path: "/etc/x",
      path_truncated: false,
      fd: null,
      uid: -1,
      gid: 42,
      flags: 0,
      result: -1,
      error: "EPERM",
    },
    {
      syscall: "ftruncate",
      path: "deep/cut",
      path_truncated: true,
      fd: 4,
      length: -1n,
      result: -22,
      error: "EINVAL",
    },
  ]);
});

test("a symlink's target is kept as passed, never joined", () => {
  const [record] = decode(
    fileRecord({
      op: SYMLINK,
      syscall: SYS_SYMLINKAT,
      path: "../x",
      path2: "l",
      dir2: "/",
      fileFlags: PATH_TRUNCATED,
    }),
  ).out;
  assert.ok(record);
  const [event] = build(record);
  assert.deepEqual(event?.kind === "file.symlink" && event.file, {
    syscall: "symlinkat",
    target: "../x",
    target_truncated: true,
    path: "/l",
    path_truncated: false,
    result: 0,
    error: null,
  });
});

test("bad file records are counted and skipped; the rest of the batch still decodes", () => {
  const good = fileRecord({ op: OPEN, syscall: SYS_OPENAT, path: "/a" });
  const short = Buffer.from(good.subarray(0, 140));
  short.writeUInt32LE(140, 4);
  // Parts claiming more bytes than the record has.
  const overrun = fileRecord({ op: OPEN, syscall: SYS_OPENAT, path: "/abc", size: 146 });
  const overrunRecord = overrun.subarray(0, 146);
  const unknownSyscall = fileRecord({ op: OPEN, syscall: 999, path: "/a" });
  const { out, d } = decode(short, overrunRecord, unknownSyscall, good);
  assert.deepEqual(
    out.map((r) => r.path),
    ["/a"],
  );
  assert.deepEqual(d.stats.errors, { truncated: 1, unknown_op: 0, malformed: 2 });
});

test("paths are made absolute lexically; errno names come from the host's table", () => {
  assert.equal(absolutePath("/etc/../x", ""), "/etc/../x", "an absolute path is kept as passed");
  assert.equal(absolutePath("a/./b/../c", "/w"), "/w/a/c");
  assert.equal(absolutePath("", "/w/f"), "/w/f", "AT_EMPTY_PATH names the directory's file itself");
  assert.equal(absolutePath("x", ""), "x", "no directory known: the string as passed");
  assert.equal(errorName(0), null);
  assert.equal(errorName(5), null);
  assert.equal(errorName(-2), "ENOENT");
  assert.equal(errorName(-11), "EAGAIN");
  assert.equal(errorName(-4000), "E4000");
});
