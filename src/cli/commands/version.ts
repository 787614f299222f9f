import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import { installRoot } from "../../paths.js";
import type { SensorVersion } from "../../sensor/control/index.js";
import { query, SensorUnreachable, socketPath } from "../client.js";

export const clientVersion: string = (
  JSON.parse(readFileSync(join(installRoot, "package.json"), "utf8")) as { version: string }
).version;

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the versions of this client, of the running sensor, and of its definitions")
    .option("--json", "print as JSON")
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; socket?: string }) => {
      const path = socketPath(opts.socket);
      let sensor: SensorVersion | undefined;
      let status: string;
      try {
        sensor = (await query(path, "version")) as SensorVersion;
        status = `${sensor.version} (node ${sensor.node}, kernel ${sensor.kernel}, pid ${sensor.pid})`;
        status += sensor.startedAt ? `, started ${sensor.startedAt}` : ", starting";
      } catch (err) {
        // The client's own version is worth printing whatever became of the sensor.
        status = err instanceof SensorUnreachable ? err.status : `error (${(err as Error).message})`;
      }
      const definitions = sensor?.definitions ?? "none";
      if (opts.json) {
        const info = {
          client: clientVersion,
          node: process.versions.node,
          socket: path,
          sensor: sensor ? { running: true, ...sensor } : { running: false, status },
          definitions,
        };
        process.stdout.write(`${toJson(info)}\n`);
        return;
      }
      process.stdout.write(
        `client: ${clientVersion} (node ${process.versions.node})\nsensor: ${status}\ndefinitions: ${definitions}\n`,
      );
    });
}
