import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container, ContainerTable } from "../containers/index.js";
import type { KernelRecord, TaskRecord } from "../kernel/decode.js";
import { HostState } from "./index.js";

const task = (pid: number, ppid: number, startBoottime = 100n): TaskRecord => ({
  pid,
  tid: pid,
  ppid,
  uid: 0,
  gid: 0,
  euid: 0,
  egid: 0,
  cgroupId: 1n,
  startBoottime,
  comm: "x",
});

const exec = (pid: number, ppid: number, exe: string): KernelRecord => ({
  op: "process.exec",
  ktime: 1n,
  task: task(pid, ppid),
  oldPid: pid,
  exeIno: 1n,
  exeDev: 1,
  exe,
  exeTruncated: false,
  fileless: false,
  cwd: "/",
  cwdTruncated: false,
  args: [exe],
  argsTruncated: false,
});

test("fork copies the parent's image; exec replaces it; exit keeps it for late lookups", () => {
  const s = new HostState();
  s.apply(exec(10, 1, "/usr/bin/bash"));
  const child = s.apply({ op: "process.fork", ktime: 2n, task: task(11, 10) });
  assert.equal(child?.exe, "/usr/bin/bash");
  assert.equal(s.apply(exec(11, 10, "/usr/bin/dash"))?.exe, "/usr/bin/dash");
  assert.deepEqual(s.processes.ancestry(11), [{ pid: 10, exe: "/usr/bin/bash" }]);
  const exited = s.apply({ op: "process.exit", ktime: 3n, task: task(11, 10), status: 0 });
  assert.equal(exited?.exe, "/usr/bin/dash");
  assert.equal(s.processes.isLive(11), false);
});

test("a second exit of the same process is dropped, a reused pid's exit is not", () => {
  const s = new HostState();
  s.apply(exec(20, 1, "/bin/a"));
  assert.ok(s.apply({ op: "process.exit", ktime: 3n, task: task(20, 1), status: 0 }));
  assert.equal(s.apply({ op: "process.exit", ktime: 4n, task: task(20, 1), status: 0 }), undefined);
  assert.ok(s.apply({ op: "process.exit", ktime: 5n, task: task(20, 1, 999n), status: 0 }), "another process");
});

test("an exit of a process never seen still yields an actor from the record", () => {
  const s = new HostState();
  const a = s.apply({ op: "process.exit", ktime: 3n, task: task(30, 1), status: 0 });
  assert.equal(a?.pid, 30);
  assert.equal(a?.exe, "");
});

test("containers: an exec resolves its cgroup's, a fork in its parent's cgroup inherits it, a stranger gets a known cgroup's", () => {
  const web = { id: "a".repeat(64) } as Container;
  const asked: [number, bigint][] = [];
  const table = {
    resolve: (pid: number, cgroupId: bigint) => {
      asked.push([pid, cgroupId]);
      return cgroupId === 7n ? web : null;
    },
    cached: (cgroupId: bigint) => (cgroupId === 7n ? web : undefined),
    full: false,
  } as unknown as ContainerTable;
  const s = new HostState({}, table);
  const inCgroup = (t: TaskRecord, cgroupId: bigint): TaskRecord => ({ ...t, cgroupId });
  const sh = s.apply({ ...exec(40, 1, "/bin/sh"), task: inCgroup(task(40, 1), 7n) } as KernelRecord);
  assert.equal(sh?.container, web);
  const child = s.apply({ op: "process.fork", ktime: 2n, task: inCgroup(task(41, 40), 7n) });
  assert.equal(child?.container, web);
  assert.deepEqual(asked, [[40, 7n]], "the fork asked nothing");
  // Cloned into another cgroup (CLONE_INTO_CGROUP): resolved for itself.
  const moved = s.apply({ op: "process.fork", ktime: 3n, task: inCgroup(task(42, 40), 8n) });
  assert.equal(moved?.container, null);
  assert.deepEqual(asked.at(-1), [42, 8n]);
  // A process the table never saw: only a cgroup already known names its container.
  const other = s.apply({ op: "file.open", ktime: 4n, task: inCgroup(task(50, 1), 7n) } as unknown as KernelRecord);
  assert.equal(other?.container, web);
  assert.equal(asked.length, 2);
});
