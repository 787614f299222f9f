import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installRoot } from "../src/paths.js";

/** Runs the sensor as `vigil run` while a load runs, and reads back what it delivered. */

const vigil = join(installRoot, "bin/vigil");
const progs = join(installRoot, "test/progs/bin");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SensorRun {
  /** Nanoseconds spent in each of the sensor's kernel programs during the load, and their runs. */
  kernel: Record<string, { runTimeNs: number; runs: number }>;
  records: number;
  lostRecords: number;
  decodeErrors: number;
  events: Record<string, number>;
  maxRssMb: number;
  cpuSeconds: number;
}

function rssMb(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime+stime of a process, from /proc/<pid>/stat, in seconds (USER_HZ = 100). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Run time and count of the sensor's programs (kernel.bpf_stats_enabled must be on). */
function programStats(): Record<string, { runTimeNs: number; runs: number }> {
  const out = spawnSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8" }).stdout;
  const progs = JSON.parse(out || "[]") as { name?: string; run_time_ns?: number; run_cnt?: number }[];
  const stats: Record<string, { runTimeNs: number; runs: number }> = {};
  for (const p of progs) {
    if (p.name?.startsWith("vg_")) stats[p.name] = { runTimeNs: p.run_time_ns ?? 0, runs: p.run_cnt ?? 0 };
  }
  return stats;
}

const statsSysctl = "/proc/sys/kernel/bpf_stats_enabled";

/**
 * Runs `load` while `vigil run --output /dev/null ARGS` runs, and reads what the sensor did.
 * `programStats` turns on the kernel's per-program run times (SensorRun.kernel), which cost
 * every program run two clock reads: a benchmark of syscall cost leaves them off.
 */
export async function withSensor<T>(
  load: () => T | Promise<T>,
  args: string[] = [],
  { programStats = true } = {},
): Promise<{ result: T; sensor: SensorRun }> {
  const statsWere = readFileSync(statsSysctl, "utf8").trim();
  writeFileSync(statsSysctl, programStats ? "1" : "0");
  try {
    return await measured(load, args);
  } finally {
    writeFileSync(statsSysctl, statsWere);
  }
}

async function measured<T>(load: () => T | Promise<T>, args: string[]): Promise<{ result: T; sensor: SensorRun }> {
  // A socket of its own, so that a sensor already running on the host does not stop the bench.
  const socket = join(mkdtempSync(join(tmpdir(), "vigil-bench-")), "vigil.sock");
  const proc = spawn(vigil, ["run", "--output", "/dev/null", "--control-socket", socket, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const logLine = (msg: string) =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === msg);
  const exited = new Promise((r) => proc.once("exit", r));
  while (!logLine("sensor started")) {
    if (proc.exitCode !== null) throw new Error(`sensor failed to start:\n${stderr}`);
    await sleep(50);
  }
  const pid = proc.pid ?? 0;
  let maxRss = rssMb(pid);
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, rssMb(pid));
  }, 100);
  const cpuBefore = cpuSeconds(pid);
  const kernelBefore = programStats();
  const result = await load();
  await sleep(300);
  maxRss = Math.max(maxRss, rssMb(pid));
  const cpu = cpuSeconds(pid) - cpuBefore;
  const kernel = programStats();
  for (const [name, k] of Object.entries(kernel)) {
    k.runTimeNs -= kernelBefore[name]?.runTimeNs ?? 0;
    k.runs -= kernelBefore[name]?.runs ?? 0;
  }
  clearInterval(sampler);
  proc.kill("SIGTERM");
  await exited;
  const stopped = logLine("sensor stopped") as {
    records: number;
    lostRecords: number;
    decodeErrors: Record<string, number>;
    events: Record<string, number>;
  };
  if (!stopped) throw new Error(`sensor did not report its statistics:\n${stderr}`);
  return {
    result,
    sensor: {
      kernel,
      records: stopped.records,
      lostRecords: stopped.lostRecords,
      decodeErrors: Object.values(stopped.decodeErrors).reduce((a, b) => a + b, 0),
      events: stopped.events,
      maxRssMb: Math.round(maxRss * 10) / 10,
      cpuSeconds: Math.round(cpu * 100) / 100,
    },
  };
}

/** Runs a tester program from test/progs/bin and returns its JSON line. */
export function tester<T>(name: string, args: (string | number)[]): T {
  const r = spawnSync(join(progs, name), args.map(String), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The same, without blocking this process (its timers keep sampling the sensor). */
export function testerAsync<T>(name: string, args: (string | number)[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(progs, name), args.map(String), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${name} failed: ${err}`)),
    );
  });
}

/** Count of BPF programs loaded on the host. */
export function programCount(): number {
  const out = spawnSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8" }).stdout;
  return (JSON.parse(out || "[]") as unknown[]).length;
}

/** Runs `load` while a peer tool (bpftrace, opensnoop, ...) runs with its output thrown away. */
export async function withPeer<T>(command: string[], load: () => Promise<T>): Promise<T> {
  const before = programCount();
  const [file = "", ...args] = command;
  const peer = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  peer.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise((r) => peer.once("exit", r));
  // Attached once it has loaded programs and stopped adding them.
  let count = before;
  for (let stable = 0, i = 0; stable < 3 && i < 100; i++) {
    await sleep(100);
    if (peer.exitCode !== null) throw new Error(`${command.join(" ")} exited: ${stderr}`);
    const now = programCount();
    stable = now > before && now === count ? stable + 1 : 0;
    count = now;
  }
  try {
    return await load();
  } finally {
    peer.kill("SIGINT");
    await Promise.race([exited, sleep(5000)]);
    if (peer.exitCode === null) peer.kill("SIGKILL");
  }
}

export { progs };
