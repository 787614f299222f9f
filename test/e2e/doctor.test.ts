import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { DOCTOR_EXIT, doctorExitCode } from "../../src/cli/commands/doctor.js";
import type { PreflightReport } from "../../src/sensor/kernel/index.js";
import { requireKernel, vigil } from "./harness.js";

test("vigil doctor --json reports what this kernel offers, and its exit status says so", (t) => {
  if (!requireKernel(t)) return;
  const r = spawnSync(vigil, ["doctor", "--json"], { encoding: "utf8" });
  const report = JSON.parse(r.stdout) as PreflightReport & { exitCode: number };
  assert.equal(r.status, report.exitCode);
  assert.equal(report.exitCode, doctorExitCode(report));
  assert.equal(report.canRun, true, r.stdout);
  const check = (name: string) => report.checks.find((c) => c.name === name);
  assert.equal(check("kernel")?.status, "ok");
  assert.equal(check("btf")?.status, "ok");
  assert.equal(check("privileges")?.status, "ok");
  for (const fs of ["tracefs", "bpf", "securityfs"]) assert.equal(check(fs)?.status, "ok", `${fs} mounted`);
  assert.equal(report.programs.tp_btf?.attaches, true);
  assert.equal(report.programs.tracepoint?.attaches, true, "tracefs is mounted, so tracepoints attach");
  // Every path claimed must rest on a probe that passed.
  if (report.enforcement.includes("lsm")) assert.equal(report.programs.lsm?.attaches, true);
  if (report.enforcement.includes("kill_at_exec")) assert.equal(report.programs.send_signal?.loads, true);
  for (const p of ["lsm", "fentry", "kprobe"]) assert.ok(report.programs[p], `${p} probed`);
});

test("vigil doctor prints a table for people", (t) => {
  if (!requireKernel(t)) return;
  const r = spawnSync(vigil, ["doctor"], { encoding: "utf8" });
  assert.match(r.stdout, /^CHECK\s+STATUS\s+VALUE/m);
  assert.match(r.stdout, /^kernel\s+OK\s+\d+\.\d+/m);
  assert.match(r.stdout, /^sensor can run: yes$/m);
  assert.match(r.stdout, /^enforcement paths: /m);
});

test("doctor exit statuses", () => {
  const base = { canRun: true, kernelRelease: "6.1.0", object: "vigil.bpf.o", checks: [], programs: {}, mounts: [] };
  assert.equal(doctorExitCode({ ...base, enforcement: ["lsm", "cgroup_sock"] }), DOCTOR_EXIT.full);
  assert.equal(doctorExitCode({ ...base, enforcement: ["fanotify", "kill_at_exec"] }), DOCTOR_EXIT.fallback);
  assert.equal(doctorExitCode({ ...base, enforcement: [] }), DOCTOR_EXIT.auditOnly);
  assert.equal(doctorExitCode({ ...base, canRun: false, enforcement: ["lsm"] }), DOCTOR_EXIT.cannotRun);
});
