import assert from "node:assert/strict";
import { test } from "node:test";
import { type Actor, ProcessTable } from "./process-table.js";

const actor = (pid: number, ppid: number, exe: string): Actor => ({
  pid,
  ppid,
  uid: 0,
  gid: 0,
  euid: 0,
  comm: exe.split("/").pop() ?? "",
  exe,
  args: [exe],
  argsTruncated: false,
  cwd: "/",
  cgroupId: 1n,
  startBoottime: BigInt(pid),
});

test("ancestry runs parent first up to init", () => {
  const t = new ProcessTable();
  t.upsert(actor(1, 0, "/sbin/init"));
  t.upsert(actor(100, 1, "/usr/bin/bash"));
  t.upsert(actor(200, 100, "/usr/bin/dash"));
  assert.deepEqual(t.ancestry(200), [
    { pid: 100, exe: "/usr/bin/bash" },
    { pid: 1, exe: "/sbin/init" },
  ]);
  assert.deepEqual(t.ancestry(1), []);
});

test("ancestry is bounded and survives loops", () => {
  const t = new ProcessTable({ maxAncestry: 3 });
  for (let pid = 2; pid < 50; pid++) t.upsert(actor(pid, pid - 1, `/bin/p${pid}`));
  assert.equal(t.ancestry(49).length, 3);
  t.upsert(actor(500, 501, "/a"));
  t.upsert(actor(501, 500, "/b"));
  assert.deepEqual(t.ancestry(500), [{ pid: 501, exe: "/b" }]);
});

test("an exited process lingers for lookups, bounded, and leaves the live set", () => {
  const t = new ProcessTable({ maxExited: 2 });
  t.upsert(actor(1, 0, "/sbin/init"));
  for (const pid of [10, 11, 12]) t.upsert(actor(pid, 1, `/bin/x${pid}`));
  t.upsert(actor(20, 10, "/bin/child"));
  t.exit(10, 5n);
  assert.equal(t.size, 4);
  assert.equal(t.get(10)?.exitedAt, 5n);
  assert.deepEqual(t.ancestry(20)[0], { pid: 10, exe: "/bin/x10" });
  t.exit(11, 6n);
  t.exit(12, 7n);
  assert.equal(t.get(10), undefined, "oldest exited entry evicted past the bound");
  assert.ok(t.get(12));
  assert.deepEqual(
    [...t.actors()].map((a) => a.pid).sort((a, b) => a - b),
    [1, 20],
  );
});

test("a reused pid replaces the exited process", () => {
  const t = new ProcessTable();
  t.upsert(actor(10, 1, "/old"));
  t.exit(10, 1n);
  t.upsert(actor(10, 1, "/new"));
  assert.equal(t.get(10)?.exe, "/new");
  assert.equal(t.get(10)?.exitedAt, undefined);
});

test("a kept ancestry follows a parent that runs a new program", () => {
  const t = new ProcessTable();
  t.upsert(actor(1, 0, "/sbin/init"));
  t.upsert(actor(10, 1, "/usr/bin/bash"));
  t.upsert(actor(11, 10, "/usr/bin/sleep"));
  const first = t.ancestry(11);
  assert.equal(t.ancestry(11), first, "the same chain while nothing changed");
  t.upsert(actor(10, 1, "/usr/bin/python3"));
  assert.deepEqual(t.ancestry(11)[0], { pid: 10, exe: "/usr/bin/python3" });
});
