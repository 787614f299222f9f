import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query } from "../../src/cli/client.js";
import { fromJson } from "../../src/events/json.js";
import type { SensorStatistics } from "../../src/sensor/sensor.js";
import { progs, type RunningSensor, requireKernel, root, startSensor, vigil, type WireEvent } from "./harness.js";

/**
 * The stock sequence rule on real behaviour: a tester connects out and then runs a shell in a
 * child. The address is one of this host's own (not loopback), so the connect succeeds without
 * a route to anywhere; a UDP connect sends nothing.
 */
function outwardAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  return "203.0.113.9";
}

interface Run {
  pid: number;
  child: number;
  connect_result: number;
}

const tester = (...args: string[]) =>
  JSON.parse(execFileSync(join(progs, "net-connect-exec"), args, { encoding: "utf8" })) as Run;

describe("a sequence rule in the running sensor", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let record: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = mkdtempSync(join(tmpdir(), "vigil-sequence-"));
    record = join(work, "record.jsonl");
    sensor = await startSensor(["--policies", join(root, "policies"), "--record", record]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("connect out, then a shell in the same tree: one alert with both events; look-alikes raise none", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    const address = outwardAddress();
    // Look-alikes first: a loopback connection, and a shell before the connection.
    const loopback = tester("127.0.0.1", "4444");
    const shellFirst = tester(address, "4444", "shell-first");
    const real = tester(address, "4444");
    assert.equal(real.connect_result, 0, `connect to ${address}`);
    const ofRule = (e: WireEvent) => e.kind === "alert" && (e.rule as { id: string }).id === "connect-then-shell";
    const alert = await s.waitFor(
      (e) => ofRule(e) && (e.events as WireEvent[])[0]?.process.pid === real.pid,
      "alert of connect-then-shell",
    );
    const [connect, exec] = alert.events as WireEvent[];
    assert.ok(connect && exec);
    assert.equal(connect.kind, "net.connect");
    assert.deepEqual((connect.net as { remote: unknown }).remote, { address, port: 4444 });
    assert.equal(exec.kind, "process.exec");
    assert.equal(exec.process.pid, real.child);
    assert.equal((exec.process.ancestry as { pid: number }[])[0]?.pid, real.pid);
    assert.equal(
      alert.message,
      `${exec.process.exe} started in a process tree that connected out (pid ${real.child}, parent ${real.pid})`,
    );
    // The look-alikes' shells were delivered before the real one's; none of them raised an alert.
    const pids = new Set([loopback.pid, shellFirst.pid]);
    for (const run of [loopback, shellFirst]) {
      assert.ok(s.events().some((e) => e.kind === "process.exec" && e.process.pid === run.child));
    }
    assert.deepEqual(
      s.events().filter((e) => ofRule(e) && (e.events as WireEvent[]).some((x) => pids.has(x.process.pid))),
      [],
    );

    const stats = (await query(s.socket, "statistics")) as SensorStatistics;
    const rule = stats.policy?.perRule.find((r) => r.rule === "connect-then-shell");
    assert.ok((rule?.matched ?? 0) >= 1);
    assert.ok(rule?.sequence, "a sequence rule reports its partial matches");
    assert.equal(stats.policy?.sequences.limits.perRule, 1024);

    // The recording has the events and no alerts, and replaying it fires the same rule.
    const recorded = readFileSync(record, "utf8").split("\n").filter(Boolean);
    assert.ok(recorded.length > 0);
    assert.ok(recorded.every((l) => !l.startsWith('{"kind":"alert"')));
    const out = fromJson(
      execFileSync(vigil, ["policy", "test", "--json", join(root, "policies"), "--events", record], {
        encoding: "utf8",
      }),
    ) as { events: { rules: { rule: string; matches: number[][] }[] } };
    const replayed = out.events.rules.find((r) => r.rule === "connect-then-shell");
    const pairs = (replayed?.matches ?? []).map((m) =>
      m.map((line) => (fromJson(recorded[line - 1] ?? "") as WireEvent).process.pid),
    );
    assert.ok(
      pairs.some(([a, b]) => a === real.pid && b === real.child),
      `replay fired on ${JSON.stringify(pairs)}`,
    );
  });
});
