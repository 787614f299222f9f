import { once } from "node:events";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { toJson } from "../../events/json.js";
import type { VigilEvent } from "../../events/schema.js";
import type { Sink, SinkStats } from "./index.js";

/** Bytes stdout may hold unread before lines are dropped (counted) instead of queued in memory. */
const STDOUT_BACKLOG = 64 << 20;

/**
 * One JSON object a line, to a file (appended, written synchronously once per batch so that a
 * slow disk backs up into the kernel ring, where loss is counted) or to stdout.
 */
export class JsonLinesSink implements Sink {
  readonly stats: SinkStats = { written: 0, dropped: 0 };
  private pending: string[] = [];
  private readonly fd: number | undefined;

  constructor(path?: string) {
    this.fd = path ? openSync(path, "a", 0o600) : undefined;
  }

  write(event: VigilEvent): void {
    this.pending.push(toJson(event));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    const chunk = `${lines.join("\n")}\n`;
    if (this.fd !== undefined) {
      writeSync(this.fd, chunk);
    } else if (process.stdout.writableLength > STDOUT_BACKLOG) {
      this.stats.dropped += lines.length;
      return;
    } else {
      process.stdout.write(chunk);
    }
    this.stats.written += lines.length;
  }

  async close(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    } else if (process.stdout.writableLength > 0) {
      await once(process.stdout, "drain");
    }
  }
}
