import { once } from "node:events";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { recordToJson, type StreamRecord } from "../../events/serialize.js";
import type { Sink, SinkStats } from "./index.js";

const CHUNK_CHARS = 64 << 10;

/** Bytes stdout may hold unread before lines are dropped (counted) instead of queued in memory. */
const STDOUT_BACKLOG = 64 << 20;

/**
 * One JSON object a line, to a file (appended, written synchronously once per batch so that a
 * slow disk backs up into the kernel ring, where loss is counted) or to stdout. Without alerts
 * it is a recording of the events alone, to replay policies over (`vigil policy test`).
 */
export class JsonLinesSink implements Sink {
  private written = 0;
  private dropped = 0;
  private pending = "";
  private pendingLines = 0;
  private readonly fd: number | undefined;

  private readonly alerts: boolean;
  private readonly name: string;

  constructor(path?: string, options: { alerts?: boolean } = {}) {
    this.fd = path ? openSync(path, "a", 0o600) : undefined;
    this.alerts = options.alerts ?? true;
    this.name = path ?? "stdout";
  }

  get stats(): SinkStats {
    return { sink: this.name, written: this.written, dropped: this.dropped, failed: 0, queued: this.pendingLines };
  }

  write(record: StreamRecord): void {
    if (!this.alerts && record.kind === "alert") return;
    this.pending += `${recordToJson(record)}\n`;
    this.pendingLines++;
    // Small chunks stay in V8's young generation and flatten cheaply; one string per batch did not.
    if (this.pending.length >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.pendingLines === 0) return;
    const chunk = this.pending;
    const lines = this.pendingLines;
    this.pending = "";
    this.pendingLines = 0;
    if (this.fd !== undefined) {
      writeSync(this.fd, chunk);
    } else if (process.stdout.writableLength > STDOUT_BACKLOG) {
      this.dropped += lines;
      return;
    } else {
      process.stdout.write(chunk);
    }
    this.written += lines;
  }

  async close(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) {
      try {
        fsyncSync(this.fd);
      } catch (err) {
        // Character devices and pipes (/dev/null, a FIFO) cannot be synced; there is nothing to lose.
        if ((err as NodeJS.ErrnoException).code !== "EINVAL") throw err;
      } finally {
        closeSync(this.fd);
      }
    } else if (process.stdout.writableLength > 0) {
      await once(process.stdout, "drain");
    }
  }
}
