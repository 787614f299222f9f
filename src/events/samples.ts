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
  element?: z.ZodType;
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
    case "record":
      return {};
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

/**
 * The defaults of `schema` with `parts` merged in: objects field by field, lists and values
 * replaced. An object given for a nullable one (a `container` that defaults to null) is
 * completed from that object's own defaults.
 */
function fill(schema: z.ZodType, parts: unknown): unknown {
  if (parts === undefined) return defaultOf(schema);
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case "nullable":
    case "optional":
      return parts === null ? null : fill(def.innerType as z.ZodType, parts);
    case "readonly":
      return fill(def.innerType as z.ZodType, parts);
    case "object": {
      if (parts === null || typeof parts !== "object" || Array.isArray(parts)) return parts;
      const given = parts as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(def.shape ?? {})) {
        const v = fill(child, given[k]);
        if (v !== undefined) out[k] = v;
      }
      for (const [k, v] of Object.entries(given)) if (!(k in out)) out[k] = v;
      return out;
    }
    default:
      return parts;
  }
}

const schemas = new Map(EventSchema.options.map((o) => [o.shape.kind.value as string, o as z.ZodType]));

/** The schema of one kind of event. */
export function eventSchemaOf(kind: EventKind): z.ZodType {
  const schema = schemas.get(kind);
  if (!schema) throw new Error(`no event kind ${kind}`);
  return schema;
}

/** An event of `kind` with `parts` set; throws when the result is not a valid event. */
export function sampleEvent<K extends EventKind>(kind: K, parts?: DeepPartial<EventOf<K>>): EventOf<K> {
  const schema = eventSchemaOf(kind);
  return schema.parse(fill(schema, parts)) as EventOf<K>;
}

/**
 * Completes an event written by hand (a rule's example, from JSON or YAML): the fields given
 * are merged into the defaults as sampleEvent does, integers where the schema has bigint
 * (times, cgroup ids, inodes) become bigint, and the result is validated against the kind.
 */
export function completeEvent<K extends EventKind>(kind: K, parts: unknown): z.ZodSafeParseResult<EventOf<K>> {
  const schema = eventSchemaOf(kind);
  return schema.safeParse(fill(schema, toBigints(schema, parts)), {
    reportInput: true,
  }) as z.ZodSafeParseResult<EventOf<K>>;
}

/**
 * `value` with its integers made bigint where `schema` has bigint: exact JSON (json.ts) gives
 * bigint only to integers a double cannot hold, and hand-written events give none.
 */
export function toBigints(schema: z.ZodType, value: unknown): unknown {
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case "nullable":
    case "optional":
    case "readonly":
      return toBigints(def.innerType as z.ZodType, value);
    case "bigint":
      return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
    case "array":
      return Array.isArray(value) ? value.map((v) => toBigints(def.element as z.ZodType, v)) : value;
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
      const shape = def.shape ?? {};
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape[k] ? toBigints(shape[k], v) : v]));
    }
    default:
      return value;
  }
}

/**
 * Fields of a hand-written event that its kind does not have (validation alone would drop
 * them silently): each with its path and the names that were possible there.
 */
export function unknownFields(kind: EventKind, parts: unknown): { path: (string | number)[]; known: string[] }[] {
  const out: { path: (string | number)[]; known: string[] }[] = [];
  const walk = (schema: z.ZodType, value: unknown, path: (string | number)[]) => {
    const def = schema._zod.def as unknown as Def;
    if (def.type === "nullable" || def.type === "optional" || def.type === "readonly") {
      walk(def.innerType as z.ZodType, value, path);
    } else if (def.type === "array" && Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(def.element as z.ZodType, v, [...path, i]);
      });
    } else if (def.type === "object" && value !== null && typeof value === "object" && !Array.isArray(value)) {
      const shape = def.shape ?? {};
      for (const [k, v] of Object.entries(value)) {
        const child = shape[k];
        if (child) walk(child, v, [...path, k]);
        else out.push({ path: [...path, k], known: Object.keys(shape) });
      }
    }
  };
  walk(eventSchemaOf(kind), parts, []);
  return out;
}
