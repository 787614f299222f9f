import { availableParallelism } from "node:os";
import { join } from "node:path";
import { progs, tester, withSensor } from "./sensor-process.js";

/**
 * Exec and fork storms with and without the sensor: events/s delivered to TypeScript, records
 * lost, cost added per exec/fork, and the agent's RSS and CPU.
 */

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// Four workers on two cores: one worker waits on its vfork child, so two would leave cores idle.
const workers = Number(process.env.BENCH_WORKERS ?? 4);

interface StormResult {
  ops: number;
  seconds: number;
  ops_per_sec: number;
}

const nop = join(progs, "nop");
const cores = availableParallelism();
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function storm(name: string, run: () => { count: number; perSec: number }, perOp: number) {
  const bare = run();
  const { result, sensor } = await withSensor(run);
  // With every core busy, an operation costs cores/rate of CPU time; the difference between the
  // two runs is what the sensor adds to each, in the kernel and in the agent together.
  const addedNs = (cores / result.perSec - cores / bare.perSec) * 1e9;
  const kernelNs = Object.values(sensor.kernel).reduce((n, k) => n + k.runTimeNs, 0) / result.count;
  const expected = result.count * perOp;
  const line = {
    bench: name,
    workers,
    seconds,
    bare_ops_per_sec: Math.round(bare.perSec),
    sensor_ops_per_sec: Math.round(result.perSec),
    added_cpu_ns_per_op: Math.round(addedNs),
    kernel_ns_per_op: Math.round(kernelNs),
    kernel_ns_per_run: Object.fromEntries(
      Object.entries(sensor.kernel).map(([name, k]) => [name, Math.round(k.runTimeNs / Math.max(k.runs, 1))]),
    ),
    agent_cpu_ns_per_event: Math.round((sensor.cpuSeconds * 1e9) / Math.max(sensor.records, 1)),
    events_delivered: sensor.records,
    events_per_sec: Math.round(sensor.records / seconds),
    events_expected_at_least: expected,
    lost_records: sensor.lostRecords,
    decode_errors: sensor.decodeErrors,
    agent_max_rss_mb: sensor.maxRssMb,
    agent_cpu_seconds: sensor.cpuSeconds,
  };
  console.log(
    `${name}: ${fmt(bare.perSec)}/s bare, ${fmt(result.perSec)}/s with sensor; +${fmt(addedNs)} ns CPU per op ` +
      `(${fmt(kernelNs)} ns in the kernel programs); ` +
      `${fmt(line.events_per_sec)} events/s delivered, ${sensor.lostRecords} lost, ${sensor.decodeErrors} decode errors; ` +
      `agent RSS ${sensor.maxRssMb} MB, CPU ${sensor.cpuSeconds} s`,
  );
  console.log(JSON.stringify(line));
  return line;
}

const stormRun = (mode: "exec" | "fork") => () => {
  const r = tester<StormResult>("storm", mode === "exec" ? [mode, workers, seconds, nop] : [mode, workers, seconds]);
  return { count: r.ops, perSec: r.ops_per_sec };
};

// An exec storm makes a fork, an exec and an exit per operation; a fork storm a fork and an exit.
await storm("exec-storm", stormRun("exec"), 3);
await storm("fork-storm", stormRun("fork"), 2);
