import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query } from "../../src/cli/client.js";
import type { SensorStatistics } from "../../src/sensor/sensor.js";
import {
  policyFile,
  progs,
  type RunningSensor,
  reloadPolicies,
  requireKernel,
  startSensor,
  type WireEvent,
} from "./harness.js";

describe("policies in the running sensor", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let policies: string;
  let exe: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-policy-")));
    policies = join(work, "policies");
    mkdirSync(policies);
    mkdirSync(join(work, "files"));
    exe = realpathSync(join(progs, "file-open"));
    policyFile(policies, "work-files", {
      id: "tester-creates",
      on: "file.open",
      // kill, not deny: `file.create` is not in the subset a deny rule's condition must keep to.
      when: `file.path == '${work}/files/a' && file.create && process.exe == '${exe}'`,
      action: "kill",
      severity: "high",
      tags: ["test"],
      message: "{{process.comm}} created {{file.path}} ({{file.syscall}})",
    });
    // A file with an error: rejected, and the sensor runs without it.
    writeFileSync(join(policies, "broken.json"), "{ not a policy");
    const interest = join(work, "interest.json");
    const paths = { [`${work}/files/`]: "any" };
    writeFileSync(interest, JSON.stringify({ kinds: { "file.open": { enabled: true, pathDefault: "none", paths } } }));
    // Audit mode: this test is about alerts; enforcement has its own (enforce.test.ts).
    sensor = await startSensor(["--interest", interest, "--policies", policies, "--mode", "audit"]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("an open by a tester program raises an alert after its event, with the event and its process", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    const rejected = s.logs().find((l) => String(l.msg).startsWith(join(policies, "broken.json")));
    assert.ok(rejected, "the broken file's error is logged");
    const out = JSON.parse(execFileSync(exe, [join(work, "files")], { encoding: "utf8" })) as { pid: number };
    const alert = await s.waitFor(
      (e) => e.kind === "alert" && (e.events as WireEvent[])[0]?.process.pid === out.pid,
      "alert",
    );
    assert.deepEqual(alert.rule, { id: "tester-creates", policy: "work-files", severity: "high", tags: ["test"] });
    assert.equal(alert.message, `file-open created ${work}/files/a (open)`);
    assert.equal(alert.action, "kill");
    // Audit mode: the rule's kill is reported, not done.
    assert.equal(alert.outcome, "would_kill");
    const [opened] = alert.events as WireEvent[];
    assert.ok(opened);
    assert.equal(opened.kind, "file.open");
    assert.equal(opened.process.exe, exe);
    assert.ok((opened.process.ancestry as unknown[]).length > 0, "the event carries the process's ancestry");
    // The event itself is on the stream before its alert, and only one open matched.
    const stream = s.events().filter((e) => e.process?.pid === out.pid || e.kind === "alert");
    const at = stream.findIndex((e) => e === stream.find((x) => x.kind === "alert"));
    assert.equal(stream[at - 1]?.kind, "file.open");
    assert.equal(s.events().filter((e) => e.kind === "alert").length, 1);

    const stats = (await query(s.socket, "statistics")) as SensorStatistics;
    const rule = stats.policy?.perRule.find((r) => r.rule === "tester-creates");
    // Tested against every open delivered (only those under files/ are), matched by one.
    assert.equal(rule?.tested, s.events().filter((e) => e.kind === "file.open").length);
    assert.equal(rule?.matched, 1);
    assert.deepEqual(
      stats.policy?.files.map((f) => [f.file.slice(policies.length + 1), f.status]),
      [
        ["broken.json", "rejected"],
        ["work-files.json", "loaded"],
      ],
    );
  });

  test("SIGHUP reloads the directory: a new rule is in force for the next event", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    policyFile(policies, "failed-opens", {
      id: "missing-file",
      on: "file.open",
      when: `file.error == 'ENOENT' && file.path.startsWith('${work}/files/')`,
      message: "{{file.path}}: {{file.error}}",
    });
    assert.ok(await reloadPolicies(s), "the sensor logged a reload");
    const out = JSON.parse(execFileSync(exe, [join(work, "files")], { encoding: "utf8" })) as { pid: number };
    const missing = await s.waitFor(
      (e) =>
        e.kind === "alert" &&
        (e.rule as { id: string }).id === "missing-file" &&
        (e.events as WireEvent[])[0]?.process.pid === out.pid,
      "alert of the reloaded rule",
    );
    assert.equal(missing.outcome, "alerted");
    assert.ok(String(missing.message).startsWith(`${work}/files/`), String(missing.message));
    assert.ok(String(missing.message).endsWith(": ENOENT"), String(missing.message));
  });
});
