import type { Logger } from "../../log.js";

/** How often a sink that keeps dropping says so: the first drop at once, then at most this often. */
const DROP_LOG_INTERVAL_MS = 10_000;
const QUEUE_FULL = "queue full";

/**
 * What an alert sink holds for a receiver that is slow or away. Bounded so that a dead receiver
 * costs memory once and never stalls the pipeline; what does not fit is dropped, counted and
 * logged.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  dropped = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly capacity: number,
    private readonly what: { sink: string; logger: Logger },
  ) {
    if (!(capacity >= 1)) throw new Error(`queue capacity must be at least 1, not ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** Adds at the end; when full, drops the new item instead (counted) and returns false. */
  push(item: T): boolean {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return true;
    }
    this.drop(1, QUEUE_FULL);
    return false;
  }

  /** Puts back, at the front, what was taken and could not be sent yet. */
  unshift(item: T): void {
    this.items.unshift(item);
  }

  /** Takes up to n items from the front. */
  take(n: number): T[] {
    return this.items.splice(0, n);
  }

  /**
   * Counts n items as dropped and says so; a full queue says it at most once per interval while
   * it goes on, with the running total.
   */
  drop(n: number, reason: string): void {
    this.dropped += n;
    const now = Date.now();
    if (reason === QUEUE_FULL) {
      if (now - this.loggedAt < DROP_LOG_INTERVAL_MS) return;
      this.loggedAt = now;
    }
    this.what.logger.warn(
      { sink: this.what.sink, count: n, dropped: this.dropped, reason },
      "alert sink dropped alerts",
    );
  }
}

/**
 * Wakes a sink's sending loop: wait() resolves at notify() or after ms, whichever comes first.
 * The timer is not unref'd: a sink that is still delivering at stop keeps the process alive
 * until its own deadline.
 */
export class Wakeup {
  private resolve: (() => void) | undefined;

  wait(ms = Number.POSITIVE_INFINITY): Promise<void> {
    this.notify();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        if (this.resolve === wake) this.resolve = undefined;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(wake, Math.max(0, ms)) : undefined;
      this.resolve = wake;
    });
  }

  notify(): void {
    this.resolve?.();
  }
}

/** Exponential backoff: base, 2·base, 4·base, … up to max; reset() after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  next(): number {
    const ms = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt++;
    return ms;
  }

  reset(): void {
    this.attempt = 0;
  }
}
