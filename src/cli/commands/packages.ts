import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import type { PackageView } from "../../sensor/control/index.js";
import { query, socketPath } from "../client.js";
import { table } from "../table.js";
import { printable } from "./actors.js";

/** Live pids listed in the table; the rest are counted. */
const MAX_PIDS = 6;

/**
 * One row per package release: how many processes loaded it and which of them still run, where
 * (the host, containers by short id) and when it was last seen loaded.
 */
export function formatPackages(packages: readonly PackageView[]): string {
  const rows = packages.map((p) => {
    const live = p.processes.filter((x) => x.live).map((x) => x.pid);
    const pids = live.slice(0, MAX_PIDS).join(",") + (live.length > MAX_PIDS ? ` +${live.length - MAX_PIDS}` : "");
    const where = [...(p.host ? ["host"] : []), ...p.containers.map((c) => c.slice(0, 12))].join(",");
    return [
      p.ecosystem,
      printable(p.name),
      printable(p.version),
      String(p.processCount),
      pids,
      where,
      p.lastSeen,
      printable(p.locations[0] ?? ""),
    ];
  });
  return table(["ECOSYSTEM", "NAME", "VERSION", "PROCESSES", "LIVE PIDS", "WHERE", "LAST SEEN", "LOCATION"], rows);
}

export function registerPackages(program: Command): void {
  program
    .command("packages")
    .description(
      "print the packages running processes loaded, as the running sensor's inventory has them (vigil run --packages)",
    )
    .option("--json", "print JSON: each package with its processes, containers and locations")
    .option("--ecosystem <name>", "only this ecosystem: python, npm, maven, go, deb")
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; ecosystem?: string; socket?: string }) => {
      let packages = (await query(socketPath(opts.socket), "packages", {})) as PackageView[];
      if (opts.ecosystem) packages = packages.filter((p) => p.ecosystem === opts.ecosystem);
      process.stdout.write(opts.json ? `${toJson(packages)}\n` : formatPackages(packages));
    });
}
