import { z } from "zod";
import { ACTIONS, SEVERITIES } from "../../events/alert.js";
import { EVENT_KINDS } from "../../events/schema.js";

/**
 * The policy document: the one source of the TypeScript types, the loader's structural
 * checks and the JSON Schema that `vigil policy schema` publishes. Expressions are checked
 * afterwards (compile.ts), against the event schema.
 */

export const API_VERSION = "vigil.dev/v1";

export const MODES = ["audit", "enforce"] as const;

const slug = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, "must be lowercase letters, digits, '.', '_' or '-' (e.g. read-shadow)")
  .max(128);

/** Lists and macros are named in expressions, so their names are CEL identifiers. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a CEL identifier: letters, digits and '_', not starting with a digit");

const EventKind = z.enum(EVENT_KINDS as [string, ...string[]]).describe("an event kind, e.g. file.open");

const Expression = z.string().min(1).describe("a CEL expression that yields bool");

export const ExceptionSchema = z
  .object({
    name: slug.describe("names the exception in statistics and logs"),
    when: Expression.describe("CEL: an event that matches it does not raise the rule's alert"),
    description: z.string().optional(),
  })
  .strict();

export const RuleSchema = z
  .object({
    id: slug.describe("unique within the policy"),
    description: z.string().optional(),
    on: z.union([EventKind, z.array(EventKind).min(1)]).describe("the event kinds the rule is tested against"),
    when: Expression,
    action: z
      .enum(ACTIONS)
      .default("alert")
      .describe("alert; deny: stop the operation; kill: SIGKILL the process (audit mode only reports them)"),
    severity: z.enum(SEVERITIES).default("medium"),
    tags: z.array(z.string()).default([]).describe("e.g. MITRE ATT&CK ids: attack.T1003.008"),
    message: z
      .string()
      .default("{{kind}} by {{process.exe}}")
      .describe("the alert's message; {{field.path}} is replaced by the event's field"),
    exceptions: z.array(ExceptionSchema).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();

export const PolicySchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Policy"),
    metadata: z
      .object({
        name: slug.describe("unique among the policies loaded"),
        description: z.string().optional(),
      })
      .strict(),
    spec: z
      .object({
        mode: z.enum(MODES).default("audit").describe("audit: report only; enforce: deny and kill as rules ask"),
        lists: z
          .record(identifier, z.union([z.array(z.string()), z.array(z.number().int())]))
          .default({})
          .describe("named sets of strings or of integers; `x in lists.NAME` in expressions"),
        macros: z
          .record(identifier, Expression)
          .default({})
          .describe("named CEL snippets; a rule names one as an identifier"),
        rules: z.array(RuleSchema).min(1),
      })
      .strict(),
  })
  .strict();

export type PolicyDocument = z.output<typeof PolicySchema>;
export type RuleDocument = z.output<typeof RuleSchema>;
export type Mode = (typeof MODES)[number];
export type Action = (typeof ACTIONS)[number];
export type Severity = (typeof SEVERITIES)[number];

/** The published JSON Schema of a policy document. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(PolicySchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    $id: "https://vigil.dev/schemas/policy-v1.json",
    title: "Vigil policy",
  };
}
