import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query } from "../../src/cli/client.js";
import type { EnforcementReport } from "../../src/sensor/enforce/index.js";
import { policyFile, progs, type RunningSensor, requireKernel, startSensor } from "./harness.js";

/*
 * Self-protection where BPF-LSM is refused (this host): attempts against the sensor that reach
 * it as events are alerted. And what a killed sensor leaves: nothing. Its programs were attached
 * by links held in its fds, and the fanotify group was one of its fds, so the kernel removes
 * them all when it dies; a restart puts the same tables back.
 */

const DENIED_PORT = 47_313;

function net(count: number): { ok: number; EPERM: number; other: number } {
  const out = execFileSync(join(progs, "enforce-net"), ["connect", "127.0.0.1", String(DENIED_PORT), String(count)], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { ok: number; EPERM: number; other: number };
}

describe("self-protection and a killed sensor, on this host", () => {
  let work: string;
  let policies: string;
  let sensor: RunningSensor | undefined;

  before(async () => {
    if (process.geteuid?.() !== 0) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-protect-")));
    policies = join(work, "policies");
    mkdirSync(policies);
    writeFileSync(join(work, "secret"), "secret");
    policyFile(policies, "open", {
      id: "no-secret",
      on: "file.open",
      when: `file.path == '${join(work, "secret")}'`,
      action: "deny",
    });
    policyFile(policies, "connect", {
      id: "no-port",
      on: "net.connect",
      when: `net.remote.port == ${DENIED_PORT}`,
      action: "deny",
    });
    sensor = await startSensor(["--policies", policies, "--protect-self"]);
  });

  after(async () => {
    await sensor?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("without BPF-LSM, signals to the sensor and writes to its policies are alerted", async (t) => {
    if (!requireKernel(t)) return;
    const s = sensor as RunningSensor;
    const report = (await query(s.socket, "enforcement")) as EnforcementReport;
    assert.equal(report.selfProtection?.mode, "alerted");
    // A signal the sensor ignores: it is the sending that is alerted.
    process.kill(s.proc.pid as number, "SIGWINCH");
    const signal = await s.waitFor(
      (e) =>
        e.kind === "alert" && (e.rule as { id: string }).id === "self-protection" && /SIGWINCH/.test(String(e.message)),
      "the alert of the signal",
    );
    assert.equal(signal.outcome, "alerted");
    writeFileSync(join(policies, "notes.txt"), "tampered");
    await s.waitFor(
      (e) =>
        e.kind === "alert" &&
        (e.rule as { id: string }).id === "self-protection" &&
        /notes\.txt/.test(String(e.message)),
      "the alert of the write",
    );
  });

  test("kill -9 leaves no program attached and no file marked; a restart enforces again", async (t) => {
    if (!requireKernel(t)) return;
    const s = sensor as RunningSensor;
    assert.throws(() => readFileSync(join(work, "secret")), { code: "EPERM" });
    assert.equal(net(3).EPERM, 3);
    s.proc.kill("SIGKILL");
    await new Promise((r) => s.proc.once("exit", r));
    sensor = undefined;
    const programs = spawnSync("bpftool", ["prog", "show"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(programs, /vg_enforce_/);
    const cgroup = spawnSync("bpftool", ["cgroup", "show", "/sys/fs/cgroup"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(cgroup, /vg_enforce_/);
    assert.equal(readFileSync(join(work, "secret"), "utf8"), "secret");
    assert.equal(net(3).EPERM, 0);

    sensor = await startSensor(["--policies", policies]);
    assert.throws(() => readFileSync(join(work, "secret")), { code: "EPERM" });
    assert.equal(net(3).EPERM, 3);
  });
});
