import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordDecoder } from "../decode.js";
import { header as goldenHeader, u16, u32, u64 } from "./golden.js";

/*
 * Golden records: bytes written out by hand from bpf/records/enforce.h, independent of the
 * generated layout, so that a layout change the decoder does not follow fails here.
 */

// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm[16]
const task = Buffer.concat([
  u32(300),
  u32(300),
  u32(1),
  u32(1000),
  u32(1000),
  u32(1000),
  u32(1000),
  u32(0),
  u64(9n),
  u64(1_000_000n),
  Buffer.from("denied\0\0\0\0\0\0\0\0\0\0"),
]);
const decodedTask = {
  pid: 300,
  tid: 300,
  ppid: 1,
  uid: 1000,
  gid: 1000,
  euid: 1000,
  egid: 1000,
  cgroupId: 9n,
  startBoottime: 1_000_000n,
  comm: "denied",
};

/** struct vg_enforce_denial, 144 bytes, then the path and a rename's new path. */
function denial(hook: number, action: number, addr: Buffer, family: number, path = "", newPath = "", slot = 3) {
  const bytes = Buffer.from(path);
  const newBytes = Buffer.from(newPath);
  return Buffer.concat([
    goldenHeader(60, 144 + bytes.length + newBytes.length, 5n),
    task,
    u32(7), // seq
    u16(hook),
    u16(action),
    u32(slot),
    u32(0x800001), // dev
    u64(4242n), // ino
    addr,
    u16(family),
    u16(22),
    u16(6),
    u16(bytes.length),
    u16(newBytes.length),
    u16(0), // pad
    u32(4321), // target
    u32(9), // arg
    u32(0o644), // mode
    bytes,
    newBytes,
  ]);
}

const decodeOne = (record: Buffer) => new RecordDecoder().decode(record, 0, record.length);
const mapped = Buffer.from("00000000000000000000ffff0a000001", "hex");

test("an exec killed: the program's identity and path", () => {
  assert.deepEqual(decodeOne(denial(0, 2, Buffer.alloc(16), 0, "/tmp/x/denied")), {
    op: "enforce.denial",
    ktime: 5n,
    task: decodedTask,
    seq: 7,
    hook: "exec",
    action: "killed",
    slot: 3,
    dev: 0x800001,
    ino: 4242n,
    path: "/tmp/x/denied",
    newPath: "",
    family: 0,
    address: "",
    port: 22,
    protocol: 6,
    target: 4321,
    arg: 9,
    mode: 0o644,
  });
});

test("a connect and a bind denied: IPv4 from its mapped form, IPv6 whole", () => {
  const v4 = decodeOne(denial(1, 1, mapped, 2)) as { hook: string; action: string; address: string };
  assert.deepEqual([v4.hook, v4.action, v4.address], ["connect", "denied", "10.0.0.1"]);
  const v6 = decodeOne(denial(2, 1, Buffer.from("fd000000000000000000000000000001", "hex"), 10)) as {
    hook: string;
    address: string;
  };
  assert.deepEqual([v6.hook, v6.address], ["bind", "fd00::1"]);
});

test("an unknown hook or action is malformed; a short record or a path past its end is not decoded", () => {
  assert.equal(decodeOne(denial(9, 1, mapped, 2)), "malformed");
  assert.equal(decodeOne(denial(1, 4, mapped, 2)), "malformed");
  assert.equal(decodeOne(denial(1, 1, mapped, 2).subarray(0, 143)), "truncated");
  const overrun = denial(0, 2, Buffer.alloc(16), 0, "/x");
  overrun.writeUInt16LE(200, 126);
  assert.equal(decodeOne(overrun), "malformed");
});

test("a rename denied: both names, in order", () => {
  const r = decodeOne(denial(5, 1, Buffer.alloc(16), 0, "/etc/a", "/etc/b")) as {
    hook: string;
    path: string;
    newPath: string;
  };
  assert.deepEqual([r.hook, r.path, r.newPath], ["rename", "/etc/a", "/etc/b"]);
});

test("self-protection: what was refused, and an unknown refusal is malformed", () => {
  const r = decodeOne(denial(0, 3, Buffer.alloc(16), 0, "", "", 1)) as { action: string; protect: string };
  assert.deepEqual([r.action, r.protect], ["protected", "signal"]);
  assert.equal(decodeOne(denial(0, 3, Buffer.alloc(16), 0, "", "", 99)), "malformed");
});
