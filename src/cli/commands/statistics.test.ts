import assert from "node:assert/strict";
import { test } from "node:test";
import type { SensorStatistics } from "../../sensor/sensor.js";
import { bytes, duration, formatPolicies, formatStatistics } from "./statistics.js";

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
    sinks: [{ sink: "stdout", written: 10, dropped: 0, failed: 0, queued: 0 }],
    agent: { cpuUserUs: 1_250_000, cpuSystemUs: 250_000, rssBytes: 60 << 20 },
    enforcement: [],
    attachFailures: [{ program: "vg_open", error: "ENOENT: no such tracepoint", code: "ENOENT" }],
    containers: {
      containers: 3,
      cgroups: 5,
      cgroupPaths: 9,
      lookups: 6,
      walks: 1,
      stateReads: 4,
      stateErrors: 1,
      kubernetes: { pods: 12, connects: 2, errors: 1, lastError: "HTTP 403: forbidden", malformed: 0, ownerLookups: 4 },
    },
    packages: {
      packages: 3,
      byEcosystem: { deb: 2, python: 1 },
      sightings: 40,
      filesRead: 7,
      unowned: 3,
      unreadable: 1,
      dropped: 0,
      evictedPackages: 0,
      evictedFiles: 0,
      scans: 9,
      scanFailures: 1,
      rescansDropped: 0,
    },
  };
  const text = formatStatistics(stats);
  assert.match(
    text,
    /^containers\s+3 known, 5 cgroups resolved \(6 lookups, 1 tree walks\), 4 runtime state reads, 1 unreadable$/m,
  );
  assert.match(
    text,
    /^kubernetes\s+12 pods on this node, 4 owner lookups, 1 watch errors \(last: HTTP 403: forbidden\), 0 malformed events$/m,
  );
  assert.match(
    text,
    /^packages\s+3 loaded \(deb 2, python 1\); 40 loads seen, 7 files read \(3 no package's, 1 unreadable\), 9 mapping scans \(1 failed\), 0 dropped, 0 packages and 0 files forgotten at the limits$/m,
  );
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

test("rules are listed costliest first, with what each matched, and files not in force are named", () => {
  const text = formatPolicies({
    mode: "audit",
    policies: 2,
    rules: 3,
    alerts: 5,
    reloads: 1,
    loadedAt: "2026-11-24T20:00:00.000Z",
    sequences: { partial: 3, limits: { perRule: 1024, total: 16384 }, expired: 7, evicted: 2 },
    files: [
      { file: "/etc/vigil/policies/a.json", policy: "a", status: "loaded", errors: 0 },
      { file: "/etc/vigil/policies/b.json", policy: "b", status: "stale", errors: 2 },
      { file: "/etc/vigil/policies/c.json", status: "rejected", errors: 1 },
    ],
    perRule: [
      {
        policy: "a",
        rule: "cheap",
        kinds: ["file.open"],
        action: "alert",
        enabled: true,
        tested: 1000,
        matched: 5,
        exempted: 1,
        errors: 0,
        timeNs: 50_000,
      },
      {
        policy: "b",
        rule: "costly",
        kinds: ["process.exec"],
        action: "deny",
        enabled: true,
        tested: 100,
        matched: 0,
        exempted: 0,
        errors: 3,
        timeNs: 2_000_000,
        lastError: "no such key: x",
      },
      {
        policy: "b",
        rule: "off",
        kinds: ["file.open"],
        action: "alert",
        enabled: false,
        tested: 0,
        matched: 0,
        exempted: 0,
        errors: 0,
        timeNs: 0,
      },
      {
        policy: "a",
        rule: "connect-then-shell",
        kinds: ["net.connect", "process.exec"],
        action: "alert",
        enabled: true,
        tested: 10,
        matched: 1,
        exempted: 0,
        errors: 0,
        timeNs: 0,
        sequence: { partial: 3, expired: 7, evicted: 2 },
      },
    ],
  });
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    "policies: 2 in force, 3 rules, 5 alerts, audit mode, loaded 2026-11-24T20:00:00.000Z (reload 1)",
  );
  assert.equal(lines[1], "  /etc/vigil/policies/b.json: 2 errors; its last good version stays in force");
  assert.equal(lines[2], "  /etc/vigil/policies/c.json: rejected, 1 errors");
  assert.equal(lines[3], "sequences: 3 partial matches held (at most 1024 a rule, 16384 in all), 7 expired, 2 evicted");
  assert.match(
    lines[5] ?? "",
    /^RULE\s+POLICY\s+TESTED\s+MATCHED\s+EXEMPTED\s+ERRORS\s+TIME\s+PER TEST\s+HELD\/EXPIRED\/EVICTED\s+LAST ERROR$/,
  );
  assert.match(lines[6] ?? "", /^costly\s+b\s+100\s+0\s+0\s+3\s+2\.0 ms\s+20000 ns\s+-\s+no such key: x$/);
  assert.match(lines[7] ?? "", /^cheap\s+a\s+1000\s+5\s+1\s+0\s+0\.1 ms\s+50 ns\s+-$/);
  assert.match(lines[8] ?? "", /^connect-then-shell\s+a\s+10\s+1\s+0\s+0\s+0\.0 ms\s+-\s+3\/7\/2$/);
  assert.match(lines[9] ?? "", /^off\s+b\s+disabled\s+0\s+0\s+0\s+0\.0 ms\s+-\s+-$/);
});
