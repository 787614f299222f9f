import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordDecoder } from "../decode.js";
import { header as goldenHeader, i32, i64, u32, u64 } from "./golden.js";

/*
 * Golden records: bytes written out by hand from bpf/records/proc.h, independent of the
 * generated layout, so that a layout change the decoder does not follow fails here.
 */

const header = (op: number, size: number) => goldenHeader(op, size, 987654321n);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm[16]
const task = Buffer.concat([
  u32(300),
  u32(301),
  u32(1),
  u32(0),
  u32(0),
  u32(0),
  u32(0),
  u32(0),
  u64(9n),
  u64(1_000_000n),
  Buffer.from("tester\0\0\0\0\0\0\0\0\0\0"),
]);
const decodedTask = {
  pid: 300,
  tid: 301,
  ppid: 1,
  uid: 0,
  gid: 0,
  euid: 0,
  egid: 0,
  cgroupId: 9n,
  startBoottime: 1_000_000n,
  comm: "tester",
};

// uid euid suid fsuid gid egid sgid fsgid cap_effective cap_permitted cap_inheritable
const cred = (id: number, caps: bigint) =>
  Buffer.concat([
    u32(id),
    u32(id + 1),
    u32(id + 2),
    u32(id + 3),
    u32(id + 4),
    u32(id + 5),
    u32(id + 6),
    u32(id + 7),
    u64(caps),
    u64(caps + 1n),
    u64(caps + 2n),
  ]);
const decodedCred = (id: number, caps: bigint) => ({
  uid: id,
  euid: id + 1,
  suid: id + 2,
  fsuid: id + 3,
  gid: id + 4,
  egid: id + 5,
  sgid: id + 6,
  fsgid: id + 7,
  capEffective: caps,
  capPermitted: caps + 1n,
  capInheritable: caps + 2n,
});

/** struct vg_cred_change, 240 bytes. */
const credChange = (syscall: number, result: bigint) =>
  Buffer.concat([
    header(50, 240),
    task,
    i64(result),
    u32(syscall),
    u32(65534),
    u32(0xffffffff),
    u32(7),
    u64(0x1ffffffffffn),
    u64(0x3n),
    u64(0n),
    cred(0, 0x1ffffffffffn),
    cred(65534, 0n),
  ]);

/** struct vg_ptrace, 120 bytes. */
const ptrace = (request: bigint, result: bigint) =>
  Buffer.concat([header(52, 120), task, i64(request), i64(result), u64(0x401000n), u64(0xccn), i32(302), u32(0)]);

/** struct vg_signal, 104 bytes. */
const signal = (syscall: number, pid: number, tid: number) =>
  Buffer.concat([header(56, 104), task, i64(-3n), i32(pid), i32(tid), u32(15), u32(syscall)]);

const decodeOne = (record: Buffer) => new RecordDecoder().decode(record, 0, record.length);

test("a cred change record decodes ids, caps, both credentials and the result", () => {
  assert.deepEqual(decodeOne(credChange(5, -1n)), {
    op: "cred.change",
    ktime: 987654321n,
    task: decodedTask,
    syscall: "setresuid",
    ids: [65534, 0xffffffff, 7],
    caps: [0x1ffffffffffn, 3n, 0n],
    old: decodedCred(0, 0x1ffffffffffn),
    new: decodedCred(65534, 0n),
    result: -1,
  });
});

test("every cred syscall decodes by name; an unknown one is malformed", () => {
  const names = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => (decodeOne(credChange(n, 0n)) as { syscall: string }).syscall);
  assert.deepEqual(names, [
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "capset",
  ]);
  assert.equal(decodeOne(credChange(0, 0n)), "malformed");
  assert.equal(decodeOne(credChange(10, 0n)), "malformed");
});

test("a ptrace record decodes every field", () => {
  assert.deepEqual(decodeOne(ptrace(16n, -1n)), {
    op: "proc.ptrace",
    ktime: 987654321n,
    task: decodedTask,
    request: 16,
    target: 302,
    addr: 0x401000n,
    data: 0xccn,
    result: -1,
  });
});

test("a signal record decodes every field, negative targets included", () => {
  assert.deepEqual(decodeOne(signal(1, -1, 0)), {
    op: "proc.signal",
    ktime: 987654321n,
    task: decodedTask,
    syscall: "kill",
    targetPid: -1,
    targetTid: 0,
    signal: 15,
    result: -3,
  });
  const names = [2, 3, 4, 5].map((n) => (decodeOne(signal(n, 400, 401)) as { syscall: string }).syscall);
  assert.deepEqual(names, ["tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"]);
  assert.equal(decodeOne(signal(6, 1, 1)), "malformed");
});

test("short records are truncated", () => {
  assert.equal(decodeOne(credChange(1, 0n).subarray(0, 239)), "truncated");
  assert.equal(decodeOne(ptrace(0n, 0n).subarray(0, 100)), "truncated");
  assert.equal(decodeOne(signal(1, 2, 0).subarray(0, 103)), "truncated");
  // A size in the header below the struct's, inside a longer buffer.
  const lying = signal(1, 2, 0);
  lying.writeUInt32LE(90, 4);
  assert.equal(decodeOne(lying), "truncated");
});
