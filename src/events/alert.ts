import { z } from "zod";
import { ContainerSchema, KubernetesSchema } from "./container.js";
import { Nanoseconds } from "./process.js";
import { EventSchema } from "./schema.js";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export const ACTIONS = ["alert", "deny", "kill"] as const;

/**
 * An alert: a record of its own on the event stream, written when a rule matches. `action`
 * is what the rule asks; `outcome` is what was done.
 */
export const AlertSchema = z.object({
  kind: z.literal("alert"),
  time: Nanoseconds.describe("when the rule matched, nanoseconds since the epoch"),
  rule: z.object({
    id: z.string(),
    policy: z.string().describe("the policy's metadata.name"),
    severity: z.enum(SEVERITIES),
    tags: z.array(z.string()),
  }),
  message: z.string().describe("the rule's message, its {{placeholders}} filled from the event"),
  action: z.enum(ACTIONS).describe("what the rule asks"),
  outcome: z
    .enum(["alerted", "would_deny", "would_kill", "prevented", "killed", "killed_after", "failed"])
    .describe(
      "what was done: alerted; would_deny and would_kill in audit mode; prevented, killed, killed_after (the syscall had completed) and failed when enforcing",
    ),
  container: ContainerSchema.nullable().describe("the container of the last event that matched; null on the host"),
  k8s: KubernetesSchema.nullable().describe("its Kubernetes pod; null outside Kubernetes"),
  events: z.array(EventSchema).describe("the events that matched, each as written on its own"),
});

export type Alert = z.infer<typeof AlertSchema>;
export type Outcome = Alert["outcome"];
