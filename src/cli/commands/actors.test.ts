import assert from "node:assert/strict";
import { test } from "node:test";
import type { ActorView } from "../../sensor/control/index.js";
import { forest, formatActors, printable } from "./actors.js";

const view = (pid: number, ppid: number, exe: string, args: string[] = [exe]): ActorView => ({
  pid,
  ppid,
  uid: pid === 300 ? 1000 : 0,
  ...(pid !== 300 && { user: "root" }),
  comm: exe === "" ? "kworker/0:1" : (exe.split("/").pop() ?? ""),
  exe,
  args,
  argsTruncated: false,
  cgroupId: 5n,
  startTime: 0n,
  startedAt: "2026-11-24T00:00:00.000Z",
});

test("forest: children under their parents by pid, orphans and loops kept", () => {
  const order = forest([
    view(300, 100, "/c"),
    view(100, 1, "/b"),
    view(1, 0, "/init"),
    view(50, 1, "/a"),
    view(999, 777, "/orphan"),
    view(600, 601, "/loop1"),
    view(601, 600, "/loop2"),
  ]).map(({ actor, depth }) => `${actor.pid}@${depth}`);
  assert.deepEqual(order, ["1@0", "50@1", "100@1", "300@2", "999@0", "600@0", "601@1"]);
});

test("the table is drawn as a tree, kernel threads in brackets, odd arguments quoted", () => {
  const text = formatActors([
    view(1, 0, "/sbin/init"),
    view(2, 0, "", []),
    view(100, 1, "/usr/bin/bash", ["bash", "-c", "echo 'hi there'"]),
    view(300, 100, "/usr/bin/sleep", ["sleep", "30"]),
  ]);
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /^PID\s+PPID\s+UID\s+USER\s+CGROUP\s+CONTAINER\s+STARTED\s+EXE\s+ARGS$/);
  assert.match(lines[1] ?? "", /^1\s+0\s+0\s+root\s+5\s+2026-11-24T00:00:00.000Z\s+\/sbin\/init\s+\/sbin\/init$/);
  assert.match(lines[2] ?? "", /\s\\_ \/usr\/bin\/bash\s+bash -c 'echo '\\''hi there'\\'''$/);
  assert.match(lines[3] ?? "", /^300\s+100\s+1000\s+5\s+.*\s{4}\\_ \/usr\/bin\/sleep\s+sleep 30$/);
  assert.match(lines[4] ?? "", /^2\s+0\s+0\s+root\s+.*\[kworker\/0:1\]$/);
});

test("an executable that could not be read is shown as ?", () => {
  const text = formatActors([view(1, 0, "", ["/init", "--flag"])]);
  assert.match(text.split("\n")[1] ?? "", /\s\?\s+\/init --flag$/);
});

test("long arguments are cut in the table unless wide", () => {
  const long = view(7, 0, "/bin/x", ["x", "a".repeat(300)]);
  assert.ok(formatActors([long]).trimEnd().endsWith("…"));
  assert.ok(formatActors([long], true).includes("a".repeat(300)));
});

test("control characters from a process never reach the terminal", () => {
  assert.equal(printable("a\u001b[2Jb\nc\u009b"), "a\\x1b[2Jb\\x0ac\\x9b");
  const text = formatActors([view(9, 0, "/tmp/\u001b]0;pwned\u0007", ["x\u001b[31m"])]);
  assert.ok(!text.includes("\u001b") && !text.includes("\u0007"), text);
});
