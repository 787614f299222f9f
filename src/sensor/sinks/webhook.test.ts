import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, test } from "node:test";
import type { Alert } from "../../events/alert.js";
import { fromJson } from "../../events/json.js";
import { sampleEvent } from "../../events/samples.js";
import { alertToJson } from "../../events/serialize.js";
import { capturedLogger, sampleAlert, until } from "./sample-alert.js";
import { parseHeader, WebhookSink, type WebhookSinkOptions } from "./webhook.js";

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: { host: string; alerts: Alert[] };
}

/** A real HTTP receiver; `answer` decides each response (the nth request, from 0), or leaves it hanging. */
async function receiver(answer: (n: number, res: ServerResponse) => void = (_, res) => res.end()) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    req.on("end", () => {
      requests.push({ at: Date.now(), headers: req.headers, text, body: fromJson(text) as Received["body"] });
      answer(requests.length - 1, res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vigil`;
  return {
    url,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ids = (r: Received) => r.body.alerts.map((a) => a.message.match(/\((\d+)\)$/)?.[1]).join(",");
const counters = (sink: WebhookSink) => {
  const { sink: _, ...rest } = sink.stats;
  return rest;
};

describe("webhook sink", () => {
  let cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
  });
  async function setup(answer?: (n: number, res: ServerResponse) => void, options: Partial<WebhookSinkOptions> = {}) {
    const server = await receiver(answer);
    const { logger, lines } = capturedLogger();
    const sink = new WebhookSink({ url: server.url, logger, hostname: "node-1", backoffMs: 10, ...options });
    cleanup.push(() => sink.close(), server.close);
    return { server, sink, lines };
  }

  test("batches of at most maxBatch leave at once, a smaller one after maxDelay; events left out; alerts whole, in order", async () => {
    const { server, sink } = await setup(undefined, { maxBatch: 3, maxDelayMs: 1000 });
    const started = Date.now();
    sink.write(sampleEvent("process.exec"));
    for (let n = 1; n <= 6; n++) sink.write(sampleAlert(n));
    await until(() => server.requests.length === 2, "two requests");
    const [a, b] = server.requests;
    assert.ok(a && b);
    assert.deepEqual([ids(a), ids(b)], ["1,2,3", "4,5,6"]);
    // Well before the delay, however slow the first request of a process is.
    assert.ok(b.at - started < 700, `full batches leave at once (${b.at - started} ms)`);
    assert.equal(a.headers["content-type"], "application/json");
    // Each alert as the JSON-lines sink writes it: exact 64-bit times, its events with them.
    assert.equal(a.text, `{"host":"node-1","alerts":[${[1, 2, 3].map((n) => alertToJson(sampleAlert(n))).join(",")}]}`);

    const alone = Date.now();
    sink.write(sampleAlert(7));
    sink.write(sampleAlert(8));
    await until(() => server.requests.length === 3, "the third request");
    const c = server.requests[2];
    assert.equal(c && ids(c), "7,8");
    assert.ok(c && c.at - alone >= 980, `a batch that did not fill waited for the delay (${c && c.at - alone} ms)`);
    await until(() => sink.stats.queued === 0, "the last answer");
    assert.deepEqual(counters(sink), { written: 8, dropped: 0, failed: 0, queued: 0 });
    assert.equal(sink.stats.sink, `webhook ${server.url}`);
  });

  test("headers given are sent; the URL's credentials and query stay out of statistics", async () => {
    const server = await receiver();
    const { logger } = capturedLogger();
    const url = new URL(server.url);
    url.username = "user";
    url.password = "secret";
    url.search = "?token=secret";
    const sink = new WebhookSink({
      url: url.href,
      logger,
      headers: Object.fromEntries([parseHeader("Authorization: Bearer abc:def"), parseHeader("X-Vigil-Fleet:  prod ")]),
      maxDelayMs: 0,
    });
    // Credentials in the URL become Basic authentication when no Authorization header is given.
    const basic = new WebhookSink({ url: url.href, logger, maxDelayMs: 0 });
    cleanup.push(
      () => sink.close(),
      () => basic.close(),
      server.close,
    );
    sink.write(sampleAlert(1));
    await until(() => server.requests.length === 1, "a request");
    basic.write(sampleAlert(2));
    await until(() => server.requests.length === 2, "a second request");
    const [req, second] = server.requests;
    assert.equal(req?.headers.authorization, "Bearer abc:def");
    assert.equal(req?.headers["x-vigil-fleet"], "prod");
    assert.equal(second?.headers.authorization, `Basic ${Buffer.from("user:secret").toString("base64")}`);
    assert.equal(sink.stats.sink, `webhook ${server.url}`);
    assert.throws(() => parseHeader("no colon"), /'Name: value'/);
    assert.throws(() => parseHeader("bad name: x"), /'Name: value'/);
  });

  test("a 500 is retried with backoff until it succeeds", async () => {
    const { server, sink, lines } = await setup((n, res) => {
      res.statusCode = n < 2 ? 500 : 200;
      res.end(n < 2 ? "database down" : "");
    });
    sink.write(sampleAlert(1));
    sink.write(sampleAlert(2));
    await until(() => sink.stats.written === 2, "delivery");
    assert.equal(server.requests.length, 3);
    assert.deepEqual(server.requests.map(ids), ["1,2", "1,2", "1,2"]);
    // Backoff doubles: 10 ms, then 20 ms.
    const [r0, r1, r2] = server.requests.map((r) => r.at);
    assert.ok(r0 !== undefined && r1 !== undefined && r2 !== undefined);
    assert.ok(r1 - r0 >= 8 && r2 - r1 >= 18, `${r1 - r0} ms, ${r2 - r1} ms`);
    assert.deepEqual(counters(sink), { written: 2, dropped: 0, failed: 0, queued: 0 });
    const retries = lines().filter((l) => String(l.msg).startsWith("webhook failed, will retry: HTTP 500"));
    assert.equal(retries.length, 2);
    assert.equal(String(retries[0]?.msg), "webhook failed, will retry: HTTP 500: database down");
  });

  test("a 400 is not retried: counted as failed and logged with the answer", async () => {
    const { server, sink, lines } = await setup((_, res) => {
      res.statusCode = 400;
      res.end("bad alert");
    });
    sink.write(sampleAlert(1));
    await until(() => sink.stats.failed === 1, "the failure");
    await sleep(50);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(counters(sink), { written: 0, dropped: 0, failed: 1, queued: 0 });
    const logged = lines().find((l) => l.status === 400);
    assert.equal(logged?.msg, "webhook refused alerts, not retried: HTTP 400: bad alert");
    assert.equal(logged?.level, 50);
  });

  test("retries end after maxAttempts: the batch is counted as failed", async () => {
    const { server, sink, lines } = await setup(
      (_, res) => {
        res.statusCode = 503;
        res.end();
      },
      { maxAttempts: 3 },
    );
    sink.write(sampleAlert(1));
    await until(() => sink.stats.failed === 1, "giving up");
    assert.equal(server.requests.length, 3);
    assert.ok(lines().some((l) => l.msg === "webhook gave up: HTTP 503" && l.attempts === 3));
  });

  test("a receiver that is not there is retried like a 5xx", async () => {
    const { server, sink } = await setup(undefined, { maxAttempts: 2 });
    await server.close();
    sink.write(sampleAlert(1));
    await until(() => sink.stats.failed === 1, "giving up");
    assert.deepEqual(counters(sink), { written: 0, dropped: 0, failed: 1, queued: 0 });
  });

  test("stop sends what is queued at once, without waiting for the batch delay", async () => {
    const { server, sink } = await setup(undefined, { maxDelayMs: 60_000 });
    sink.write(sampleAlert(1));
    sink.write(sampleAlert(2));
    await sleep(50);
    assert.equal(server.requests.length, 0, "the batch is still waiting");
    const started = Date.now();
    await sink.close();
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(server.requests.map(ids), ["1,2"]);
    assert.deepEqual(counters(sink), { written: 2, dropped: 0, failed: 0, queued: 0 });
  });

  test("stop has a deadline: what the receiver did not take by then is dropped, counted and logged", async () => {
    // The receiver never answers.
    const { server, sink, lines } = await setup(() => undefined, { maxBatch: 2, closeDeadlineMs: 200 });
    for (let n = 1; n <= 3; n++) sink.write(sampleAlert(n));
    await until(() => server.requests.length === 1, "the first request");
    const started = Date.now();
    await sink.close();
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 1500, `${took} ms`);
    assert.deepEqual(counters(sink), { written: 0, dropped: 3, failed: 0, queued: 0 });
    const logged = lines().filter((l) => l.msg === "alert sink dropped alerts");
    assert.equal(
      logged.reduce((n, l) => n + Number(l.count), 0),
      3,
    );
  });

  test("the queue is bounded: overflow is dropped and counted, writing never waits", async () => {
    const { sink, lines } = await setup(undefined, { queueSize: 2, maxBatch: 10, maxDelayMs: 60_000 });
    const started = Date.now();
    for (let n = 1; n <= 5; n++) sink.write(sampleAlert(n));
    assert.ok(Date.now() - started < 50);
    assert.deepEqual(counters(sink), { written: 0, dropped: 3, failed: 0, queued: 2 });
    // One warning for the overflow, with the running total, not one per alert.
    assert.equal(lines().filter((l) => l.reason === "queue full").length, 1);
    await sink.close();
    assert.deepEqual(counters(sink), { written: 2, dropped: 3, failed: 0, queued: 0 });
  });

  test("only http and https", () => {
    const { logger } = capturedLogger();
    assert.throws(() => new WebhookSink({ url: "ftp://x/", logger }), /http:\/\/ or https:\/\//);
  });
});
