import type { StreamRecord } from "../../events/serialize.js";

export { JsonLinesSink } from "./json-lines.js";
export { parseSyslogTarget, SyslogSink, type SyslogSinkOptions, type SyslogTarget } from "./syslog.js";
export { FACILITIES, type Facility } from "./syslog-format.js";
export { parseHeader, WebhookSink, type WebhookSinkOptions } from "./webhook.js";

/** Where events and alerts go. Writes are buffered; flush() is called once per kernel batch. */
export interface Sink {
  write(record: StreamRecord): void;
  flush(): void;
  /** Delivers what is still queued (alert sinks: within a deadline) and releases the sink. */
  close(): Promise<void>;
  readonly stats: SinkStats;
}

/**
 * What a sink did with what it was given. Every record a sink accepts ends up in exactly one of
 * written, dropped or failed, or is still queued: none is lost without being counted.
 */
export interface SinkStats {
  /** What the sink is: "stdout", a file, "syslog udp://…", "webhook https://…" (without credentials). */
  sink: string;
  /** Delivered: written to the file or stream, handed to the syslog socket, or acknowledged (2xx) by the webhook. */
  written: number;
  /** Dropped because the reader could not keep up (a full queue, stdout's backlog) or the sink stopped first. */
  dropped: number;
  /** Given up on: refused by the receiver (a webhook's 4xx), retries exhausted, a message too large to send. */
  failed: number;
  /** Waiting to be delivered, being sent or retried now. */
  queued: number;
}
