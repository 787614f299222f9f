import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import { type RecordedEvents, readRecordedEvents } from "../../events/record.js";
import {
  type ExampleReport,
  formatPolicyError,
  loadPolicyPaths,
  policyJsonSchema,
  type ReplayedRule,
  replayEvents,
  runExamples,
  validatePolicyPaths,
} from "../../sensor/policy/index.js";
import { table } from "../table.js";
import { registerExplain } from "./policy-explain.js";
import { registerPolicyStatus } from "./policy-status.js";

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

/**
 * Exit statuses of `vigil policy test`:
 *
 * | status | meaning                                                                        |
 * | ------ | ------------------------------------------------------------------------------ |
 * | 0      | it ran: every example passed (rules that fire on recorded events are no error) |
 * | 1      | an example of a rule failed (each failure is printed)                          |
 * | 2      | bad usage: a path or the events file cannot be read, or a policy has errors    |
 */
export const TEST_EXIT = { ran: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {
  readonly exitCode = VALIDATE_EXIT.nothing;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

interface TestOptions {
  events?: string;
  json?: boolean;
}

function policyTest(paths: string[], opts: TestOptions): void {
  for (const path of [...paths, ...(opts.events ? [opts.events] : [])]) {
    if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
  }
  const loaded = loadPolicyPaths(paths);
  if (loaded.files === 0) throw new UsageError(`no policy files (.json, .yaml, .yml) in ${paths.join(", ")}`);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) process.stderr.write(`${formatPolicyError(e)}\n`);
    throw new UsageError(`${plural(loaded.errors.length, "error")} in the policies; nothing was tested`);
  }
  const examples = runExamples(loaded.policies);
  let recorded: (RecordedEvents & { file: string; rules: ReplayedRule[] }) | undefined;
  if (opts.events) {
    let text: string;
    try {
      text = readFileSync(opts.events, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read ${opts.events}: ${(err as Error).message}`);
    }
    const read = readRecordedEvents(text);
    for (const b of read.bad) process.stderr.write(`${opts.events}:${b.line}: ${b.message} (skipped)\n`);
    recorded = { file: opts.events, ...read, rules: replayEvents(loaded.policies, read.events) };
  }
  if (opts.json) {
    const events = recorded && {
      file: recorded.file,
      events: recorded.events.length,
      bad: recorded.bad,
      alerts: recorded.alerts,
      rules: recorded.rules,
    };
    process.stdout.write(`${toJson({ examples, ...(events && { events }) })}\n`);
  } else {
    process.stdout.write(formatExamples(examples));
    if (recorded) process.stdout.write(formatReplay(recorded));
  }
  process.exitCode = examples.failures.length > 0 ? TEST_EXIT.failed : TEST_EXIT.ran;
}

export function formatExamples(report: ExampleReport): string {
  const lines = report.failures.map((f) => `${f.file} ${f.rule} ${f.example}: expected ${f.expected}, got ${f.got}`);
  const failed = report.failures.length;
  lines.push(
    `examples: ${plural(report.rules, "rule")}, ${plural(report.examples, "example")}, ${failed === 0 ? "all passed" : `${failed} failed`}`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatReplay(r: RecordedEvents & { file: string; rules: ReplayedRule[] }): string {
  const skipped = [
    ...(r.bad.length > 0 ? [`${plural(r.bad.length, "bad line")} skipped`] : []),
    ...(r.alerts > 0 ? [`${plural(r.alerts, "alert")} skipped`] : []),
  ];
  const head = `${r.file}: ${plural(r.events.length, "event")}${skipped.length > 0 ? `, ${skipped.join(", ")}` : ""}\n`;
  const rows = r.rules.map((x) => [
    x.rule,
    x.policy,
    String(x.tested),
    String(x.matched),
    String(x.errors),
    x.matches
      .slice(0, 3)
      .map((m) => m.join("+"))
      .join(", ") + (x.matches.length > 3 ? ", ..." : ""),
  ]);
  return head + table(["RULE", "POLICY", "TESTED", "MATCHED", "ERRORS", "LINES"], rows);
}

export function registerPolicy(program: Command): void {
  const policy = program
    .command("policy")
    .description(
      "check policies, test them offline, explain what the kernel tests of them, show how the running sensor enforces them, print their JSON Schema",
    );
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
  registerPolicyStatus(policy);
  policy
    .command("test")
    .description(
      "run every rule's examples and, with --events, the policies over recorded events; print what fired. Exit 0: ran; 1: an example failed; 2: bad usage or policies with errors",
    )
    .argument("<paths...>", "policy files (.json, .yaml, .yml) or directories of them")
    .option("--events <file>", "JSON lines of events, as `vigil run --record` writes them; bad lines are skipped")
    .option("--json", "print the results as JSON")
    .action((paths: string[], opts: TestOptions) => policyTest(paths, opts));
  policy
    .command("schema")
    .description("print the JSON Schema of a policy document")
    .action(() => {
      process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
    });
}
