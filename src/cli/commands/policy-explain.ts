import { existsSync } from "node:fs";
import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import type { InterestSpec, KindInterest } from "../../sensor/kernel/interest.js";
import { ALWAYS_SENT } from "../../sensor/kernel/interest-union.js";
import {
  type CompiledPolicy,
  formatPolicyError,
  type KernelPart,
  loadPolicyPaths,
  policyInterest,
} from "../../sensor/policy/index.js";
import { table } from "../table.js";

/** A usage problem: a path that does not exist, no policy, no such rule. */
class UsageError extends Error {
  readonly exitCode = 2;
}

export function registerExplain(policy: Command): void {
  policy
    .command("explain")
    .description(
      "show, per rule, what the kernel tests (kinds, path prefixes, access) and what is left to user space, and what the kernel sends for all the rules",
    )
    .argument("[rule]", "a rule id, or policy/id; every rule when absent")
    .requiredOption("--policies <path>", "a policy file or a directory of them, as `vigil run --policies` takes")
    .option("--json", "print as JSON")
    .action((rule: string | undefined, opts: { policies: string; json?: boolean }) => {
      if (!existsSync(opts.policies)) throw new UsageError(`no such file or directory: ${opts.policies}`);
      const loaded = loadPolicyPaths([opts.policies]);
      // Bad files are left out, as the sensor would; their errors go to stderr.
      for (const e of loaded.errors) process.stderr.write(`${formatPolicyError(e)}\n`);
      if (loaded.policies.length === 0) throw new UsageError(`no policy loaded from ${opts.policies}`);
      const explanation = explain(loaded.policies, rule);
      if (rule !== undefined && explanation.rules.length === 0) throw new UsageError(`no rule ${rule}`);
      process.stdout.write(opts.json ? `${toJson(explanation)}\n` : formatExplanation(explanation));
    });
}

/** `vigil policy explain`: what of each rule the kernel tests, and what it sends for them all. */
export interface Explanation {
  rules: { policy: string; rule: string; enabled: boolean; parts: KernelPart[] }[];
  /** What the kernel sends for every enabled rule of the policies together. */
  interest: InterestSpec;
}

/** Explains the rules of `policies`, or the one named `rule` (its id, or policy/id). */
export function explain(policies: readonly CompiledPolicy[], rule?: string): Explanation {
  const all = policies.flatMap((p) => p.rules);
  const chosen = rule === undefined ? all : all.filter((r) => r.id === rule || `${r.policy}/${r.id}` === rule);
  return {
    rules: chosen.map((r) => ({ policy: r.policy, rule: r.id, enabled: r.enabled, parts: [...r.kernel] })),
    interest: policyInterest(all),
  };
}

/** What a kind's interest sends, in words: "/etc/ (write), /etc/shadow (any); elsewhere nothing". */
export function describeInterest(interest: KindInterest | undefined): string {
  if (!interest?.enabled) return "nothing (off)";
  const elsewhere = interest.pathDefault ?? "any";
  const paths = Object.entries(interest.paths ?? {});
  if (paths.length === 0) return elsewhere === "any" ? "every event" : `every path, ${elsewhere} access only`;
  const below = paths.map(([prefix, access]) => `${prefix} (${access})`).join(", ");
  return `${below}; elsewhere ${elsewhere === "none" ? "nothing" : `${elsewhere} access only`}`;
}

export function formatExplanation(e: Explanation): string {
  const out: string[] = [];
  for (const r of e.rules) {
    const kinds = [...new Set(r.parts.map((p) => p.kind))].join(", ");
    out.push(`${r.policy}/${r.rule} on ${kinds}${r.enabled ? "" : " (disabled: not in force)"}`);
    const rows: string[][] = [];
    for (const part of r.parts) {
      const source = part.source === "when" ? "" : ` ${part.source}`;
      rows.push([`  kernel${source}`, `${part.kind}: ${describeInterest(part.interest)}`]);
    }
    // The remainder is the same text for every kind that shares it: show it once.
    const remainders = [...new Set(r.parts.map((p) => JSON.stringify(p.remainder)))];
    for (const remainder of remainders) {
      const lines = JSON.parse(remainder) as string[];
      const label = remainders.length > 1 ? `  user space (${kindsWith(r.parts, remainder)})` : "  user space";
      if (lines.length === 0) rows.push([label, "nothing more: the kernel's test is the whole condition"]);
      lines.forEach((line, i) => {
        rows.push([i === 0 ? label : "", line]);
      });
    }
    out.push(table(["", ""], rows).split("\n").slice(1).join("\n"));
  }
  out.push("What the kernel sends for every rule loaded:");
  const on = Object.entries(e.interest.kinds).filter(([, k]) => k.enabled);
  const off = Object.entries(e.interest.kinds)
    .filter(([, k]) => !k.enabled)
    .map(([kind]) => kind);
  out.push(
    table(
      ["KIND", "SENT"],
      [
        ...on.map(([kind, k]) => [kind, describeInterest(k)]),
        ...[...ALWAYS_SENT].map((k) => [k, "every event (always)"]),
      ],
    ),
  );
  if (off.length > 0) out.push(`off: ${off.join(", ")}\n`);
  return out.join("\n");
}

function kindsWith(parts: readonly KernelPart[], remainder: string): string {
  return parts
    .filter((p) => JSON.stringify(p.remainder) === remainder)
    .map((p) => p.kind)
    .join(", ");
}
