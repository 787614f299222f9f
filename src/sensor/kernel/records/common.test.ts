import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordBytes } from "./common.js";

test("str() gives every byte range its own text, cached or not", () => {
  const texts = ["/etc/passwd", "/etc/passwe", "/etc/passwd2", "ab", "ba", "a", "/tmp/é∂", "x".repeat(300), ""];
  const buf = Buffer.concat(texts.map((t) => Buffer.from(t)));
  const b = new RecordBytes(buf);
  for (let round = 0; round < 3; round++) {
    let at = 0;
    for (const t of texts) {
      const len = Buffer.byteLength(t);
      assert.equal(b.str(at, at + len), t, `round ${round}: ${JSON.stringify(t)}`);
      at += len;
    }
  }
});

test("str() tells apart strings that differ only in their last bytes or their length", () => {
  const b = new RecordBytes(Buffer.from("/tmp/abcd/tmp/abce/tmp/abc\0/tmp/abc"));
  assert.equal(b.str(0, 9), "/tmp/abcd");
  assert.equal(b.str(9, 18), "/tmp/abce");
  assert.equal(b.str(18, 27), "/tmp/abc\0");
  assert.equal(b.str(27, 35), "/tmp/abc");
});

test("task() hands out the same record while the task bytes repeat, a new one when they change", () => {
  const task = (pid: number, comm: string) => {
    const t = Buffer.alloc(64);
    t.writeUInt32LE(pid, 0);
    t.write(comm, 48);
    return t;
  };
  const b = new RecordBytes(Buffer.concat([task(7, "a"), task(7, "a"), task(7, "b"), task(8, "b")]));
  const [one, two, three, four] = [0, 64, 128, 192].map((at) => b.task(at));
  assert.equal(one, two);
  assert.notEqual(two, three);
  assert.deepEqual([three?.pid, three?.comm, four?.pid, four?.comm], [7, "b", 8, "b"]);
});
