import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kernelDev } from "../../src/sensor/kernel/interest.js";
import { SENSOR_OBJECTS } from "../../src/sensor/kernel/preflight.js";
import { type RunningSensor, startSensor, vigil } from "../e2e/harness.js";

// Runs inside the guest kernel (guest.test.ts boots it): Debian 12's own 6.1, which has no
// bpf_rdonly_cast, so the sensor must pick the object that reads fields with probe reads.

describe("the sensor on Debian's 6.1 kernel", () => {
  let work: string;
  let sensor: RunningSensor | undefined;

  before(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-guest-")));
    const interest = join(work, "interest.json");
    writeFileSync(
      interest,
      JSON.stringify({
        kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { [`${work}/watched/`]: "any" } } },
      }),
    );
    sensor = await startSensor(["--interest", interest], [], 60_000);
  });

  after(async () => {
    await sensor?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("doctor names the object for this kernel", () => {
    const out = execFileSync(vigil, ["doctor", "--json"], { encoding: "utf8" });
    const checks = (JSON.parse(out) as { checks: { name: string; value: string }[] }).checks;
    const reads = checks.find((c) => c.name === "kernel reads");
    assert.match(reads?.value ?? "", new RegExp(SENSOR_OBJECTS.compat.replace(/\./g, "\\.")));
  });

  test("an open below the watched prefix arrives with the file it reached; others are dropped", async () => {
    const s = sensor as RunningSensor;
    const watched = join(work, "watched");
    execFileSync("mkdir", ["-p", watched]);
    const file = join(watched, "a");
    writeFileSync(file, "a");
    closeSync(openSync(join(work, "elsewhere"), "w"));
    closeSync(openSync(file, "r"));
    const e = await s.waitFor(
      (e) => e.kind === "file.open" && (e.file as { path: string }).path === file && e.process.pid === process.pid,
      "the open of the watched file",
    );
    const st = statSync(file, { bigint: true });
    assert.equal((e.file as { inode: number }).inode, Number(st.ino));
    assert.equal((e.file as { dev: number }).dev, kernelDev(st.dev));
    assert.deepEqual(
      s.events().filter((e) => e.kind === "file.open" && (e.file as { path: string }).path.endsWith("elsewhere")),
      [],
    );
  });
});
