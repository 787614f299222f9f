import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, symlinkSync } from "node:fs";
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

/** A directory the file-open tester can run in: it opens a, b, link (-> a), sub/../a and missing files there. */
function testerDir(parent: string, name: string): string {
  const dir = join(parent, name);
  mkdirSync(join(dir, "sub"), { recursive: true });
  symlinkSync("a", join(dir, "link"));
  return dir;
}

/** Runs the file-open tester in `dir`; returns its pid. */
function opens(dir: string): number {
  const out = execFileSync(join(progs, "file-open"), [dir], { cwd: dir, encoding: "utf8" });
  return (JSON.parse(out) as { pid: number }).pid;
}

/** The file part of an event on the wire. */
const fileOf = (e: WireEvent | undefined) => e?.file as { path: string; requested: string; write: boolean } | undefined;

describe("the kernel prefilter derived from the policies", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let policies: string;
  let watched: string;
  let elsewhere: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-prefilter-")));
    policies = join(work, "policies");
    mkdirSync(policies);
    watched = testerDir(work, "watched");
    elsewhere = testerDir(work, "elsewhere");
    policyFile(policies, "watched", {
      id: "creates-watched",
      on: "file.open",
      when: `file.path == '${watched}/a' && file.create`,
    });
    // No --interest: the kernel sends only what the rule can match.
    sensor = await startSensor(["--policies", policies]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const filteredOpens = async (s: RunningSensor) =>
    ((await query(s.socket, "statistics")) as SensorStatistics).filtered["file.open"] ?? 0;

  test("opens elsewhere are dropped in the kernel and counted; the open the rule matches alerts", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    const stats = (await query(s.socket, "statistics")) as SensorStatistics;
    assert.deepEqual(stats.interest?.kinds["file.open"], {
      enabled: true,
      pathDefault: "none",
      paths: { [`${watched}/a`]: "write" },
    });
    assert.deepEqual(stats.interest?.kinds["net.connect"], { enabled: false }, "kinds no rule names are off");

    const before = await filteredOpens(s);
    const dropped = opens(elsewhere);
    const matched = opens(watched);
    const alert = await s.waitFor(
      (e) => e.kind === "alert" && (e.events as WireEvent[])[0]?.process.pid === matched,
      "alert on the watched file",
    );
    assert.equal(fileOf((alert.events as WireEvent[])[0])?.path, `${watched}/a`);
    // None of the tester's opens elsewhere reached user space: a successful open is decided on
    // the file it reached, so "sub/../a" and the link are decided as the file "a" they open.
    assert.ok((await filteredOpens(s)) - before >= 9, "the opens elsewhere are counted as filtered");
    assert.deepEqual(
      s.events().filter((e) => e.process?.pid === dropped && e.kind.startsWith("file.")),
      [],
    );
    // Of the watched tester's opens, only the writing ones were sent.
    const sent = s.events().filter((e) => e.kind === "file.open" && e.process.pid === matched);
    assert.ok(sent.length >= 1);
    for (const e of sent) assert.ok(fileOf(e)?.write, JSON.stringify(fileOf(e)));
  });

  test("an open is decided on the file it reached, whatever the spelling", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    // Spelled elsewhere, reaching the watched file: sent. Spelled in the watched directory,
    // reaching a file elsewhere: dropped.
    const inward = join(elsewhere, "to-watched");
    const outward = join(watched, "to-elsewhere");
    symlinkSync(join(watched, "a"), inward);
    symlinkSync(join(elsewhere, "b"), outward);
    closeSync(openSync(outward, "r+"));
    closeSync(openSync(inward, "r+"));
    const e = await s.waitFor(
      (e) => e.kind === "file.open" && fileOf(e)?.requested === inward && e.process.pid === process.pid,
      "the open through the inward link",
    );
    assert.equal(fileOf(e)?.path, `${watched}/a`);
    assert.deepEqual(
      s.events().filter((e) => e.kind === "file.open" && fileOf(e)?.requested === outward),
      [],
      "the outward link's open was dropped",
    );
  });

  test("after a reload with a new rule, the new rule's path is sent and alerts", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    policyFile(policies, "elsewhere", {
      id: "creates-elsewhere",
      on: "file.open",
      when: `file.path.startsWith('${elsewhere}/') && file.create`,
    });
    assert.ok(await reloadPolicies(s), "the sensor logged a reload");
    const stats = (await query(s.socket, "statistics")) as SensorStatistics;
    assert.deepEqual(stats.interest?.kinds["file.open"]?.paths, {
      [`${elsewhere}/`]: "write",
      [`${watched}/a`]: "write",
    });
    const pid = opens(elsewhere);
    const alert = await s.waitFor(
      (e) =>
        e.kind === "alert" &&
        (e.rule as { id: string }).id === "creates-elsewhere" &&
        (e.events as WireEvent[])[0]?.process.pid === pid,
      "alert of the reloaded rule",
    );
    assert.ok(String(fileOf((alert.events as WireEvent[])[0])?.path).startsWith(`${elsewhere}/`));
  });
});
