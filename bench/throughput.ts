import { writeFileSync } from "node:fs";
import type { VigilEvent } from "../src/events/schema.js";
import { createLogger } from "../src/log.js";
import { kernelBridge } from "../src/sensor/kernel/index.js";
import { DELIVER_ALL } from "../src/sensor/kernel/interest.js";
import { Sensor } from "../src/sensor/sensor.js";
import type { Sink } from "../src/sensor/sinks/index.js";
import { testerAsync } from "./sensor-process.js";

/**
 * Events per second into TypeScript with everything delivered: open/close loops (BENCH_LOOPS
 * processes, 2 by default) share the two cores with the agent, which decodes, tracks and
 * enriches every event. One loop alone cannot open files as fast as the agent takes them (a
 * bare open+close costs it most of a microsecond here), so with one the figure would be the
 * loop's. The sink only counts, so the figure is the pipeline's and not a JSON writer's.
 */

const ops = Math.round(3_000_000 * Number(process.env.BENCH_SCALE ?? 1));
const loops = Number(process.env.BENCH_LOOPS ?? 2);
const file = "/tmp/vigil-bench-throughput";
writeFileSync(file, "x");

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
const before = sensor.statistics();
const cpu0 = process.cpuUsage();
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: loops }, () =>
    testerAsync<{ ops: number; seconds: number }>("loop", ["open", file, Math.round(ops / loops)]),
  ),
);
const seconds = (performance.now() - started) / 1000;
const loopOps = results.reduce((n, r) => n + r.ops, 0);
await new Promise((r) => setTimeout(r, 300));
const cpu = process.cpuUsage(cpu0);
const after = await sensor.stop();
const records = after.records - before.records;
const opens = sink.kinds.get("file.open") ?? 0;
const line = {
  bench: "throughput",
  loops,
  opens_per_sec: Math.round(loopOps / seconds),
  events_per_sec: Math.round(records / seconds),
  file_open_events: opens,
  lost_records: Number(after.lostRecords - before.lostRecords),
  decode_errors: Object.values(after.decodeErrors).reduce((a, b) => a + b, 0),
  agent_cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  agent_rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
};
console.log(
  `throughput: ${line.events_per_sec.toLocaleString("en-US")} events/s into TypeScript (${opens.toLocaleString("en-US")} file.open from ${loops} loops), ` +
    `${line.lost_records} lost, ${line.decode_errors} decode errors; agent CPU ${line.agent_cpu_s} s, RSS ${line.agent_rss_mb} MB`,
);
console.log(JSON.stringify(line));
