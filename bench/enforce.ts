import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { installRoot } from "../src/paths.js";

/*
 * What enforcement costs: the latency of an exec and of a TCP connect over loopback, allowed
 * and denied, with no sensor, with the sensor in audit mode (its enforcement programs attached,
 * their tables empty) and in enforce mode (a deny rule on each hook that the allowed
 * operations do not match). Each figure is the mean over a run of one process doing nothing
 * else; the exec is a static no-op program (vfork, exec, wait).
 */

const vigil = join(installRoot, "bin/vigil");
const progs = join(installRoot, "test/progs/bin");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 20_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), "vigil-bench-enforce-"));
const denied = join(work, "denied-nop");
copyFileSync(join(progs, "nop"), denied);
const policies = join(work, "policies");
mkdirSync(policies);

const server = createServer((s) => s.destroy());
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const allowedPort = (server.address() as { port: number }).port;
const deniedPort = allowedPort === 65_000 ? 65_001 : 65_000;

const policy = {
  apiVersion: "vigil.dev/v1",
  kind: "Policy",
  metadata: { name: "bench-enforce" },
  spec: {
    mode: "enforce",
    rules: [
      { id: "exec", on: "process.exec", when: `process.exe == '${denied}'`, action: "deny", severity: "high" },
      {
        id: "connect",
        on: "net.connect",
        when: `net.remote.address.inCidr('127.0.0.0/8') && net.remote.port == ${deniedPort}`,
        action: "deny",
        severity: "high",
      },
    ],
  },
};
writeFileSync(join(policies, "bench.json"), JSON.stringify(policy));

/** Mean µs per exec of `program`, one worker. */
function execLatency(program: string): number {
  const out = execFileSync(join(progs, "storm"), ["exec", "1", String(SECONDS), program], { encoding: "utf8" });
  return 1e6 / (JSON.parse(out) as { ops_per_sec: number }).ops_per_sec;
}

/** Mean µs per connect (socket, connect, close) to `port`; the listener runs in this process, so not sync. */
async function connectLatency(port: number): Promise<number> {
  const start = process.hrtime.bigint();
  await promisify(execFile)(join(progs, "enforce-net"), ["connect", "127.0.0.1", String(port), String(CONNECTS)]);
  return Number(process.hrtime.bigint() - start) / 1e3 / CONNECTS;
}

async function withSensor<T>(mode: "audit" | "enforce", body: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-sensor-"));
  const child: ChildProcess = spawn(
    vigil,
    ["run", "--policies", policies, "--mode", mode, "--output", "/dev/null", "--control-socket", join(dir, "s.sock")],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    log += d;
  });
  const until = Date.now() + 30_000;
  while (!log.includes('"sensor started"')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`sensor did not start:\n${log}`);
    await sleep(50);
  }
  try {
    return await body();
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const measure = async () => ({
  execAllowed: execLatency(join(progs, "nop")),
  execDenied: execLatency(denied),
  connectAllowed: await connectLatency(allowedPort),
  connectDenied: await connectLatency(deniedPort),
});

const bare = await measure();
const audit = await withSensor("audit", measure);
const enforce = await withSensor("enforce", measure);
server.close();
rmSync(work, { recursive: true, force: true });

const us = (n: number) => `${n.toFixed(1)} µs`;
const rows: [string, keyof typeof bare, string][] = [
  ["exec of a program no rule denies", "execAllowed", "allowed"],
  ["exec of the denied program", "execDenied", "killed at exec in enforce mode"],
  ["TCP connect to a port no rule denies", "connectAllowed", "allowed"],
  ["TCP connect to the denied port", "connectDenied", "EPERM in enforce mode (bare and audit: ECONNREFUSED)"],
];
console.log("| operation | bare | sensor, audit mode | sensor, enforce mode | enforce − audit |");
console.log("| --- | --- | --- | --- | --- |");
for (const [label, key] of rows) {
  console.log(
    `| ${label} | ${us(bare[key])} | ${us(audit[key])} | ${us(enforce[key])} | ${us(enforce[key] - audit[key])} |`,
  );
}
console.log(JSON.stringify({ bench: "enforce", seconds: SECONDS, connects: CONNECTS, bare, audit, enforce }));
