import { AlertSchema } from "./alert.js";
import { EventSchema } from "./schema.js";
import { eventJsonSchema } from "./serialize.js";

type Json = Record<string, unknown>;

function typeOf(node: Json): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (Array.isArray(node.anyOf)) return (node.anyOf as Json[]).map(typeOf).join(" \\| ");
  if (Array.isArray(node.type)) return node.type.join(" \\| ");
  if (node.type === "array") return `${typeOf((node.items ?? {}) as Json)}[]`;
  return String(node.type ?? "any");
}

/** Leaf fields of an object schema as dotted paths. */
function fields(node: Json, prefix: string, out: [string, string, string][]): void {
  const props = (node.properties ?? {}) as Record<string, Json>;
  for (const [name, child] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const nullable = Array.isArray(child.anyOf) ? (child.anyOf as Json[]).find((b) => b.type === "object") : undefined;
    const obj = child.type === "object" ? child : nullable;
    const map = obj && !obj.properties && typeof obj.additionalProperties === "object" ? obj : undefined;
    if (map) {
      const value = typeOf(map.additionalProperties as Json);
      out.push([path, `map (string → ${value})`, String(child.description ?? "").replaceAll("|", "\\|")]);
    } else if (obj) fields(obj, path, out);
    else out.push([path, typeOf(child), String(child.description ?? "").replaceAll("|", "\\|")]);
  }
}

/**
 * The reference of every event kind and field, written from the schema itself so that it
 * cannot fall behind; docs/events.md is this text (a test keeps them equal).
 */
export function eventsReference(): string {
  const lines = [
    "# Events",
    "",
    "Generated from the event schema (`src/events/`); do not edit. Every event has `kind`, `time`",
    "(nanoseconds since the epoch), `mono_time`, the `process` context, and `container` and `k8s`",
    "(null on the host and outside Kubernetes), as below; then its own part.",
    "64-bit integers are written exactly.",
    "",
  ];
  const COMMON = new Set(["kind", "time", "mono_time", "process", "container", "k8s"]);
  const part = (schema: Json, keep: (name: string) => boolean): Json => ({
    ...schema,
    properties: Object.fromEntries(Object.entries((schema.properties ?? {}) as Json).filter(([k]) => keep(k))),
  });
  const first = EventSchema.options[0];
  if (first) {
    const common: [string, string, string][] = [];
    fields(
      part(eventJsonSchema(first), (k) => COMMON.has(k) && k !== "kind"),
      "",
      common,
    );
    lines.push("## Every event", "", "| field | type | meaning |", "| --- | --- | --- |");
    for (const [f, t, d] of common) lines.push(`| \`${f}\` | ${t} | ${d} |`);
    lines.push("");
  }
  for (const option of [...EventSchema.options].sort((a, b) => a.shape.kind.value.localeCompare(b.shape.kind.value))) {
    const own: [string, string, string][] = [];
    fields(
      part(eventJsonSchema(option), (k) => !COMMON.has(k)),
      "",
      own,
    );
    lines.push(`## \`${option.shape.kind.value}\``, "");
    if (own.length === 0) {
      lines.push("No part of its own.", "");
      continue;
    }
    lines.push("| field | type | meaning |", "| --- | --- | --- |");
    for (const [f, t, d] of own) lines.push(`| \`${f}\` | ${t} | ${d} |`);
    lines.push("");
  }
  const alert: [string, string, string][] = [];
  fields(
    part(eventJsonSchema(AlertSchema), (k) => k !== "events"),
    "",
    alert,
  );
  lines.push(
    "## `alert`",
    "",
    "Written on the same stream after the event that raised it, one per rule that matched. `events`",
    "holds the events that matched, each as it is written on its own.",
    "",
    "| field | type | meaning |",
    "| --- | --- | --- |",
  );
  for (const [f, t, d] of alert) lines.push(`| \`${f}\` | ${t} | ${d} |`);
  lines.push("");
  return lines.join("\n");
}
