import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { progs, type RunningSensor, requireKernel, startSensor, type WireEvent } from "./harness.js";

/** Runs a tester program and parses the JSON line it prints. */
function tester<T>(name: string): T {
  return JSON.parse(execFileSync(join(progs, name), { encoding: "utf8" })) as T;
}

type Part = Record<string, unknown>;

/** A value as it reads back from a JSON line: integers a double holds exactly are numbers. */
function wire(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(wire);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wire(v)]));
  return value;
}

/** Credentials printed by proc-cred (capability sets as decimal strings) as the event carries them. */
function cred(state: Record<string, number | string>): unknown {
  return wire(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, typeof v === "string" ? BigInt(v) : v])));
}

const EPERM = 1;
const ESRCH = 3;

describe("credential, ptrace and signal events from the real kernel", () => {
  let sensor: RunningSensor | undefined;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    sensor = await startSensor(["--deliver-all"]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
  });

  test("dropping root to nobody and failing to get it back: each syscall with its request, old and new credentials", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{
      pid: number;
      effective: string;
      permitted: string;
      inheritable: string;
      results: number[];
      errnos: number[];
      states: Record<string, number | string>[];
    }>("proc-cred");
    assert.deepEqual(out.results, [0, 0, 0, 0, -1]);
    assert.deepEqual(out.errnos, [0, 0, 0, 0, EPERM]);
    const mine = (e: WireEvent) => e.kind === "cred.change" && e.process.pid === out.pid;
    await sensor.waitFor((e) => mine(e) && (e.cred as Part).syscall === "setuid", "the failed setuid");
    const events = sensor.events().filter(mine);
    const requested = [
      wire({
        cap_effective: BigInt(out.effective),
        cap_permitted: BigInt(out.permitted),
        cap_inheritable: BigInt(out.inheritable),
      }),
      { rgid: 65534, egid: 65534, sgid: 65534 },
      { fsuid: 1234 },
      { ruid: 65534, euid: 65534 },
      { uid: 0 },
    ];
    assert.deepEqual(
      events.map((e) => e.cred),
      ["capset", "setresgid", "setfsuid", "setreuid", "setuid"].map((syscall, i) => ({
        syscall,
        requested: requested[i],
        old: cred(out.states[i] ?? {}),
        new: cred(out.states[i + 1] ?? {}),
        // setfsuid returns the previous fsuid; the others 0 or -errno.
        result: syscall === "setfsuid" ? out.states[i]?.fsuid : 0 - (out.errnos[i] ?? 0),
      })),
    );
    // The process context is the task's after the change.
    const last = events.at(-1);
    assert.equal(last?.process.uid, 65534);
    assert.equal(last?.process.euid, 65534);
    assert.equal(last?.process.gid, 65534);
    assert.equal(last?.process.exe, join(progs, "proc-cred"));
  });

  test("ptrace: attach and poke a child, attach to a gone pid (ESRCH), TRACEME; reads and resumes are not reported", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{
      pid: number;
      child: number;
      addr: string;
      data: string;
      pokedata: number;
      gone: number;
      gone_errno: number;
      tracee: number;
    }>("proc-ptrace");
    assert.equal(out.gone_errno, ESRCH);
    const traceme = await sensor.waitFor(
      (e) => e.kind === "proc.ptrace" && e.process.pid === out.tracee,
      "PTRACE_TRACEME from the tracee",
    );
    assert.deepEqual(traceme.ptrace, {
      request: 0,
      request_name: "PTRACE_TRACEME",
      target_pid: null,
      addr: 0,
      data: 0,
      result: 0,
    });
    assert.equal(traceme.process.ppid, out.pid);
    const events = sensor.events().filter((e) => e.kind === "proc.ptrace" && e.process.pid === out.pid);
    assert.deepEqual(
      events.map((e) => e.ptrace),
      wire([
        { request: 16, request_name: "PTRACE_ATTACH", target_pid: out.child, addr: 0n, data: 0n, result: 0 },
        {
          request: 5,
          request_name: "PTRACE_POKEDATA",
          target_pid: out.child,
          addr: BigInt(out.addr),
          data: BigInt(out.data),
          result: out.pokedata,
        },
        { request: 16, request_name: "PTRACE_ATTACH", target_pid: out.gone, addr: 0n, data: 0n, result: -ESRCH },
      ]),
      "PTRACE_DETACH is not reported",
    );
    assert.equal(events[0]?.process.exe, join(progs, "proc-ptrace"));
  });

  test("signals to other processes by every syscall, and signal 0 to a gone pid (ESRCH); signals to oneself are not reported", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{
      pid: number;
      tid: number;
      children: number[];
      results: number[];
      gone: number;
      gone_errno: number;
    }>("proc-signal");
    assert.deepEqual(out.results, [0, 0, 0, 0]);
    assert.equal(out.gone_errno, ESRCH);
    const mine = (e: WireEvent) => e.kind === "proc.signal" && e.process.pid === out.pid;
    await sensor.waitFor((e) => mine(e) && (e.signal as Part).target_pid === out.gone, "signal 0 to the gone pid");
    const [a, b, c, d] = out.children;
    assert.deepEqual(
      sensor
        .events()
        .filter(mine)
        .map((e) => e.signal),
      [
        { syscall: "kill", number: 15, name: "SIGTERM", target_pid: a, target_tid: null, result: 0 },
        { syscall: "tgkill", number: 9, name: "SIGKILL", target_pid: b, target_tid: b, result: 0 },
        { syscall: "tkill", number: 9, name: "SIGKILL", target_pid: null, target_tid: c, result: 0 },
        { syscall: "rt_sigqueueinfo", number: 15, name: "SIGTERM", target_pid: d, target_tid: null, result: 0 },
        { syscall: "kill", number: 0, name: null, target_pid: out.gone, target_tid: null, result: -ESRCH },
      ],
      "the SIGCHLDs it sent itself (kill, tgkill) are not there",
    );
  });
});

describe("the kernel drops kinds the interest turns off", () => {
  let sensor: RunningSensor | undefined;
  let dir: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    dir = mkdtempSync(join(tmpdir(), "vigil-interest-"));
    const spec = join(dir, "interest.json");
    writeFileSync(
      spec,
      JSON.stringify({ kinds: { "proc.signal": { enabled: false }, "cred.change": { enabled: false } } }),
    );
    sensor = await startSensor(["--interest", spec]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("cred.change and proc.signal off: none sent, counted as filtered; proc.ptrace still sent", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const creds = tester<{ pid: number }>("proc-cred");
    const signals = tester<{ pid: number }>("proc-signal");
    const ptrace = tester<{ pid: number; tracee: number }>("proc-ptrace");
    await sensor.waitFor((e) => e.kind === "proc.ptrace" && e.process.pid === ptrace.tracee, "PTRACE_TRACEME");
    const pids = new Set([creds.pid, signals.pid]);
    assert.deepEqual(
      sensor.events().filter((e) => (e.kind === "cred.change" || e.kind === "proc.signal") && pids.has(e.process.pid)),
      [],
    );
    const running = sensor;
    sensor = undefined;
    assert.equal(await running.stop(), 0);
    const stopped = running.logs().find((l) => l.msg === "sensor stopped") as { filtered: Record<string, number> };
    // Other processes on the host may add to the counts; the testers alone make these.
    assert.ok((stopped.filtered["cred.change"] ?? 0) >= 5, "five credential syscalls filtered");
    assert.ok((stopped.filtered["proc.signal"] ?? 0) >= 5, "five signals filtered");
  });
});
