import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordDecoder } from "./decode.js";
import { batch } from "./records/golden.js";

/*
 * Golden records: bytes written out by hand from bpf/vigil.h, independent of the generated
 * layout, so that a layout change the decoder does not follow fails here.
 */
const le = (bytes: number, v: number | bigint) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64LE(BigInt(v));
  else if (bytes === 4) b.writeUInt32LE(Number(v));
  else b.writeUInt16LE(Number(v));
  return b;
};
const comm = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(16 - s.length)]);
const header = (op: number, size: number) => Buffer.concat([le(2, op), le(2, 0), le(4, size), le(8, 123456789n)]);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm
const task = (pid: number, name: string) =>
  Buffer.concat([
    le(4, pid),
    le(4, pid + 1),
    le(4, 4100),
    le(4, 1000),
    le(4, 1001),
    le(4, 0),
    le(4, 1002),
    le(4, 0),
    le(8, 7n),
    le(8, 5_000_000_000n),
    comm(name),
  ]);

function execRecord(flags = 0, args = "sh\0-c\0exit 7\0"): Buffer {
  const exe = Buffer.from("/usr/bin/dash");
  const cwd = Buffer.from("/tmp/work");
  const argv = Buffer.from(args);
  const size = 112 + exe.length + cwd.length + argv.length;
  return Buffer.concat([
    header(1, size),
    task(4242, "sh"),
    le(4, 4243), // old_pid
    le(4, flags),
    le(8, 131073n), // exe_ino
    le(4, 0x800001), // exe_dev
    le(2, exe.length),
    le(2, cwd.length),
    le(4, argv.length),
    le(4, 0),
    exe,
    cwd,
    argv,
  ]);
}

test("an exec record decodes every field", () => {
  const d = new RecordDecoder();
  const out: unknown[] = [];
  d.decodeBatch(batch(execRecord()), (r) => out.push(r));
  assert.deepEqual(out, [
    {
      op: "process.exec",
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
        comm: "sh",
      },
      oldPid: 4243,
      exeIno: 131073n,
      exeDev: 0x800001,
      exe: "/usr/bin/dash",
      exeTruncated: false,
      fileless: false,
      cwd: "/tmp/work",
      cwdTruncated: false,
      args: ["sh", "-c", "exit 7"],
      argsTruncated: false,
    },
  ]);
  assert.equal(d.stats.records, 1);
});

test("a cut argv keeps its partial last argument and the flag", () => {
  const d = new RecordDecoder();
  const out: { args?: string[]; argsTruncated?: boolean }[] = [];
  d.decodeBatch(batch(execRecord(1, "cat\0/etc/pass")), (r) => out.push(r as never));
  assert.deepEqual(out[0]?.args, ["cat", "/etc/pass"]);
  assert.equal(out[0]?.argsTruncated, true);
});

test("fork and exit records", () => {
  const fork = Buffer.concat([header(2, 80), task(10, "bash")]);
  const exit = Buffer.concat([header(3, 88), task(10, "bash"), le(4, 9), le(4, 0)]);
  const out: { op: string; status?: number; task: { pid: number; comm: string } }[] = [];
  new RecordDecoder().decodeBatch(batch(fork, exit), (r) => out.push(r as never));
  assert.deepEqual(
    out.map((r) => [r.op, r.task.pid, r.task.comm, r.status]),
    [
      ["process.fork", 10, "bash", undefined],
      ["process.exit", 10, "bash", 9],
    ],
  );
});

test("bad records are counted and skipped; the rest of the batch still decodes", () => {
  const good = Buffer.concat([header(2, 80), task(10, "ok")]);
  const unknown = Buffer.concat([header(999, 80), task(11, "x")]);
  const shortFork = Buffer.concat([header(2, 40), task(12, "x")]).subarray(0, 40);
  const lying = Buffer.concat([header(2, 500), task(13, "x")]); // claims more than it has
  const tiny = Buffer.from([1, 0, 0]); // not even a header
  const overflow = execRecord();
  overflow.writeUInt16LE(60000, 100); // exe_len beyond the record
  const d = new RecordDecoder();
  const out: { task: { pid: number } }[] = [];
  d.decodeBatch(batch(unknown, shortFork, lying, tiny, overflow, good), (r) => out.push(r as never));
  assert.deepEqual(
    out.map((r) => r.task.pid),
    [10],
  );
  assert.deepEqual(d.stats.errors, { truncated: 3, unknown_op: 1, malformed: 1 });
});

test("a batch cut inside an entry stops cleanly", () => {
  const good = Buffer.concat([header(2, 80), task(10, "ok")]);
  const whole = batch(good, good);
  const d = new RecordDecoder();
  let n = 0;
  d.decodeBatch(whole.subarray(0, whole.length - 10), () => n++);
  assert.equal(n, 1);
  assert.equal(d.stats.errors.truncated, 1);
});
