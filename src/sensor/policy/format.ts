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

const Kinds = z.union([EventKind, z.array(EventKind).min(1)]);

export const SEQUENCE_KEYS = ["process", "tree", "session", "container"] as const;

/** The longest window a sequence may have: partial matches are held in memory that long. */
export const MAX_WINDOW = "1h";
export const MAX_STEPS = 8;

export const SequenceSchema = z
  .object({
    within: z
      .string()
      .regex(/^[1-9][0-9]*(ms|s|m|h)$/, "must be a duration: a whole number of ms, s, m or h (e.g. 10s)")
      .describe(`every step within this time of the first step's event, at most ${MAX_WINDOW}`),
    by: z
      .enum(SEQUENCE_KEYS)
      .describe(
        "what the steps must share: process (pid and start time), tree (the first step's process or its descendants), session (the cgroup), container (the container id; the cgroup on the host)",
      ),
    steps: z
      .array(z.object({ on: Kinds.describe("the event kinds this step is tested against"), when: Expression }).strict())
      .min(2)
      .max(MAX_STEPS)
      .describe("in order: each step matches an event that came after the previous step's"),
  })
  .strict();

/** An event in an example: only the fields that matter, the rest filled from sample defaults. */
const ExampleEvent = z
  .record(z.string(), z.unknown())
  .describe("a partial event: kind and the fields that matter; the rest take sample defaults");

const Examples = z
  .array(z.union([ExampleEvent, z.array(ExampleEvent).min(1)]))
  .default([])
  .describe("for a sequence rule each example is a list of events, in order");

export const RuleSchema = z
  .object({
    id: slug.describe("unique within the policy"),
    description: z.string().optional(),
    on: Kinds.optional().describe("the event kinds the rule is tested against"),
    when: Expression.optional(),
    sequence: SequenceSchema.optional().describe("instead of on and when: ordered steps within a time window"),
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
    examples: z
      .object({
        match: Examples.describe("events the rule must match"),
        ignore: Examples.describe("look-alikes the rule must not match"),
      })
      .strict()
      .optional()
      .describe("run offline by `vigil policy test`"),
  })
  .strict()
  // Either form, never both; checked even when other fields are wrong, so all is reported at once.
  .superRefine(
    (rule, ctx) => {
      if (rule.sequence !== undefined) {
        for (const key of ["on", "when"] as const) {
          if (rule[key] !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: [key],
              message: `a sequence rule has no '${key}': each step has its own`,
            });
          }
        }
        return;
      }
      for (const key of ["on", "when"] as const) {
        if (rule[key] === undefined) {
          ctx.addIssue({ code: "invalid_type", expected: "string", path: [key], input: undefined, message: "" });
        }
      }
    },
    { when: () => true },
  );

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
export type SequenceDocument = z.output<typeof SequenceSchema>;
export type SequenceKey = (typeof SEQUENCE_KEYS)[number];
export type Mode = (typeof MODES)[number];
export type Action = (typeof ACTIONS)[number];
export type Severity = (typeof SEVERITIES)[number];

/** The published JSON Schema of a policy document. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(PolicySchema, {
      io: "input",
      unrepresentable: "any",
      override: (ctx) => {
        // The refinement above, as JSON Schema says it: a rule is one form or the other.
        if (ctx.zodSchema === RuleSchema) {
          ctx.jsonSchema.oneOf = [{ required: ["on", "when"] }, { required: ["sequence"] }];
        }
      },
    }) as Record<string, unknown>),
    $id: "https://vigil.dev/schemas/policy-v1.json",
    title: "Vigil policy",
  };
}

const UNIT_NS = { ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n } as const;

/** A duration as the format writes it (`10s`), in nanoseconds. */
export function durationNs(text: string): bigint {
  const [, count = "0", unit = "s"] = /^([0-9]+)(ms|s|m|h)$/.exec(text) ?? [];
  return BigInt(count) * UNIT_NS[unit as keyof typeof UNIT_NS];
}
