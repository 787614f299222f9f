import type { StreamRecord } from "../../events/serialize.js";

export { JsonLinesSink } from "./json-lines.js";
export { parseSyslogTarget, SyslogSink, type SyslogSinkOptions, type SyslogTarget } from "./syslog.js";
export { FACILITIES, type Facility } from "./syslog-format.js";

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
  sink: string;
  written: number;
  /** Dropped because the reader could not keep up (a full queue, stdout's backlog) or the sink stopped first. */
  dropped: number;
  failed: number;
  /** Waiting to be delivered, being sent or retried now. */
  queued: number;
}
