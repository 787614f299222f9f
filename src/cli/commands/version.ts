import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { installRoot } from "../../paths.js";

export const clientVersion: string = (
  JSON.parse(readFileSync(join(installRoot, "package.json"), "utf8")) as { version: string }
).version;

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the version of this client")
    .option("--json", "print as JSON")
    .action((opts: { json?: boolean }) => {
      const info = { client: clientVersion, node: process.versions.node };
      process.stdout.write(opts.json ? `${JSON.stringify(info)}\n` : `client: ${info.client} (node ${info.node})\n`);
    });
}
