import { hostname } from "node:os";
import type { Alert } from "../../events/alert.js";
import { alertToJson } from "../../events/serialize.js";
import type { Logger } from "../../log.js";
import { QueuedAlertSink } from "./alert-sink.js";
import { Backoff } from "./queue.js";

export interface WebhookSinkOptions {
  url: string;
  logger: Logger;
  /** Sent with every request, e.g. Authorization. */
  headers?: Record<string, string>;
  /** Alerts in one request at most. */
  maxBatch?: number;
  /** How long the first alert of a batch waits for others. */
  maxDelayMs?: number;
  /** Alerts held while the receiver is slow or away; more are dropped and counted. */
  queueSize?: number;
  /** Tries of one batch, the first included, before it is counted as failed. */
  maxAttempts?: number;
  /** Wait before the first retry; doubled for each one after, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** One request's limit. */
  timeoutMs?: number;
  /** How long close() goes on delivering what is queued. */
  closeDeadlineMs?: number;
  hostname?: string;
}

/** `Name: value`, as curl's -H takes it. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = text.slice(0, colon).trim();
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new Error(`a header is 'Name: value', not ${JSON.stringify(text)}`);
  }
  return [name, text.slice(colon + 1).trim()];
}

/** The URL without what may be a secret (user and password, query, fragment), for logs and statistics. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Statuses worth another try: server errors, and the two 4xx that mean "later" (timeout, too
 * many requests). Any other 4xx would be refused again; a 3xx is not followed, since a
 * redirected POST turns into a GET.
 */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Retry-After in seconds (the HTTP-date form is not used by the receivers we expect). */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  return value && /^\d+$/.test(value) ? Number(value) * 1000 : undefined;
}

/**
 * Alerts (not events) POSTed as JSON to a URL, in batches:
 *
 *   {"host":"node-1","alerts":[{"kind":"alert",…}, …]}
 *
 * each alert exactly as the JSON-lines sink writes it. A batch leaves when it holds maxBatch
 * alerts or its first alert has waited maxDelayMs. One request is in flight at a time, so the
 * receiver sees alerts in order. 5xx, 408, 429 and network errors are retried with exponential
 * backoff; other answers are logged and the batch counted as failed. Nothing blocks the
 * pipeline: the queue is bounded, and what overflows is counted and logged.
 */
export class WebhookSink extends QueuedAlertSink<Alert> {
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  /** Aborts the request in flight when close() gives up. */
  private readonly abandon = new AbortController();
  private readonly maxBatch: number;
  /** When the oldest queued alert arrived. */
  private oldestAt = 0;

  constructor(private readonly options: WebhookSinkOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`a webhook is an http:// or https:// URL, not ${options.url}`);
    }
    super(`webhook ${shown(url)}`, options.logger, options.queueSize ?? 10_000, options.closeDeadlineMs ?? 5000);
    this.url = url;
    // fetch refuses a URL with credentials; they become Basic authentication, as with curl.
    this.headers = { ...options.headers, "content-type": "application/json" };
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      const given = Object.keys(this.headers).some((h) => h.toLowerCase() === "authorization");
      if (!given) this.headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    this.maxBatch = options.maxBatch ?? 100;
    this.start();
  }

  protected accept(alert: Alert): void {
    if (this.queue.length === 0) this.oldestAt = Date.now();
    if (!this.queue.push(alert)) return;
    if (this.queue.length === 1 || this.queue.length >= this.maxBatch) this.wakeup.notify();
  }

  protected giveUp(): void {
    this.abandon.abort(new Error("the sensor stopped"));
  }

  protected async run(): Promise<void> {
    const maxDelayMs = this.options.maxDelayMs ?? 1000;
    for (;;) {
      if (this.queue.length === 0) {
        if (this.closing) return;
        await this.wakeup.wait();
        continue;
      }
      // Closing sends at once what is there; otherwise a batch waits to fill, up to maxDelayMs.
      const waited = Date.now() - this.oldestAt;
      if (!this.closing && this.queue.length < this.maxBatch && waited < maxDelayMs) {
        await this.wakeup.wait(maxDelayMs - waited);
        continue;
      }
      const batch = this.queue.take(this.maxBatch);
      // What stays has waited at least as long as this batch: it goes right after.
      this.oldestAt = 0;
      this.sending = batch.length;
      try {
        await this.deliver(batch);
      } finally {
        this.sending = 0;
      }
    }
  }

  /** Sends one batch, retrying what may succeed later; counts it as written, failed or dropped. */
  private async deliver(batch: Alert[]): Promise<void> {
    const { logger } = this;
    const body = `{"host":${JSON.stringify(this.options.hostname ?? hostname())},"alerts":[${batch.map(alertToJson).join(",")}]}`;
    const maxAttempts = this.options.maxAttempts ?? 6;
    const backoff = new Backoff(this.options.backoffMs ?? 500, this.options.maxBackoffMs ?? 30_000);
    const log = { sink: this.name, alerts: batch.length };
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      let waitMs: number | undefined;
      if (this.abandon.signal.aborted) {
        this.queue.drop(batch.length, "the sensor stopped before the webhook took them");
        return;
      }
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: this.headers,
          body,
          redirect: "manual",
          signal: AbortSignal.any([this.abandon.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
        });
        const text = await response.text().catch(() => "");
        if (response.ok) {
          this.written += batch.length;
          if (attempt > 1) logger.info({ ...log, attempt }, "webhook delivered after retries");
          return;
        }
        problem = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
        if (!retryable(response.status)) {
          this.failed += batch.length;
          logger.error({ ...log, status: response.status }, `webhook refused alerts, not retried: ${problem}`);
          return;
        }
        waitMs = retryAfterMs(response);
      } catch (err) {
        if (this.abandon.signal.aborted) continue;
        problem = (err as Error).cause ? String((err as Error).cause) : (err as Error).message;
      }
      if (attempt >= maxAttempts) {
        this.failed += batch.length;
        logger.error({ ...log, attempts: attempt }, `webhook gave up: ${problem}`);
        return;
      }
      const delay = Math.min(waitMs ?? backoff.next(), this.options.maxBackoffMs ?? 30_000);
      logger.warn({ ...log, attempt, retryInMs: delay }, `webhook failed, will retry: ${problem}`);
      await this.interrupt.wait(delay);
    }
  }
}
