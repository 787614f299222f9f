import assert from "node:assert/strict";
import { test } from "node:test";
import type { PackageView } from "../../sensor/control/index.js";
import { formatPackages } from "./packages.js";

const seen = "2026-11-24T00:00:01.000Z";
const proc = (pid: number, live: boolean, container?: string) => ({
  pid,
  exe: "/usr/bin/python3.11",
  ...(container && { container }),
  live,
  firstSeen: seen,
  lastSeen: seen,
});

test("one row per package: processes counted, live pids listed, the host and containers by short id", () => {
  const packages: PackageView[] = [
    {
      ecosystem: "python",
      name: "PyYAML",
      version: "6.0",
      firstSeen: seen,
      lastSeen: seen,
      locations: ["/usr/lib/python3/dist-packages/yaml"],
      processes: [proc(10, false), proc(11, true), proc(12, true, "c".repeat(64))],
      processCount: 5,
      host: true,
      containers: ["c".repeat(64)],
    },
  ];
  assert.equal(
    formatPackages(packages),
    [
      "ECOSYSTEM  NAME    VERSION  PROCESSES  LIVE PIDS  WHERE              LAST SEEN                 LOCATION",
      "python     PyYAML  6.0      5          11,12      host,cccccccccccc  2026-11-24T00:00:01.000Z  /usr/lib/python3/dist-packages/yaml",
      "",
    ].join("\n"),
  );
});
