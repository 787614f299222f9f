import type { StreamRecord } from "../../events/serialize.js";

export { JsonLinesSink } from "./json-lines.js";

/** Where events and alerts go. Writes are buffered; flush() is called once per kernel batch. */
export interface Sink {
  write(record: StreamRecord): void;
  flush(): void;
  close(): Promise<void>;
  readonly stats: SinkStats;
}

export interface SinkStats {
  written: number;
  /** Dropped because the reader could not keep up (stdout) or the write failed. */
  dropped: number;
}
