import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query } from "../../src/cli/client.js";
import type { Logger } from "../../src/log.js";
import { FanotifyEnforcer } from "../../src/sensor/enforce/fanotify.js";
import { fileIdentities } from "../../src/sensor/enforce/identity.js";
import type { EnforcementReport } from "../../src/sensor/enforce/index.js";
import { planEnforcement } from "../../src/sensor/enforce/plan.js";
import { kernelBridge } from "../../src/sensor/kernel/bridge.js";
import { compilePolicyFile } from "../../src/sensor/policy/compile.js";
import { policyFile, progs, type RunningSensor, requireKernel, run, startSensor } from "./harness.js";

/*
 * The fanotify path on this host (no BPF-LSM): a native thread answers the permission events of
 * the files deny rules name. The protected file's content is never read, a denied program never
 * runs (also when ld.so is asked to run it), and an event the thread does not decide within its
 * deadline is let through and counted.
 */

const LOADER = "/lib64/ld-linux-x86-64.so.2";
const quiet = { warn: () => undefined, info: () => undefined } as unknown as Logger;

function tables(rules: object[]) {
  const text = JSON.stringify({
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name: "p" },
    spec: { mode: "enforce", rules },
  });
  const compiled = compilePolicyFile("p.json", text).policy?.rules ?? [];
  return planEnforcement(compiled, new Map(), { paths: ["fanotify"], mode: "enforce" });
}

describe("the fanotify thread", () => {
  let work: string;
  let guard: FanotifyEnforcer | undefined;
  const f = (name: string) => join(work, name);

  before(() => {
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-fan-")));
    mkdirSync(f("bin"));
    copyFileSync(join(progs, "enforce-marker"), f("bin/denied"));
    writeFileSync(f("secret"), "secret");
    writeFileSync(f("slow"), "slow");
    writeFileSync(f("other"), "other");
  });

  after(() => {
    guard?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("denies the open of a named file and the exec of a named program, ld.so included", (t) => {
    if (!requireKernel(t)) return;
    const plan = tables([
      { id: "secret", on: "file.open", when: `file.path == '${f("secret")}'`, action: "deny" },
      { id: "denied", on: "process.exec", when: `process.exe == '${f("bin/denied")}'`, action: "deny" },
    ]);
    assert.deepEqual(
      plan.rules.map((r) => r.path),
      ["fanotify", "fanotify"],
    );
    guard = new FanotifyEnforcer(kernelBridge(), quiet, 50);
    guard.apply(plan.fanotify, (p) => fileIdentities(p));
    assert.deepEqual(guard.marks.sort(), [f("bin/denied"), f("secret")]);

    assert.throws(() => readFileSync(f("secret")), { code: "EPERM" });
    assert.equal(readFileSync(f("other"), "utf8"), "other");
    const exec = spawnSync(f("bin/denied"), [f("marker-exec")]);
    assert.equal((exec.error as NodeJS.ErrnoException | undefined)?.code, "EPERM");
    linkSync(f("bin/denied"), f("hard-link"));
    spawnSync(f("hard-link"), [f("marker-hard")]);
    const loader = spawnSync(LOADER, [f("bin/denied"), f("marker-ldso")]);
    assert.notEqual(loader.status, 0);
    for (const m of ["exec", "hard", "ldso"]) assert.equal(existsSync(f(`marker-${m}`)), false, `ran (${m})`);
    // Reading the program is not running it: cat may open it.
    assert.ok(readFileSync(f("bin/denied")).length > 0);

    const denials = guard.take();
    assert.deepEqual(
      denials.map((d) => [d.hook, d.slot, d.path]),
      [
        ["open", 0, f("secret")],
        ["exec", 0, f("bin/denied")],
        // The same file by another name: its identity is marked, the path is the one used.
        ["exec", 0, f("hard-link")],
        ["exec", 0, f("bin/denied")],
      ],
    );
    assert.equal(guard.stats().timeouts, 0);
  });

  test("an event not decided within the deadline is allowed, counted and reported", (t) => {
    if (!requireKernel(t) || !guard) return;
    const plan = tables([{ id: "slow", on: "file.open", when: `file.path == '${f("slow")}'`, action: "deny" }]);
    guard.apply(plan.fanotify, (p) => fileIdentities(p));
    // Ten times the deadline: the watchdog answers first, whatever the machine's load.
    guard.delayDecisions(500);
    try {
      assert.equal(readFileSync(f("slow"), "utf8"), "slow");
    } finally {
      guard.delayDecisions(0);
    }
    assert.equal(guard.stats().timeouts, 1);
    const late = guard.take().filter((d) => d.slot < 0);
    assert.deepEqual(
      late.map((d) => d.path),
      [f("slow")],
    );
  });
});

describe("enforce mode with fanotify: the sensor", () => {
  let work: string;
  let sensor: RunningSensor | undefined;
  const f = (name: string) => join(work, name);

  before(async () => {
    if (process.geteuid?.() !== 0) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-fan-e2e-")));
    mkdirSync(f("bin"));
    mkdirSync(f("policies"));
    copyFileSync(join(progs, "enforce-marker"), f("bin/denied"));
    writeFileSync(f("secret"), "secret");
    policyFile(f("policies"), "open", {
      id: "no-secret",
      on: "file.open",
      when: `file.path == '${f("secret")}'`,
      action: "deny",
    });
    policyFile(f("policies"), "exec", {
      id: "no-denied",
      on: "process.exec",
      when: `process.exe == '${f("bin/denied")}'`,
      action: "deny",
    });
    sensor = await startSensor(["--policies", f("policies")]);
  });

  after(async () => {
    await sensor?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("policy status names fanotify; the file is never read, the program never runs; alerts say prevented", async (t) => {
    if (!requireKernel(t)) return;
    const s = sensor as RunningSensor;
    const report = (await query(s.socket, "enforcement")) as EnforcementReport;
    assert.deepEqual(
      report.rules.map((r) => [r.rule, r.path]),
      [
        ["no-denied", "fanotify"],
        ["no-secret", "fanotify"],
      ],
    );
    assert.ok(report.inUse.includes("fanotify"));
    assert.throws(() => readFileSync(f("secret")), { code: "EPERM" });
    const exec = await run(f("bin/denied"), [f("marker")]).catch((e: NodeJS.ErrnoException) => e);
    assert.equal((exec as NodeJS.ErrnoException).code, "EPERM");
    assert.equal(existsSync(f("marker")), false);
    for (const id of ["no-secret", "no-denied"]) {
      const alert = await s.waitFor(
        (e) => e.kind === "alert" && (e.rule as { id: string }).id === id,
        `the alert of ${id}`,
      );
      assert.equal(alert.outcome, "prevented");
    }
    const after = (await query(s.socket, "enforcement")) as EnforcementReport;
    assert.equal(after.fanotify?.denied, 2);
  });
});
