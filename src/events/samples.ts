import type { z } from "zod";
import { type EventKind, type EventOf, EventSchema } from "./schema.js";

/**
 * Events made to order for tests and benchmarks: every field at a plain default read from the
 * schema (empty string, 0, false, null, the first enum value; optional fields left out), then
 * the fields given, and the
 * result checked against the schema, so a sample is always an event the sensor could emit.
 */

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

type Def = {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  values?: unknown[];
  entries?: Record<string, unknown>;
};

function defaultOf(schema: z.ZodType): unknown {
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case "nullable":
      return null;
    case "optional":
      return undefined;
    case "readonly":
      return defaultOf(def.innerType as z.ZodType);
    case "string":
      return "";
    case "number":
      return 0;
    case "bigint":
      return 0n;
    case "boolean":
      return false;
    case "array":
      return [];
    case "literal":
      return def.values?.[0];
    case "enum":
      return Object.values(def.entries ?? {})[0];
    case "object":
      return Object.fromEntries(
        Object.entries(def.shape ?? {})
          .map(([k, v]) => [k, defaultOf(v)])
          .filter(([, v]) => v !== undefined),
      );
    default:
      return undefined;
  }
}

function merge(base: unknown, parts: unknown): unknown {
  if (parts === undefined) return base;
  if (
    parts === null ||
    typeof parts !== "object" ||
    Array.isArray(parts) ||
    base === null ||
    typeof base !== "object" ||
    Array.isArray(base)
  ) {
    return parts;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(parts)) out[k] = merge(out[k], v);
  return out;
}

const schemas = new Map(EventSchema.options.map((o) => [o.shape.kind.value as string, o as z.ZodType]));

/** An event of `kind` with `parts` set; throws when the result is not a valid event. */
export function sampleEvent<K extends EventKind>(kind: K, parts?: DeepPartial<EventOf<K>>): EventOf<K> {
  const schema = schemas.get(kind);
  if (!schema) throw new Error(`no event kind ${kind}`);
  return schema.parse(merge(defaultOf(schema), parts)) as EventOf<K>;
}
