import type { Command } from "commander";
import { routesHere } from "../../sensor/enforce/index.js";
import { cgroup2MountPoint } from "../../sensor/host/index.js";
import { kernelBridge, type PreflightReport, preflight } from "../../sensor/kernel/index.js";
import { table } from "../table.js";

/** Exit statuses of `vigil doctor`; documented in the README. */
export const DOCTOR_EXIT = {
  /** The sensor can run and stop operations in the kernel on every hook (BPF-LSM). */
  full: 0,
  /** The sensor cannot run here. */
  cannotRun: 1,
  /** The sensor can run; enforcement only through fallback paths (fanotify, cgroup, kill). */
  fallback: 3,
  /** The sensor can run in audit mode only: nothing here can enforce. */
  auditOnly: 4,
} as const;

export function doctorExitCode(report: PreflightReport): number {
  if (!report.canRun) return DOCTOR_EXIT.cannotRun;
  if (report.enforcement.includes("lsm")) return DOCTOR_EXIT.full;
  return report.enforcement.length > 0 ? DOCTOR_EXIT.fallback : DOCTOR_EXIT.auditOnly;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check whether this host can run the sensor, and which enforcement paths it offers")
    .option("--json", "print the report as JSON")
    .action((opts: { json?: boolean }) => {
      const report = preflight(kernelBridge());
      const exitCode = doctorExitCode(report);
      const usable = report.enforcement.filter((p) => p !== "cgroup_sock" || cgroup2MountPoint());
      const routes = routesHere(usable);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...report, exitCode, deny: routes }, null, 2)}\n`);
      } else {
        const rows = report.checks.map((c) => [c.name, c.status.toUpperCase(), c.value, c.detail ?? ""]);
        process.stdout.write(table(["CHECK", "STATUS", "VALUE", "DETAIL"], rows));
        process.stdout.write(`\nsensor can run: ${report.canRun ? "yes" : "no"}\n`);
        process.stdout.write(`enforcement paths: ${report.enforcement.join(", ") || "none (audit only)"}\n`);
        // What the sensor does with them: fanotify permission events are not used yet.
        const used = [...new Set(routes.map((r) => r.path))];
        process.stdout.write(
          `deny rules here:\n${used
            .map(
              (p) =>
                `  ${p}: ${routes
                  .filter((r) => r.path === p)
                  .map((r) => r.kind)
                  .join(", ")}`,
            )
            .join("\n")}\n`,
        );
      }
      process.exitCode = exitCode;
    });
}
