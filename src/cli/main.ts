import { Command } from "commander";
import { registerActors } from "./commands/actors.js";
import { registerContainers } from "./commands/containers.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerPackages } from "./commands/packages.js";
import { registerPolicy } from "./commands/policy.js";
import { registerRun } from "./commands/run.js";
import { registerStatistics } from "./commands/statistics.js";
import { registerStop } from "./commands/stop.js";
import { clientVersion, registerVersion } from "./commands/version.js";

const program = new Command("vigil")
  .description("Vigil runtime security sensor")
  .version(clientVersion, "-V, --client-version", "print the client version");
registerRun(program);
registerDoctor(program);
registerVersion(program);
registerStatistics(program);
registerActors(program);
registerContainers(program);
registerPackages(program);
registerPolicy(program);
registerStop(program);

// Exit statuses: 1 for any failure, unless the error carries its own (see QUERY_EXIT in client.ts).
program.parseAsync(process.argv).catch((err: Error & { exitCode?: number }) => {
  process.stderr.write(`vigil: ${err.message}\n`);
  process.exitCode = err.exitCode ?? 1;
});
