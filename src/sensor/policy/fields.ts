import type { z } from "zod";
import { EVENT_KINDS, EventSchema, type VigilEvent } from "../../events/schema.js";

/**
 * What rules may name in an event, read from the zod event schemas so that a field added to
 * an event is usable in rules, checked and documented without a list kept by hand.
 */

/** A CEL type as the policy checker sees it. `nullable` marks a value that may be null. */
export type ValueType = (
  | { type: "string" | "int" | "uint" | "double" | "bool" | "bytes" | "null" | "dyn" | "type" }
  | { type: "list"; element: ValueType }
  | { type: "map"; key: ValueType; value: ValueType }
  | { type: "object"; name: string; fields: ReadonlyMap<string, ValueType> }
) & { nullable?: boolean };

export const DYN: ValueType = { type: "dyn" };

/** The type's name as messages show it: `string`, `list(string)`, `process`, `int or null`. */
export function typeName(t: ValueType): string {
  let name: string;
  switch (t.type) {
    case "list":
      name = `list(${typeName(t.element)})`;
      break;
    case "map":
      name = `map(${typeName(t.key)}, ${typeName(t.value)})`;
      break;
    case "object":
      name = t.name;
      break;
    default:
      name = t.type;
  }
  return t.nullable ? `${name} or null` : name;
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
};
const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;

/** The CEL type of a zod schema; integers are CEL int (64-bit), as the bindings deliver them. */
function valueType(schema: z.ZodType, name: string): ValueType {
  const def = defOf(schema);
  switch (def.type) {
    case "nullable":
    case "optional":
      return { ...valueType(def.innerType as z.ZodType, name), nullable: true };
    case "readonly":
      return valueType(def.innerType as z.ZodType, name);
    case "string":
    case "enum":
    case "literal":
      return { type: "string" };
    case "boolean":
      return { type: "bool" };
    case "bigint":
      return { type: "int" };
    case "number":
      return { type: (schema as z.ZodNumber).isInt ? "int" : "double" };
    case "array":
      return { type: "list", element: valueType(def.element as z.ZodType, name) };
    case "record":
      // Labels: `container.labels['app'] == 'web'`, `'app' in k8s.labels`.
      return {
        type: "map",
        key: valueType(def.keyType as z.ZodType, name),
        value: valueType(def.valueType as z.ZodType, name),
      };
    case "object": {
      const fields = new Map<string, ValueType>();
      for (const [key, child] of Object.entries(def.shape ?? {})) fields.set(key, valueType(child, `${name}.${key}`));
      return { type: "object", name, fields };
    }
    default:
      return DYN;
  }
}

/** Each event kind's own type: `kind`, `time`, `process`, and its part (`file`, `net`, ...). */
export const EVENT_TYPES: ReadonlyMap<string, ValueType & { type: "object" }> = new Map(
  EventSchema.options.map((option) => {
    const fields = new Map<string, ValueType>();
    for (const [key, child] of Object.entries(option.shape)) fields.set(key, valueType(child as z.ZodType, key));
    return [option.shape.kind.value, { type: "object", name: option.shape.kind.value, fields }] as const;
  }),
);

export const isEventKind = (kind: string): boolean => EVENT_TYPES.has(kind);
export { EVENT_KINDS };

/** Every dotted path of a kind (`process`, `process.exe`, `file.path`, ...) with its type. */
export function fieldPaths(kind: string): Map<string, ValueType> {
  const out = new Map<string, ValueType>();
  const walk = (t: ValueType, prefix: string) => {
    if (t.type !== "object") return;
    for (const [key, child] of t.fields) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.set(path, child);
      walk(child, path);
    }
  };
  const type = EVENT_TYPES.get(kind);
  if (type) walk(type, "");
  return out;
}

/** Edit distance, for did-you-mean; small strings only. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The candidate nearest to `name`, when it is near enough to be what was meant. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** " (did you mean 'x'?)" or "". */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = closest(name, candidates);
  return near === undefined ? "" : `; did you mean '${near}'?`;
}

/** Reads a dotted path of an event as it is on the wire (no CEL conversion). */
export function readPath(event: VigilEvent, path: readonly string[]): unknown {
  let value: unknown = event;
  for (const key of path) {
    if (value === null || typeof value !== "object") return null;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
