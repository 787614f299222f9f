import fastJson from "fast-json-stringify";
import { z } from "zod";
import type { Alert } from "./alert.js";
import { toJson } from "./json.js";
import { EventSchema, type VigilEvent } from "./schema.js";

/**
 * The event schema as JSON Schema. bigint (nanosecond times, cgroup ids, inodes) is an integer
 * on the wire, written exactly.
 */
export function eventJsonSchema(schema: z.ZodType = EventSchema): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io: "output",
    unrepresentable: "any",
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === "bigint") ctx.jsonSchema.type = "integer";
    },
  }) as Record<string, unknown>;
}

type Serializer = (event: VigilEvent) => string;
type Json = Record<string, unknown>;

/**
 * The schema as fast-json-stringify needs it: for a type list or an anyOf it picks the branch by
 * validating the value, and no validator takes a bigint for an integer, so a nullable bigint
 * fails there. Its own `nullable` keyword on the integer serialises both.
 */
function forSerializer(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forSerializer);
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Json;
  if (Array.isArray(obj.type) && obj.type.length === 2 && obj.type.includes("integer") && obj.type.includes("null")) {
    return { ...obj, type: "integer", nullable: true };
  }
  const branches = obj.anyOf as Json[] | undefined;
  if (branches?.length === 2) {
    const value = branches.find((b) => b.type !== "null");
    if (value?.type === "integer" && branches.some((b) => b.type === "null")) {
      const { anyOf: _anyOf, ...rest } = obj;
      return { ...rest, ...value, nullable: true };
    }
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, forSerializer(v)]));
}

/** A function writing values of a schema as JSON, bigints exact. */
export function compileSerializer<T>(schema: z.ZodType): (value: T) => string {
  return fastJson(forSerializer(eventJsonSchema(schema)) as Parameters<typeof fastJson>[0]) as (value: T) => string;
}

// One serializer compiled from the schema per kind: about twice as fast as a generic walk, and
// the event path serialises every event that reaches a JSON sink.
const serializers = new Map<string, Serializer>(
  EventSchema.options.map((option) => [option.shape.kind.value, compileSerializer<VigilEvent>(option)]),
);

/** One event as a JSON line (without the newline). */
export function eventToJson(event: VigilEvent): string {
  const serializer = serializers.get(event.kind);
  if (!serializer) throw new Error(`no serializer for event kind ${event.kind}`);
  return serializer(event);
}

/** What a sink is given: events, and the alerts raised on them. */
export type StreamRecord = VigilEvent | Alert;

/** An alert as a JSON line (without the newline); its events as each would be written alone. */
export function alertToJson(alert: Alert): string {
  const { events, ...head } = alert;
  return `${toJson(head).slice(0, -1)},"events":[${events.map(eventToJson).join(",")}]}`;
}

/** An event or an alert as a JSON line (without the newline). */
export function recordToJson(record: StreamRecord): string {
  return record.kind === "alert" ? alertToJson(record) : eventToJson(record);
}
