import type { Alert } from "../../events/alert.js";
import type { StreamRecord } from "../../events/serialize.js";
import type { Logger } from "../../log.js";
import type { Sink, SinkStats } from "./index.js";
import { BoundedQueue, Wakeup } from "./queue.js";

/**
 * What the syslog and webhook sinks share: they take alerts only, queue them (bounded) and send
 * them from a loop of their own, so that write() never waits for a receiver; close() lets the
 * loop deliver what is queued until a deadline, then stops it and counts the rest as dropped.
 */
export abstract class QueuedAlertSink<T> implements Sink {
  protected readonly queue: BoundedQueue<T>;
  /** Wakes the loop when there is something to send or the sink is closing. */
  protected readonly wakeup = new Wakeup();
  /** Cuts the loop's waits short (a retry, a reconnection) when close() gives up. */
  protected readonly interrupt = new Wakeup();
  protected written = 0;
  protected failed = 0;
  /** Items taken from the queue and not yet written or failed. */
  protected sending = 0;
  protected closing = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    protected readonly name: string,
    protected readonly logger: Logger,
    queueSize: number,
    private readonly closeDeadlineMs: number,
  ) {
    this.queue = new BoundedQueue(queueSize, { sink: name, logger });
  }

  /** Starts the loop; called by the subclass once its own fields are set. */
  protected start(): void {
    this.loop = this.run().catch((err) => this.logger.error({ err, sink: this.name }, "alert sink stopped"));
  }

  /** Sends until the queue is empty while closing, or until giveUp(). */
  protected abstract run(): Promise<void>;

  /** Queues one alert, in the form the receiver takes. */
  protected abstract accept(alert: Alert): void;

  /** Called at the deadline: abort what is in flight so that run() returns soon. */
  protected abstract giveUp(): void;

  get stats(): SinkStats {
    return {
      sink: this.name,
      written: this.written,
      dropped: this.queue.dropped,
      failed: this.failed,
      queued: this.queue.length + this.sending,
    };
  }

  write(record: StreamRecord): void {
    if (record.kind === "alert" && !this.closing) this.accept(record);
  }

  flush(): void {}

  async close(): Promise<void> {
    this.closing = true;
    this.wakeup.notify();
    const deadline = new Wakeup();
    await Promise.race([this.loop, deadline.wait(this.closeDeadlineMs)]);
    deadline.notify();
    this.giveUp();
    this.interrupt.notify();
    await this.loop;
    const left = this.queue.take(this.queue.length).length;
    if (left > 0) this.queue.drop(left, "the sensor stopped before the receiver took them");
  }
}
