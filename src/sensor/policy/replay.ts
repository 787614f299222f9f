import type { Alert } from "../../events/alert.js";
import type { RecordedEvent } from "../../events/record.js";
import type { VigilEvent } from "../../events/schema.js";
import type { CompiledPolicy } from "./compile.js";
import { PolicyEngine, PolicySet } from "./engine.js";

/**
 * Policies run offline: over events recorded by `vigil run --record`, and over the examples
 * rules carry. Alert times are the time of the event that raised them, so a run is repeatable.
 */

export interface ExampleFailure {
  file: string;
  policy: string;
  rule: string;
  /** Where the example is in its rule: `examples.match[0]`. */
  example: string;
  expected: string;
  got: string;
}

export interface ExampleReport {
  /** Rules that have examples. */
  rules: number;
  examples: number;
  failures: ExampleFailure[];
}

/**
 * Runs every rule's examples, each alone in an engine of its own (so no state crosses from one
 * example to the next), the rule enabled whatever its flag: a `match` example must raise at
 * least one alert, an `ignore` example none.
 */
export function runExamples(policies: readonly CompiledPolicy[]): ExampleReport {
  const report: ExampleReport = { rules: 0, examples: 0, failures: [] };
  for (const policy of policies) {
    for (const rule of policy.rules) {
      if (!rule.examples) continue;
      const sets = [
        ["match", rule.examples.match],
        ["ignore", rule.examples.ignore],
      ] as const;
      if (sets.every(([, examples]) => examples.length === 0)) continue;
      report.rules++;
      for (const [set, examples] of sets) {
        examples.forEach((events, index) => {
          report.examples++;
          const alone: CompiledPolicy = { ...policy, rules: [{ ...rule, enabled: true }] };
          let alerts = 0;
          const engine = replay([alone], events, () => alerts++);
          const errors = engine.statistics().perRule.flatMap((r) => (r.lastError === undefined ? [] : [r.lastError]));
          const ok = set === "match" ? alerts > 0 : alerts === 0;
          if (ok) return;
          const failed = errors.length > 0 ? ` (${errors.join("; ")})` : "";
          report.failures.push({
            file: policy.file,
            policy: policy.name,
            rule: rule.id,
            example: `examples.${set}[${index}]`,
            expected: set === "match" ? "an alert" : "no alert",
            got: `${alerts === 0 ? "none" : `${alerts} ${alerts === 1 ? "alert" : "alerts"}`}${failed}`,
          });
        });
      }
    }
  }
  return report;
}

/** An engine with `policies` in force, after it has tested `events` in order. */
function replay(
  policies: readonly CompiledPolicy[],
  events: readonly VigilEvent[],
  emit: (alert: Alert) => void,
): PolicyEngine {
  let now = 0n;
  const engine = new PolicyEngine({ clock: () => now });
  engine.swap(new PolicySet(policies, []));
  for (const event of events) {
    now = event.time;
    engine.evaluate(event, emit);
  }
  return engine;
}

export interface ReplayedRule {
  policy: string;
  rule: string;
  tested: number;
  matched: number;
  errors: number;
  /** Each alert's events, as line numbers of the recording. */
  matches: number[][];
}

/** Runs policies over recorded events, in order; what each rule did, the rules that fired first. */
export function replayEvents(policies: readonly CompiledPolicy[], events: readonly RecordedEvent[]): ReplayedRule[] {
  const lines = new Map<VigilEvent, number>(events.map((e) => [e.event, e.line]));
  const matches = new Map<string, number[][]>();
  const engine = replay(
    policies,
    events.map((e) => e.event),
    (alert) => {
      const key = `${alert.rule.policy}\0${alert.rule.id}`;
      const list = matches.get(key) ?? [];
      list.push(alert.events.map((e) => lines.get(e) ?? 0));
      matches.set(key, list);
    },
  );
  return engine
    .statistics()
    .perRule.map((r) => ({
      policy: r.policy,
      rule: r.rule,
      tested: r.tested,
      matched: r.matched,
      errors: r.errors,
      matches: matches.get(`${r.policy}\0${r.rule}`) ?? [],
    }))
    .sort((a, b) => b.matched - a.matched);
}
