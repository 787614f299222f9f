import { z } from "zod";
import { fileEvents } from "./file.js";
import { kernelEvents } from "./kernel.js";
import { memEvents } from "./mem.js";
import { netEvents } from "./net.js";
import { procEvents } from "./proc.js";
import { processEvents } from "./process.js";

/**
 * The event model: the one source for the TypeScript types, the published JSON Schema and the
 * field names rules may use. Kinds evolve by adding only; a changed kind is a new kind. Each
 * domain's kinds live in a file of their own.
 */
export * from "./container.js";
export * from "./process.js";

export const EventSchema = z.discriminatedUnion("kind", [
  ...processEvents,
  ...fileEvents,
  ...netEvents,
  ...memEvents,
  ...procEvents,
  ...kernelEvents,
]);

export type VigilEvent = z.infer<typeof EventSchema>;
export type EventKind = VigilEvent["kind"];
export type EventOf<K extends EventKind> = Extract<VigilEvent, { kind: K }>;
export const EVENT_KINDS = EventSchema.options.map((o) => o.shape.kind.value);
