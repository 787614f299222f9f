import type { EventBase, VigilEvent } from "../../events/schema.js";
import type { KernelRecord } from "../kernel/decode.js";

/** Sends one event on; a record may make more than one (an exec of a memfd is two). */
export type Emit = (event: VigilEvent) => void;

/** For each op of a domain, how its record and the common part become events. */
export type Builders<R extends KernelRecord> = {
  [K in R["op"]]: (record: Extract<R, { op: K }>, base: EventBase, emit: Emit) => void;
};
