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
 * fails there. Its own `nullable` keyword on the integer serialises both. A nullable object (an
 * event's container) is written the same way: as an anyOf it would be validated per event to
 * pick the branch, which doubled the cost of writing an event in a container.
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
    if ((value?.type === "integer" || value?.type === "object") && branches.some((b) => b.type === "null")) {
      const { anyOf: _anyOf, ...rest } = obj;
      return forSerializer({ ...rest, ...value, nullable: true });
    }
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, forSerializer(v)]));
}

/** A function writing values of a schema as JSON, bigints exact. */
export function compileSerializer<T>(schema: z.ZodType): (value: T) => string {
  return fastJson(forSerializer(eventJsonSchema(schema)) as Parameters<typeof fastJson>[0]) as (value: T) => string;
}

// Serializers compiled from the schema per kind: about twice as fast as a generic walk, and the
// event path serialises every event that reaches a JSON sink. Each kind has two: the whole event
// (a host's, with a null container), and the event less its container and pod, which are the
// same few objects on many events and are written once each by `fragment`. Compiled on a kind's
// first event: all of them at once hold about 20 MB, and a host sees a few kinds.
const schemas = new Map<string, z.ZodObject>(
  EventSchema.options.map((option) => [option.shape.kind.value, option as z.ZodObject]),
);
const serializers = new Map<string, { whole: Serializer; rest: Serializer }>();

function serializerOf(kind: string): { whole: Serializer; rest: Serializer } | undefined {
  let serializer = serializers.get(kind);
  if (serializer) return serializer;
  const schema = schemas.get(kind);
  if (!schema) return undefined;
  serializer = {
    whole: compileSerializer<VigilEvent>(schema),
    rest: compileSerializer<VigilEvent>(schema.omit({ container: true, k8s: true })),
  };
  serializers.set(kind, serializer);
  return serializer;
}

/**
 * The JSON of an event's container or pod, written once per object: the container table hands
 * out frozen objects and replaces them when it learns more, so one text serves every event of a
 * container (written each time, they cost a busy container's events 0.4 µs each).
 */
const fragments = new WeakMap<object, string>();
function fragment(value: object | null): string {
  if (value === null) return "null";
  let text = fragments.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (Object.isFrozen(value)) fragments.set(value, text);
  }
  return text;
}

/** One event as a JSON line (without the newline); in a container, its container and pod come last. */
export function eventToJson(event: VigilEvent): string {
  const serializer = serializerOf(event.kind);
  if (!serializer) throw new Error(`no serializer for event kind ${event.kind}`);
  if (event.container === null && event.k8s === null) return serializer.whole(event);
  // Slicing the serializer's string flattens it (about 150 ns), still far less than writing the container.
  const body = serializer.rest(event);
  return `${body.slice(0, -1)},"container":${fragment(event.container)},"k8s":${fragment(event.k8s)}}`;
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
