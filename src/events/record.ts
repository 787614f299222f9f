import { fromJson } from "./json.js";
import { eventSchemaOf, toBigints } from "./samples.js";
import { EVENT_KINDS, type EventKind, EventSchema, type VigilEvent } from "./schema.js";

/**
 * Recorded events: the JSON lines `vigil run --record` writes (and `--output`, which adds
 * alerts). Each line is checked against the event schema; a line that is not an event is
 * reported with its number and skipped, never fatal, so one damaged line costs one event.
 */

export interface RecordedEvent {
  /** 1-based line number in the file. */
  line: number;
  event: VigilEvent;
}

export interface RecordedEvents {
  events: RecordedEvent[];
  bad: { line: number; message: string }[];
  /** Alert lines (a file written by --output has them): skipped, they are not events. */
  alerts: number;
}

export function readRecordedEvents(text: string): RecordedEvents {
  const out: RecordedEvents = { events: [], bad: [], alerts: 0 };
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = fromJson(raw);
    } catch (err) {
      out.bad.push({ line, message: `not JSON: ${(err as Error).message}` });
      return;
    }
    if ((value as { kind?: unknown } | null)?.kind === "alert") {
      out.alerts++;
      return;
    }
    const kind = (value as { kind?: unknown } | null)?.kind;
    const known = EVENT_KINDS.includes(kind as EventKind);
    // Recordings made before events carried containers: those events ran where none was known.
    if (known) {
      const event = value as Record<string, unknown>;
      if (!("container" in event)) event.container = null;
      if (!("k8s" in event)) event.k8s = null;
    }
    const parsed = EventSchema.safeParse(known ? toBigints(eventSchemaOf(kind as EventKind), value) : value);
    if (parsed.success) out.events.push({ line, event: parsed.data });
    else {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      out.bad.push({ line, message: `not an event: ${where}${issue?.message ?? "invalid"}` });
    }
  });
  return out;
}
