import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import type { PreflightReport } from "../../src/sensor/kernel/index.js";
import { requireKernel, startSensor, vigil } from "./harness.js";

// A private mount namespace without tracefs, bpffs and securityfs: the host's mounts stay as they are.
const bare = [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  'for m in /sys/kernel/tracing /sys/kernel/debug/tracing /sys/fs/bpf /sys/kernel/security; do while umount "$m" 2>/dev/null; do :; done; done; exec "$@"',
  "sh",
];

test("doctor mounts tracefs, bpffs and securityfs when they are missing", (t) => {
  if (!requireKernel(t)) return;
  const r = spawnSync(bare[0] ?? "unshare", [...bare.slice(1), vigil, "doctor", "--json"], { encoding: "utf8" });
  const report = JSON.parse(r.stdout) as PreflightReport;
  assert.deepEqual(
    report.mounts.map((m) => [m.fsType, m.state]),
    [
      ["tracefs", "mounted"],
      ["bpf", "mounted"],
      ["securityfs", "mounted"],
    ],
    r.stderr,
  );
  assert.equal(report.programs.tracepoint?.attaches, true, "tracepoints attach once tracefs is mounted");
  assert.ok(report.checks.find((c) => c.name === "active lsms")?.value.includes("capability"), "securityfs readable");
});

test("the sensor mounts what is missing, logs it, and runs", async (t) => {
  if (!requireKernel(t)) return;
  const sensor = await startSensor([], bare);
  try {
    const mounted = sensor
      .logs()
      .filter((l) => l.msg === "mounted filesystem")
      .map((l) => l.fsType);
    assert.deepEqual(mounted, ["tracefs", "bpf", "securityfs"]);
  } finally {
    assert.equal(await sensor.stop(), 0);
  }
});
