import { join } from "node:path";
import { progs, tester, withSensor } from "./sensor-process.js";

/**
 * Exec and fork storms with and without the sensor: events/s delivered to TypeScript, records
 * lost, cost added per exec/fork, and the agent's RSS and CPU.
 */

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// Four workers on two cores: one worker waits on its vfork child, so two would leave cores idle.
const workers = Number(process.env.BENCH_WORKERS ?? 4);

interface ExecResult {
  execs: number;
  seconds: number;
  execs_per_sec: number;
}
interface ForkResult {
  forks: number;
  seconds: number;
  forks_per_sec: number;
}

const nop = join(progs, "nop");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function storm(name: string, run: () => { count: number; perSec: number }, perOp: number) {
  const bare = run();
  const { result, sensor } = await withSensor(run);
  // Wall time per operation of one worker; the difference is what the sensor adds to each.
  const addedNs = (workers / result.perSec - workers / bare.perSec) * 1e9;
  const expected = result.count * perOp;
  const line = {
    bench: name,
    workers,
    seconds,
    bare_ops_per_sec: Math.round(bare.perSec),
    sensor_ops_per_sec: Math.round(result.perSec),
    added_ns_per_op: Math.round(addedNs),
    events_delivered: sensor.records,
    events_per_sec: Math.round(sensor.records / seconds),
    events_expected_at_least: expected,
    lost_records: sensor.lostRecords,
    decode_errors: sensor.decodeErrors,
    agent_max_rss_mb: sensor.maxRssMb,
    agent_cpu_seconds: sensor.cpuSeconds,
  };
  console.log(
    `${name}: ${fmt(bare.perSec)}/s bare, ${fmt(result.perSec)}/s with sensor (+${fmt(addedNs)} ns/op); ` +
      `${fmt(line.events_per_sec)} events/s delivered, ${sensor.lostRecords} lost, ${sensor.decodeErrors} decode errors; ` +
      `agent RSS ${sensor.maxRssMb} MB, CPU ${sensor.cpuSeconds} s`,
  );
  console.log(JSON.stringify(line));
  return line;
}

const execRun = () => {
  const r = tester<ExecResult>("exec-storm", [workers, seconds, nop]);
  return { count: r.execs, perSec: r.execs_per_sec };
};
const forkRun = () => {
  const r = tester<ForkResult>("fork-storm", [workers, seconds]);
  return { count: r.forks, perSec: r.forks_per_sec };
};

// An exec storm makes a fork, an exec and an exit per operation; a fork storm a fork and an exit.
await storm("exec-storm", execRun, 3);
await storm("fork-storm", forkRun, 2);
