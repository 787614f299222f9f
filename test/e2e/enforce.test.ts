import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { query } from "../../src/cli/client.js";
import type { EnforcementReport } from "../../src/sensor/enforce/index.js";
import { policyFile, progs, type RunningSensor, reloadPolicies, requireKernel, run, startSensor } from "./harness.js";

/*
 * Prevention on this host, with the real kernel: an exec denied by its binary's identity never
 * runs (its marker file is never created), whatever name it is run by; a denied connect fails
 * with EPERM and its listener never sees it; a denied bind fails; reloading the policies never
 * lets one through; audit mode only alerts.
 */

const execFileAsync = promisify(execFile);

interface NetResult {
  ok: number;
  EPERM: number;
  other: number;
  last_errno: number;
}

async function net(op: "connect" | "bind" | "sendto", address: string, port: number, count = 1): Promise<NetResult> {
  const { stdout } = await execFileAsync(join(progs, "enforce-net"), [op, address, String(port), String(count)]);
  return JSON.parse(stdout) as NetResult;
}

/** A listener that counts the connections it accepts. */
async function listener(host: string): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { server, port: address.port, accepted: () => accepted };
}

/** Ports no listener here uses: each test's rule names its own. */
const BIND_PORT = 47_311;

describe("enforce mode: the kernel stops what deny rules forbid", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let denied: string;
  let policies: string;
  let v4: Awaited<ReturnType<typeof listener>>;
  let v6: Awaited<ReturnType<typeof listener>>;

  const connectRule = (port: number, extraPort?: number) => ({
    id: "no-loopback-port",
    on: "net.connect",
    when: `(net.remote.address.inCidr('127.0.0.0/8') || net.remote.address == '::1') && net.remote.port in [${[port, ...(extraPort ? [extraPort] : [])].join(", ")}]`,
    action: "deny",
    severity: "high",
    message: "connect to {{net.remote.address}}:{{net.remote.port}}",
  });

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-enforce-")));
    policies = join(work, "policies");
    mkdirSync(policies);
    mkdirSync(join(work, "bin"));
    denied = join(work, "bin", "denied");
    copyFileSync(join(progs, "enforce-marker"), denied);
    // A copy is another file: the rule names the binary, not its bytes.
    copyFileSync(join(progs, "enforce-marker"), join(work, "bin", "allowed"));
    v4 = await listener("127.0.0.1");
    v6 = await listener("::1");
    policyFile(policies, "exec", {
      id: "no-denied-binary",
      on: "process.exec",
      // The comm alternative names no file fanotify could mark: the rule stays with the kill
      // at exec, which this file tests (test/e2e/fanotify.test.ts tests fanotify's exec denial).
      when: `process.exe == '${denied}' || process.comm == 'no-such-comm'`,
      action: "deny",
      severity: "high",
      message: "{{process.exe}} must not run",
    });
    policyFile(policies, "connect", connectRule(v4.port === v6.port ? v4.port : v4.port, v6.port));
    policyFile(policies, "bind", {
      id: "no-bind",
      on: "net.bind",
      when: `net.local.port == ${BIND_PORT}`,
      action: "deny",
      severity: "medium",
      message: "bind {{net.local.port}}",
    });
    sensor = await startSensor(["--policies", policies]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    v4?.server.close();
    v6?.server.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the denied binary never runs: by its path, ./ relative, a hard link and a symlink", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    linkSync(denied, join(work, "hard-link"));
    symlinkSync(denied, join(work, "sym-link"));
    const runs = [
      await run(denied, [join(work, "marker-path")]),
      await run("./denied", [join(work, "marker-relative")], { cwd: join(work, "bin") }),
      await run(join(work, "hard-link"), [join(work, "marker-hard-link")]),
      await run(join(work, "sym-link"), [join(work, "marker-symlink")]),
    ];
    for (const r of runs) assert.equal(r.signal, "SIGKILL");
    for (const m of ["path", "relative", "hard-link", "symlink"]) {
      assert.equal(existsSync(join(work, `marker-${m}`)), false, `the binary ran when run by its ${m}`);
    }
    for (const r of runs) {
      const alert = await s.waitFor(
        (e) => e.kind === "alert" && (e.events as { process: { pid: number } }[])[0]?.process.pid === r.pid,
        `alert for pid ${r.pid}`,
      );
      assert.equal(alert.outcome, "killed");
      assert.equal(alert.action, "deny");
      assert.equal((alert.rule as { id: string }).id, "no-denied-binary");
    }
    const allowed = await run(join(work, "bin", "allowed"), [join(work, "marker-allowed")]);
    assert.equal(allowed.code, 0);
    assert.equal(existsSync(join(work, "marker-allowed")), true);
  });

  test("a denied connect fails with EPERM and the listener sees nothing: IPv4, IPv6, a CIDR, UDP", async (t) => {
    if (!sensor) return t.skip("no kernel");
    assert.deepEqual(await net("connect", "127.0.0.1", v4.port, 5), { ok: 0, EPERM: 5, other: 0, last_errno: 1 });
    assert.deepEqual(await net("connect", "::1", v6.port, 5), { ok: 0, EPERM: 5, other: 0, last_errno: 1 });
    // 127.0.0.2 is in 127.0.0.0/8; nothing listens there, so a connect let through would be refused.
    assert.equal((await net("connect", "127.0.0.2", v4.port)).EPERM, 1);
    assert.equal((await net("sendto", "127.0.0.1", v4.port)).EPERM, 1);
    assert.equal(v4.accepted() + v6.accepted(), 0);
    const alert = await sensor.waitFor(
      (e) =>
        e.kind === "alert" &&
        (e.events as { net?: { remote?: { address: string } } }[])[0]?.net?.remote?.address === "::1",
      "alert for the IPv6 connect",
    );
    assert.equal(alert.outcome, "prevented");
    assert.equal(alert.message, `connect to ::1:${v6.port}`);
    // Another port is not the rule's.
    const other = await listener("127.0.0.1");
    try {
      assert.equal((await net("connect", "127.0.0.1", other.port)).ok, 1);
    } finally {
      other.server.close();
    }
  });

  test("a denied bind fails with EPERM; another port binds", async (t) => {
    if (!sensor) return t.skip("no kernel");
    assert.equal((await net("bind", "127.0.0.1", BIND_PORT)).EPERM, 1);
    assert.equal((await net("bind", "::1", BIND_PORT)).EPERM, 1);
    assert.equal((await net("bind", "127.0.0.1", BIND_PORT + 1)).ok, 1);
  });

  test("policy status names the path of every rule", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const report = (await query(sensor.socket, "enforcement")) as EnforcementReport;
    assert.deepEqual(
      report.rules.map((r) => [r.rule, r.path]),
      [
        ["no-bind", "cgroup_sock"],
        ["no-loopback-port", "cgroup_sock"],
        ["no-denied-binary", "kill_at_exec"],
      ],
    );
    assert.deepEqual(report.inUse, ["fanotify", "cgroup_sock", "kill_at_exec"]);
    assert.ok((report.rules.find((r) => r.rule === "no-denied-binary")?.enforced ?? 0) >= 4);
  });

  test("reloading the policies never lets a denied connect or exec through", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    // Every refused connect is an alert the sensor writes: enough to overlap every reload, not more.
    const connects = net("connect", "127.0.0.1", v4.port, 20_000);
    let execs = 0;
    let running = true;
    const execLoop = (async () => {
      while (running) {
        await run(denied, [join(work, "marker-reload")]);
        execs++;
      }
    })();
    let reloads = 0;
    try {
      for (let i = 0; i < 12; i++) {
        // The same denial written two ways: each reload puts a new generation of tables in force.
        policyFile(policies, "connect", connectRule(v4.port, i % 2 === 0 ? v6.port : v6.port + 1));
        if (await reloadPolicies(s, 20_000)) reloads++;
      }
    } finally {
      running = false;
      await execLoop;
    }
    const result = await connects;
    assert.ok(reloads >= 10, `${reloads} reloads`);
    assert.deepEqual(result, { ok: 0, EPERM: 20_000, other: 0, last_errno: 1 });
    assert.equal(v4.accepted(), 0);
    assert.ok(execs > 0);
    assert.equal(existsSync(join(work, "marker-reload")), false, "the denied binary ran during a reload");
    const report = (await query(s.socket, "enforcement")) as EnforcementReport;
    assert.ok(report.generation >= 1 + reloads, `generation ${report.generation} after ${reloads} reloads`);
  });
});

describe("audit mode: deny rules only alert", () => {
  let sensor: RunningSensor | undefined;
  let work: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-audit-")));
    mkdirSync(join(work, "policies"));
    copyFileSync(join(progs, "enforce-marker"), join(work, "denied"));
    policyFile(join(work, "policies"), "exec", {
      id: "no-denied-binary",
      on: "process.exec",
      when: `process.exe == '${join(work, "denied")}'`,
      action: "deny",
      severity: "high",
      message: "{{process.exe}} must not run",
    });
    sensor = await startSensor(["--policies", join(work, "policies"), "--mode", "audit"]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the binary runs and the alert says would_deny", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const r = await run(join(work, "denied"), [join(work, "marker")]);
    assert.equal(r.code, 0);
    assert.equal(existsSync(join(work, "marker")), true);
    const alert = await sensor.waitFor(
      (e) => e.kind === "alert" && (e.events as { process: { pid: number } }[])[0]?.process.pid === r.pid,
      "the audit alert",
    );
    assert.equal(alert.outcome, "would_deny");
    const report = (await query(sensor.socket, "enforcement")) as EnforcementReport;
    assert.deepEqual(
      report.rules.map((x) => x.path),
      ["audit"],
    );
  });
});
