import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeWaitStatus } from "./index.js";

test("wait status: exit code, signal, core dump", () => {
  assert.deepEqual(decodeWaitStatus(7 << 8), { code: 7, signal: null, core_dumped: false });
  assert.deepEqual(decodeWaitStatus(0), { code: 0, signal: null, core_dumped: false });
  assert.deepEqual(decodeWaitStatus(9), { code: null, signal: 9, core_dumped: false });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { code: null, signal: 11, core_dumped: true });
});
