import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fromJson } from "../../events/json.js";
import { sampleEvent } from "../../events/samples.js";
import { alertToJson } from "../../events/serialize.js";
import { capturedLogger, sampleAlert, until } from "./sample-alert.js";
import { parseSyslogTarget, SyslogSink } from "./syslog.js";
import { formatSyslog, syslogTime } from "./syslog-format.js";

const header = { facility: "authpriv", hostname: "node-1", procId: 4242 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RFC 5424 format", () => {
  test("an alert: PRI from facility and severity, time in microseconds, MSGID the rule, SD, then the alert's JSON", () => {
    const alert = sampleAlert(1);
    const text = formatSyslog(alert, header);
    // authpriv (10) * 8 + err (3, for high)
    assert.equal(
      text,
      '<83>1 2025-11-24T16:00:00.123456Z node-1 vigil 4242 read-shadow [vigil@32473 rule="read-shadow" ' +
        'policy="sensitive-files" severity="high" action="deny" outcome="would_deny" tags="attack.T1003.008" ' +
        `message="/usr/bin/cat opened /etc/shadow (1)"] ${alertToJson(alert)}`,
    );
    // The body is the alert, whole: a collector that decodes JSON gets the events too.
    const body = fromJson(text.slice(text.indexOf("] ") + 2)) as typeof alert;
    assert.equal(body.time, alert.time);
    assert.equal(body.events[0]?.kind, "file.open");
  });

  test("severities map to syslog's, and the facility is the one asked for", () => {
    const pri = (severity: "info" | "low" | "medium" | "high" | "critical", facility: "local0" | "authpriv") =>
      formatSyslog(sampleAlert(1, { severity }), { ...header, facility }).match(/^<(\d+)>1 /)?.[1];
    assert.equal(pri("critical", "local0"), String(16 * 8 + 2));
    assert.equal(pri("high", "local0"), String(16 * 8 + 3));
    assert.equal(pri("medium", "authpriv"), String(10 * 8 + 4));
    assert.equal(pri("low", "authpriv"), String(10 * 8 + 5));
    assert.equal(pri("info", "authpriv"), String(10 * 8 + 6));
  });

  test("SD values escape '\"', '\\' and ']'; MSGID is 32 printable characters at most", () => {
    const alert = { ...sampleAlert(1, { id: "a rule id that is much longer than thirty-two" }), message: 'x"y\\z]w' };
    const text = formatSyslog(alert, header);
    assert.match(text, / vigil 4242 a_rule_id_that_is_much_longer_th \[/);
    assert.ok(text.includes(' rule="a rule id that is much longer than thirty-two" '), text);
    assert.ok(text.includes(' message="x\\"y\\\\z\\]w"]'), text);
  });

  test("times keep their microseconds and pad them", () => {
    assert.equal(syslogTime(1_764_000_000_000_001_999n), "2025-11-24T16:00:00.000001Z");
  });

  test("addresses", () => {
    assert.deepEqual(parseSyslogTarget("unix:/dev/log"), { transport: "unix", path: "/dev/log" });
    assert.deepEqual(parseSyslogTarget("udp://10.0.0.1:5514"), { transport: "udp", host: "10.0.0.1", port: 5514 });
    assert.deepEqual(parseSyslogTarget("tcp://[::1]"), { transport: "tcp", host: "::1", port: 514 });
    assert.throws(() => parseSyslogTarget("http://x:1"), /unix:, udp:\/\/ or tcp:\/\//);
    assert.throws(() => parseSyslogTarget("unix:dev/log"), /absolute path/);
    assert.throws(() => parseSyslogTarget("10.0.0.1:514"), /not a syslog address/);
  });
});

describe("syslog sink", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-syslog-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("UDP: one datagram an alert, events left out", async () => {
    const server = createSocket("udp4");
    const got: string[] = [];
    server.on("message", (m) => got.push(m.toString("utf8")));
    server.bind(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address();
    const { logger } = capturedLogger();
    const sink = new SyslogSink({ target: { transport: "udp", host: "127.0.0.1", port }, logger, hostname: "node-1" });
    const alerts = [sampleAlert(1), sampleAlert(2)];
    sink.write(sampleEvent("process.exec"));
    for (const a of alerts) sink.write(a);
    await until(() => got.length === 2, "two datagrams");
    await sink.close();
    server.close();
    const expected = alerts.map((a) => formatSyslog(a, { ...header, procId: process.pid }));
    assert.deepEqual(got, expected);
    assert.deepEqual(sink.stats, {
      sink: `syslog udp://127.0.0.1:${port}`,
      written: 2,
      dropped: 0,
      failed: 0,
      queued: 0,
    });
  });

  test("Unix datagram socket: waits for the daemon's socket to appear, then delivers", async () => {
    const path = join(dir, "log");
    const unixDgram = createRequire(import.meta.url)("unix-dgram") as {
      createSocket(type: "unix_dgram", listener: (m: Buffer) => void): { bind(p: string): void; close(): void };
    };
    const { logger, lines } = capturedLogger();
    const sink = new SyslogSink({ target: { transport: "unix", path }, logger, hostname: "node-1", backoffMs: 20 });
    sink.write(sampleAlert(1));
    await until(() => lines().some((l) => l.msg === "syslog collector unreachable; retrying"), "a warning");
    assert.equal(sink.stats.queued, 1);
    const got: string[] = [];
    const server = unixDgram.createSocket("unix_dgram", (m) => got.push(m.toString("utf8")));
    server.bind(path);
    await until(() => got.length === 1, "a datagram");
    sink.write(sampleAlert(2, { severity: "critical" }));
    await until(() => got.length === 2, "a second datagram");
    await sink.close();
    server.close();
    assert.equal(got[0], formatSyslog(sampleAlert(1), { ...header, procId: process.pid }));
    assert.match(got[1] ?? "", /^<82>1 /);
    assert.ok(lines().some((l) => l.msg === "syslog collector reachable again"));
    assert.deepEqual({ ...sink.stats, sink: "" }, { sink: "", written: 2, dropped: 0, failed: 0, queued: 0 });
  });

  test("TCP: octet-counted frames; a lost connection is reconnected and nothing is lost", async () => {
    const frames: string[] = [];
    const connections: Socket[] = [];
    const server = createServer((socket) => {
      connections.push(socket);
      let buffered = Buffer.alloc(0);
      socket.on("data", (data) => {
        buffered = Buffer.concat([buffered, data]);
        // RFC 6587 octet counting: "LENGTH SP MESSAGE", LENGTH in bytes.
        for (;;) {
          const space = buffered.indexOf(0x20);
          if (space < 0) break;
          const length = Number(buffered.subarray(0, space).toString());
          assert.ok(Number.isInteger(length) && length > 0, "a frame starts with its length");
          if (buffered.length < space + 1 + length) break;
          frames.push(buffered.subarray(space + 1, space + 1 + length).toString("utf8"));
          buffered = buffered.subarray(space + 1 + length);
        }
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const { logger, lines } = capturedLogger();
    const sink = new SyslogSink({
      target: { transport: "tcp", host: "127.0.0.1", port },
      logger,
      hostname: "node-1",
      backoffMs: 20,
    });
    // A message with multi-byte characters: the length counts bytes, not characters.
    const first = { ...sampleAlert(1), message: "überwacht → /etc/shadow" };
    sink.write(first);
    sink.write(sampleAlert(2));
    await until(() => frames.length === 2, "two frames");
    for (const c of connections) c.destroy();
    await sleep(50);
    sink.write(sampleAlert(3));
    sink.write(sampleAlert(4));
    await until(() => frames.length >= 4, "frames after reconnecting");
    await sink.close();
    server.close();
    const expected = [first, sampleAlert(2), sampleAlert(3), sampleAlert(4)].map((a) =>
      formatSyslog(a, { ...header, procId: process.pid }),
    );
    assert.deepEqual(frames, expected);
    assert.equal(connections.length, 2, "one reconnection");
    assert.ok(lines().some((l) => l.msg === "lost the syslog collector; reconnecting"));
    assert.equal(sink.stats.written, 4);
  });

  test("a collector that is away: the queue is bounded, overflow and what is left at stop are dropped and counted", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const { logger, lines } = capturedLogger();
    const sink = new SyslogSink({
      target: { transport: "tcp", host: "127.0.0.1", port },
      logger,
      queueSize: 3,
      closeDeadlineMs: 100,
      backoffMs: 10,
    });
    const started = Date.now();
    for (let n = 1; n <= 5; n++) sink.write(sampleAlert(n));
    assert.ok(Date.now() - started < 50, "writing never waits for the collector");
    assert.deepEqual({ ...sink.stats, sink: "" }, { sink: "", written: 0, dropped: 2, failed: 0, queued: 3 });
    assert.ok(lines().some((l) => l.msg === "alert sink dropped alerts" && l.reason === "queue full"));
    await sink.close();
    assert.deepEqual({ ...sink.stats, sink: "" }, { sink: "", written: 0, dropped: 5, failed: 0, queued: 0 });
    const atStop = lines().find((l) => l.msg === "alert sink dropped alerts" && l.reason !== "queue full");
    assert.equal(atStop?.count, 3);
  });
});
