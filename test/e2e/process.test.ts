import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningSensor, requireKernel, run, startSensor, type WireEvent } from "./harness.js";

type Prog = { id: number; name?: string };
const programs = () => JSON.parse(execFileSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8" })) as Prog[];

/** The programs a process holds, from its fds' prog_id (other sensors may run beside the tests). */
function heldBy(pid: number): Prog[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    const m = /^prog_id:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
    if (m) ids.add(Number(m[1]));
  }
  return programs().filter((p) => ids.has(p.id));
}

describe("process events from the real kernel", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  const started = BigInt(Date.now()) * 1_000_000n;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    sensor = await startSensor();
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-cwd-")));
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("sh -c 'exit 7' yields fork, exec with exact argv, cwd, ppid and ancestry, then exit 7", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const child = await run("sh", ["-c", "exit 7"], { cwd: work });
    assert.equal(child.code, 7);
    const isChild = (kind: string) => (e: WireEvent) => e.kind === kind && e.process.pid === child.pid;

    const exec = await sensor.waitFor(isChild("process.exec"), `exec of pid ${child.pid}`);
    const p = exec.process;
    assert.equal(p.exe, realpathSync("/bin/sh"));
    assert.deepEqual(p.args, ["sh", "-c", "exit 7"]);
    assert.equal(p.args_truncated, false);
    assert.equal(p.cwd, work);
    assert.equal(p.ppid, process.pid);
    assert.equal(p.tid, child.pid);
    assert.equal(p.comm, "sh");
    assert.equal(p.uid, process.getuid?.());
    assert.equal(p.euid, process.geteuid?.());
    assert.equal(p.gid, process.getgid?.());
    assert.ok(typeof p.cgroup_id === "bigint" || typeof p.cgroup_id === "number");
    const ancestry = p.ancestry as { pid: number; exe: string }[];
    assert.deepEqual(ancestry[0], { pid: process.pid, exe: realpathSync(process.execPath) });
    assert.equal(ancestry.at(-1)?.pid, 1, "ancestry reaches init");
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(exec.time >= started - 1_000_000_000n && exec.time <= now, `wall time ${exec.time} in range`);
    assert.ok(Number(exec.mono_time) > 0, "monotonic time");
    const startTime = p.start_time as bigint;
    assert.ok(startTime <= exec.time && exec.time - startTime < 5_000_000_000n, "start_time shortly before exec");

    const fork = await sensor.waitFor(isChild("process.fork"), `fork of pid ${child.pid}`);
    assert.equal(fork.process.ppid, process.pid);
    assert.equal(fork.process.exe, realpathSync(process.execPath), "a child starts as its parent's image");
    assert.ok(fork.time <= exec.time);

    const exit = await sensor.waitFor(isChild("process.exit"), `exit of pid ${child.pid}`);
    assert.deepEqual(exit.exit, { code: 7, signal: null, core_dumped: false });
    assert.equal(exit.process.exe, realpathSync("/bin/sh"));
    assert.ok(exit.time >= exec.time);
  });

  test("a killed process exits with its signal", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const child = await run("sleep", ["30"], { signal: "SIGKILL" });
    assert.equal(child.signal, "SIGKILL");
    const exit = await sensor.waitFor((e) => e.kind === "process.exit" && e.process.pid === child.pid, "exit of sleep");
    assert.deepEqual(exit.exit, { code: null, signal: 9, core_dumped: false });
    assert.equal(exit.process.exe, realpathSync("/usr/bin/sleep"));
  });

  test("argv beyond the bound is cut and flagged", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const long = Array.from({ length: 500 }, (_, i) => `argument-${i}`);
    const child = await run("/bin/true", long);
    const exec = await sensor.waitFor((e) => e.kind === "process.exec" && e.process.pid === child.pid, "exec of true");
    assert.equal(exec.process.args_truncated, true);
    const bytes = exec.process.args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
    assert.ok(bytes <= 4096 + 1, `at most 4096 bytes of argv kept (${bytes})`);
    assert.deepEqual(exec.process.args.slice(0, 3), ["/bin/true", "argument-0", "argument-1"]);
  });

  test("threads are not reported as processes", async (t) => {
    if (!sensor) return t.skip("no kernel");
    // node's own worker threads start constantly; none of their tids may appear as a fork.
    const forks = sensor.events().filter((e) => e.kind === "process.fork");
    assert.ok(forks.every((e) => e.process.pid === e.process.tid));
  });

  test("SIGTERM stops the sensor cleanly and soon, and leaves no program attached", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const held = heldBy(sensor.proc.pid ?? -1);
    assert.ok(
      held.filter((p) => /^vg_(exec|fork|exit)$/.test(p.name ?? "")).length === 3,
      "programs attached while running",
    );
    const ids = new Set(held.map((p) => p.id));
    const ours = () => programs().filter((p) => ids.has(p.id));
    const running = sensor;
    sensor = undefined;
    const stopping = Date.now();
    const code = await running.stop();
    const stopMs = Date.now() - stopping;
    assert.equal(code, 0);
    // Detaching waits only for the nine classic sys_enter tracepoints (about 0.6 s); a classic
    // tracepoint per syscall would take 5 s.
    assert.ok(stopMs < 2000, `stopped in ${stopMs} ms`);
    // The kernel frees a program after its last reference goes, from a work queue.
    for (let i = 0; i < 50 && ours().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(ours(), []);
    const stopped = running.logs().find((l) => l.msg === "sensor stopped");
    assert.ok(stopped, "logs its final statistics");
    assert.equal(stopped.lostRecords, 0);
    assert.deepEqual(stopped.decodeErrors, { truncated: 0, unknown_op: 0, malformed: 0 });
  });
});
