import { existsSync } from "node:fs";
import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import { formatPolicyError, policyJsonSchema, validatePolicyPaths } from "../../sensor/policy/index.js";
import { registerExplain } from "./policy-explain.js";

/**
 * Exit statuses of `vigil policy validate`:
 *
 * | status | meaning                                                                 |
 * | ------ | ----------------------------------------------------------------------- |
 * | 0      | every policy file is valid                                              |
 * | 1      | at least one file has errors (each is printed as file:line:col rule: …) |
 * | 2      | a path does not exist, or names no policy file                         |
 */
export const VALIDATE_EXIT = { valid: 0, invalid: 1, nothing: 2 } as const;

class UsageError extends Error {
  readonly exitCode = VALIDATE_EXIT.nothing;
}

export function registerPolicy(program: Command): void {
  const policy = program
    .command("policy")
    .description("check policies, explain what the kernel tests of them, print their JSON Schema");
  policy
    .command("validate")
    .description("check policy files and directories as the sensor would load them; print every error")
    .argument("<paths...>", "policy files (.json, .yaml, .yml) or directories of them")
    .option("--json", "print the errors as JSON")
    .action((paths: string[], opts: { json?: boolean }) => {
      for (const path of paths) if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
      const report = validatePolicyPaths(paths);
      if (report.files === 0) throw new UsageError(`no policy files (.json, .yaml, .yml) in ${paths.join(", ")}`);
      if (opts.json) process.stdout.write(`${toJson(report)}\n`);
      else {
        for (const e of report.errors) process.stdout.write(`${formatPolicyError(e)}\n`);
        const bad = new Set(report.errors.map((e) => e.file)).size;
        process.stdout.write(
          bad === 0
            ? `${report.files} ${report.files === 1 ? "file" : "files"}: valid\n`
            : `${report.files} ${report.files === 1 ? "file" : "files"}: ${bad} rejected, ${report.errors.length} ${report.errors.length === 1 ? "error" : "errors"}\n`,
        );
      }
      process.exitCode = report.errors.length === 0 ? VALIDATE_EXIT.valid : VALIDATE_EXIT.invalid;
    });
  registerExplain(policy);
  policy
    .command("schema")
    .description("print the JSON Schema of a policy document")
    .action(() => {
      process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
    });
}
