import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordDecoder } from "../decode.js";
import { header as goldenHeader, i32, i64, u16, u32, u64 } from "./golden.js";

/*
 * Golden records: bytes written out by hand from bpf/records/mem.h, independent of the
 * generated layout, so that a layout change the decoder does not follow fails here.
 */

const header = (op: number, size: number) => goldenHeader(op, size, 123456789n);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm[16]
const task = Buffer.concat([
  u32(4242),
  u32(4243),
  u32(4100),
  u32(1000),
  u32(1001),
  u32(0),
  u32(1002),
  u32(0),
  u64(7n),
  u64(5_000_000_000n),
  Buffer.from("jit\0\0\0\0\0\0\0\0\0\0\0\0\0"),
]);
const decodedTask = {
  pid: 4242,
  tid: 4243,
  ppid: 4100,
  uid: 1000,
  gid: 1001,
  euid: 0,
  egid: 1002,
  cgroupId: 7n,
  startBoottime: 5_000_000_000n,
  comm: "jit",
};

/** struct vg_exec_mapping (128 bytes) and the path. */
function execMapping(o: { syscall?: number; path?: string; flags?: number; pathLen?: number } = {}): Buffer {
  const path = Buffer.from(o.path ?? "");
  return Buffer.concat([
    header(40, 128 + path.length),
    task,
    u64(0x7f0000000000n), // addr
    u64(8192n), // len
    i64(0x7f1234560000n), // result
    u32(7), // prot
    u32(0x02), // map_flags
    i32(3), // fd
    i32(-1), // pkey
    u16(o.syscall ?? 1),
    u16(o.pathLen ?? path.length),
    u32(o.flags ?? 0),
    path,
  ]);
}

/** struct vg_memfd_create (104 bytes) and the name. */
function memfdCreate(name: string, result: bigint, nameLen?: number): Buffer {
  const bytes = Buffer.from(name);
  return Buffer.concat([
    header(41, 104 + bytes.length),
    task,
    i64(result),
    u32(0x3), // flags
    u16(nameLen ?? bytes.length),
    u16(0),
    u32(0),
    u32(0),
    bytes,
  ]);
}

const decodeOne = (record: Buffer) => new RecordDecoder().decode(record, 0, record.length);

test("an exec mapping record (mmap of a file) decodes every field", () => {
  assert.deepEqual(decodeOne(execMapping({ path: "/tmp/work/lib.so", flags: 1 })), {
    op: "mem.exec_mapping",
    ktime: 123456789n,
    task: decodedTask,
    syscall: "mmap",
    addr: 0x7f0000000000n,
    len: 8192n,
    prot: 7,
    mapFlags: 2,
    fd: 3,
    pkey: -1,
    path: "/tmp/work/lib.so",
    pathTruncated: true,
    result: 0x7f1234560000n,
  });
});

test("an exec mapping without a file has an empty path; each syscall decodes", () => {
  const names = [1, 2, 3].map((syscall) => {
    const r = decodeOne(execMapping({ syscall })) as { syscall: string; path: string };
    assert.equal(r.path, "");
    return r.syscall;
  });
  assert.deepEqual(names, ["mmap", "mprotect", "pkey_mprotect"]);
});

test("a negative result stays negative", () => {
  const record = execMapping();
  record.writeBigInt64LE(-12n, 96);
  assert.equal((decodeOne(record) as { result: bigint }).result, -12n);
});

test("bad exec mapping records: short, path beyond the record, unknown syscall", () => {
  assert.equal(decodeOne(execMapping().subarray(0, 120)), "truncated");
  const shortHeader = execMapping();
  shortHeader.writeUInt32LE(120, 4);
  assert.equal(decodeOne(shortHeader), "truncated");
  assert.equal(decodeOne(execMapping({ path: "/x", pathLen: 3 })), "malformed");
  assert.equal(decodeOne(execMapping({ syscall: 9 })), "malformed");
});

test("a memfd_create record decodes every field", () => {
  assert.deepEqual(decodeOne(memfdCreate("vigil-test", 3n)), {
    op: "mem.memfd_create",
    ktime: 123456789n,
    task: decodedTask,
    name: "vigil-test",
    nameTruncated: false,
    flags: 3,
    result: 3,
  });
  const failed = decodeOne(memfdCreate("", -22n)) as { name: string; result: number };
  assert.equal(failed.name, "");
  assert.equal(failed.result, -22);
});

test("bad memfd_create records: short, name beyond the record", () => {
  assert.equal(decodeOne(memfdCreate("x", 3n).subarray(0, 100)), "truncated");
  assert.equal(decodeOne(memfdCreate("abc", 3n, 60000)), "malformed");
});
