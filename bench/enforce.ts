import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { installRoot } from "../src/paths.js";

/*
 * What enforcement costs: the latency of an exec, of an open and of a TCP connect over loopback,
 * allowed and denied, with no sensor, with the sensor in audit mode (its enforcement programs attached,
 * their tables empty) and in enforce mode (a deny rule on each hook that the allowed
 * operations do not match). Each figure is the mean over a run of one process doing nothing
 * else; the exec is a static no-op program (vfork, exec, wait); the connects go to loopback ports
 * nothing listens on, so the kernel answers at once (ECONNREFUSED, or EPERM when denied). The
 * enforcement programs' own time per run comes from the kernel's statistics
 * (kernel.bpf_stats_enabled, on only for that run). On this host exec and open rules naming their
 * files by exact path are decided by the fanotify thread (only those files are marked), so the
 * open of a file no rule names shows what a workload that never matches pays: nothing of
 * fanotify's.
 */

const vigil = join(installRoot, "bin/vigil");
const progs = join(installRoot, "test/progs/bin");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 20_000);
const OPENS = Number(process.env.BENCH_OPENS ?? 20_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), "vigil-bench-enforce-"));
const denied = join(work, "denied-nop");
copyFileSync(join(progs, "nop"), denied);
const policies = join(work, "policies");
mkdirSync(policies);
const secret = join(work, "secret");
const free = join(work, "free");
writeFileSync(secret, "secret");
writeFileSync(free, "free");

const allowedPort = 64_999;
const deniedPort = 65_000;

const policy = {
  apiVersion: "vigil.dev/v1",
  kind: "Policy",
  metadata: { name: "bench-enforce" },
  spec: {
    mode: "enforce",
    rules: [
      { id: "exec", on: "process.exec", when: `process.exe == '${denied}'`, action: "deny", severity: "high" },
      { id: "open", on: "file.open", when: `file.path == '${secret}'`, action: "deny", severity: "high" },
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

/** Mean µs per open and close of `path`; `denied`: each open must fail with EPERM instead. */
function openLatency(path: string, denied = false): number {
  const args = [path, String(OPENS), ...(denied ? ["denied"] : [])];
  const out = execFileSync(join(progs, "file-open-loop"), args, { encoding: "utf8" });
  return (JSON.parse(out) as { ns_per_op: number }).ns_per_op / 1e3;
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

const measure = async (mode?: "audit" | "enforce") => ({
  execAllowed: execLatency(join(progs, "nop")),
  execDenied: execLatency(denied),
  openAllowed: openLatency(free),
  openDenied: openLatency(secret, mode === "enforce"),
  connectAllowed: await connectLatency(allowedPort),
  connectDenied: await connectLatency(deniedPort),
});

const STATS = "/proc/sys/kernel/bpf_stats_enabled";

/** ns per run of each enforcement program during `body`. */
async function programCost<T>(body: () => Promise<T>): Promise<{ result: T; perRun: Record<string, number> }> {
  const read = () => {
    const list = JSON.parse(execFileSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8" }) || "[]") as {
      name?: string;
      run_time_ns?: number;
      run_cnt?: number;
    }[];
    return new Map(list.filter((p) => p.name?.startsWith("vg_enforce")).map((p) => [p.name as string, p]));
  };
  const was = readFileSync(STATS, "utf8").trim();
  writeFileSync(STATS, "1");
  try {
    const before = read();
    const result = await body();
    const perRun: Record<string, number> = {};
    for (const [name, p] of read()) {
      const runs = (p.run_cnt ?? 0) - (before.get(name)?.run_cnt ?? 0);
      const ns = (p.run_time_ns ?? 0) - (before.get(name)?.run_time_ns ?? 0);
      if (runs > 0) perRun[name] = Math.round(ns / runs);
    }
    return { result, perRun };
  } finally {
    writeFileSync(STATS, was);
  }
}

const bare = await measure();
const audit = await withSensor("audit", () => measure("audit"));
const enforce = await withSensor("enforce", () => measure("enforce"));
const costs = await withSensor("enforce", () =>
  programCost(async () => ({
    allowedExec: execLatency(join(progs, "nop")),
    allowedConnect: await connectLatency(allowedPort),
  })),
);
const deniedCosts = await withSensor("enforce", () =>
  programCost(async () => ({ deniedExec: execLatency(denied), deniedConnect: await connectLatency(deniedPort) })),
);
rmSync(work, { recursive: true, force: true });

const us = (n: number) => `${n.toFixed(1)} µs`;
const rows: [string, keyof typeof bare, string][] = [
  ["exec of a program no rule denies", "execAllowed", "allowed"],
  ["exec of the denied program", "execDenied", "EPERM (fanotify) or killed at exec in enforce mode"],
  ["open and close of a file no rule names", "openAllowed", "allowed"],
  ["open of the protected file", "openDenied", "EPERM in enforce mode"],
  ["TCP connect to a port no rule denies (ECONNREFUSED)", "connectAllowed", "allowed"],
  ["TCP connect to the denied port", "connectDenied", "EPERM in enforce mode (bare and audit: ECONNREFUSED)"],
];
console.log("| operation | bare | sensor, audit mode | sensor, enforce mode | enforce − audit |");
console.log("| --- | --- | --- | --- | --- |");
for (const [label, key] of rows) {
  console.log(
    `| ${label} | ${us(bare[key])} | ${us(audit[key])} | ${us(enforce[key])} | ${us(enforce[key] - audit[key])} |`,
  );
}
console.log("\nns per run of each enforcement program, enforce mode (kernel statistics):");
console.log(`  operations no rule matches: ${JSON.stringify(costs.perRun)}`);
console.log(`  denied operations:          ${JSON.stringify(deniedCosts.perRun)}`);
console.log(
  JSON.stringify({
    bench: "enforce",
    seconds: SECONDS,
    connects: CONNECTS,
    opens: OPENS,
    bare,
    audit,
    enforce,
    programNsAllowed: costs.perRun,
    programNsDenied: deniedCosts.perRun,
  }),
);
