import { rmSync, writeFileSync } from "node:fs";
import type { VigilEvent } from "../src/events/schema.js";
import { createLogger } from "../src/log.js";
import { kernelBridge } from "../src/sensor/kernel/index.js";
import { DELIVER_ALL } from "../src/sensor/kernel/interest.js";
import { Sensor } from "../src/sensor/sensor.js";
import type { Sink } from "../src/sensor/sinks/index.js";
import { testerAsync } from "./sensor-process.js";

/**
 * Events per second into TypeScript with everything delivered: a loop runs on one core while
 * the agent decodes, tracks and enriches every event on the other. The sink only counts, so
 * the figure is the pipeline's and not a JSON writer's. Two loads: opens and closes of a file
 * (the open+close pair costs the loop most of a microsecond here, so it, not the sensor, sets
 * the pace), and opens of a file that does not exist (a failed open is an event all the same,
 * half the cost to the loop), which shows what the pipeline takes. BENCH_LOOPS runs several
 * loops at once (on two cores they slow each other and the agent: one is fastest).
 */

const ops = Math.round(3_000_000 * Number(process.env.BENCH_SCALE ?? 1));
const loops = Number(process.env.BENCH_LOOPS ?? 1);
const file = "/tmp/vigil-bench-throughput";
const missing = "/tmp/vigil-bench-throughput-missing";
writeFileSync(file, "x");
rmSync(missing, { force: true });

const LOADS = [
  { name: "open+close", args: ["open", file] },
  { name: "failed open", args: ["open-missing", missing] },
];

class CountingSink implements Sink {
  readonly stats = { sink: "counter", written: 0, dropped: 0, failed: 0, queued: 0 };
  readonly kinds = new Map<string, number>();
  write(event: VigilEvent): void {
    this.stats.written++;
    this.kinds.set(event.kind, (this.kinds.get(event.kind) ?? 0) + 1);
  }
  flush(): void {}
  async close(): Promise<void> {}
}

const sink = new CountingSink();
const sensor = new Sensor({
  bridge: kernelBridge(),
  sinks: [sink],
  logger: createLogger("warn"),
  interest: DELIVER_ALL,
  source: { ringBytes: 64 << 20 },
});
await sensor.start();
const lines = [];
for (const load of LOADS) {
  sink.kinds.clear();
  const before = sensor.statistics();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: loops }, () =>
      testerAsync<{ ops: number; seconds: number }>("loop", [...load.args, Math.round(ops / loops)]),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const loopOps = results.reduce((n, r) => n + r.ops, 0);
  // The tail still in the ring is counted once it is decoded.
  await new Promise((r) => setTimeout(r, 300));
  const cpu = process.cpuUsage(cpu0);
  const after = sensor.statistics();
  const records = after.records - before.records;
  const opens = sink.kinds.get("file.open") ?? 0;
  const line = {
    bench: "throughput",
    load: load.name,
    loops,
    ops_per_sec: Math.round(loopOps / seconds),
    events_per_sec: Math.round(records / seconds),
    file_open_events: opens,
    lost_records: Number(after.lostRecords - before.lostRecords),
    decode_errors:
      Object.values(after.decodeErrors).reduce((a, b) => a + b, 0) -
      Object.values(before.decodeErrors).reduce((a, b) => a + b, 0),
    agent_cpu_us_per_event: +((cpu.user + cpu.system) / records).toFixed(3),
    agent_rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  lines.push(line);
  console.log(
    `throughput, ${load.name.padEnd(11)}: ${line.events_per_sec.toLocaleString("en-US")} events/s into TypeScript ` +
      `(${opens.toLocaleString("en-US")} file.open), ${line.lost_records} lost, ${line.decode_errors} decode errors; ` +
      `agent ${line.agent_cpu_us_per_event} µs CPU per event, RSS ${line.agent_rss_mb} MB`,
  );
}
await sensor.stop();
console.log(JSON.stringify(lines));
