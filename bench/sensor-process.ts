import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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

export async function withSensor<T>(load: () => T): Promise<{ result: T; sensor: SensorRun }> {
  const statsWere = readFileSync(statsSysctl, "utf8").trim();
  writeFileSync(statsSysctl, "1");
  try {
    return await measured(load);
  } finally {
    writeFileSync(statsSysctl, statsWere);
  }
}

async function measured<T>(load: () => T): Promise<{ result: T; sensor: SensorRun }> {
  const proc = spawn(vigil, ["run", "--output", "/dev/null"], { stdio: ["ignore", "ignore", "pipe"] });
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
  // The load runs in a child process so that this process's event loop keeps sampling.
  const result = await new Promise<T>((resolve) => setImmediate(() => resolve(load())));
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

export { progs };
