import assert from "node:assert/strict";
import { test } from "node:test";
import type { SensorStatistics } from "../../sensor/sensor.js";
import { bytes, duration, formatStatistics } from "./statistics.js";

test("durations and sizes for people", () => {
  assert.equal(duration(1500), "1.5 s");
  assert.equal(duration(3_723_000), "1h 2m 3s");
  assert.equal(duration(90_061_000), "1d 1h 1m 1s");
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(64 << 20), "64.0 MiB");
});

test("the table puts delivered and kernel-filtered side by side", () => {
  const stats: SensorStatistics = {
    uptimeMs: 65_000,
    records: 10,
    decodeErrors: { truncated: 0, unknown_op: 1, malformed: 0 },
    lostRecords: 2n,
    rings: [{ name: "events", lost: 2n, records: 10, batches: 2, bytes: 2048, oversized: 0 }],
    events: { "process.exec": 4, "file.open": 6 },
    filtered: { "file.open": 1000 },
    processes: 80,
    sinks: [{ written: 10, dropped: 0 }],
    agent: { cpuUserUs: 1_250_000, cpuSystemUs: 250_000, rssBytes: 60 << 20 },
    enforcement: [],
    attachFailures: [{ program: "vg_open", error: "ENOENT: no such tracepoint", code: "ENOENT" }],
  };
  const text = formatStatistics(stats);
  assert.match(text, /^uptime\s+1m 5s$/m);
  assert.match(text, /^decode errors\s+truncated 0, unknown_op 1, malformed 0$/m);
  assert.match(text, /^agent cpu\s+1\.25 s user, 0\.25 s system$/m);
  assert.match(text, /^agent rss\s+60\.0 MiB$/m);
  assert.match(text, /^enforcement\s+none \(audit only\)$/m);
  assert.match(text, /^not attached\s+vg_open \(ENOENT: no such tracepoint\)$/m);
  assert.match(text, /^KIND\s+DELIVERED\s+FILTERED IN KERNEL$/m);
  assert.match(text, /^file\.open\s+6\s+1000$/m);
  assert.match(text, /^process\.exec\s+4\s+0$/m);
  assert.match(text, /^events\s+2\s+10\s+2\s+2\.0 KiB\s+0$/m);
});
