import { Command } from "commander";
import { registerDoctor } from "./commands/doctor.js";
import { registerRun } from "./commands/run.js";
import { clientVersion, registerVersion } from "./commands/version.js";

const program = new Command("vigil")
  .description("Vigil runtime security sensor")
  .version(clientVersion, "-V, --client-version", "print the client version");
registerRun(program);
registerDoctor(program);
registerVersion(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`vigil: ${err.message}\n`);
  process.exitCode = 1;
});
