import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query } from "../../src/cli/client.js";
import { fromJson } from "../../src/events/json.js";
import type { SensorStatistics } from "../../src/sensor/sensor.js";
import { policyFile, progs, type RunningSensor, requireKernel, startSensor, vigil, type WireEvent } from "./harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("alert sinks in the running sensor", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let exe: string;
  const datagrams: string[] = [];
  const posts: { headers: IncomingHttpHeaders; body: { host: string; alerts: WireEvent[] } }[] = [];
  const udp = createSocket("udp4");
  const http = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    req.on("end", () => {
      posts.push({ headers: req.headers, body: fromJson(text) as (typeof posts)[number]["body"] });
      res.end();
    });
  });

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-sinks-")));
    const policies = join(work, "policies");
    mkdirSync(policies);
    mkdirSync(join(work, "files"));
    exe = realpathSync(join(progs, "file-open"));
    policyFile(policies, "work-files", {
      id: "tester-creates",
      on: "file.open",
      when: `file.path == '${work}/files/a' && file.create && process.exe == '${exe}'`,
      action: "alert",
      severity: "critical",
      tags: ["test"],
      message: "{{process.comm}} created {{file.path}}",
    });
    udp.on("message", (m) => datagrams.push(m.toString("utf8")));
    udp.bind(0, "127.0.0.1");
    await once(udp, "listening");
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const interest = join(work, "interest.json");
    const paths = { [`${work}/files/`]: "any" };
    writeFileSync(interest, JSON.stringify({ kinds: { "file.open": { enabled: true, pathDefault: "none", paths } } }));
    sensor = await startSensor([
      "--interest",
      interest,
      "--policies",
      policies,
      "--syslog",
      `udp://127.0.0.1:${udp.address().port}`,
      "--syslog-facility",
      "local3",
      "--webhook",
      `http://127.0.0.1:${(http.address() as AddressInfo).port}/alerts`,
      "--webhook-header",
      "Authorization: Bearer e2e",
    ]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    udp.close();
    http.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("an alert from a tester's open reaches syslog and the webhook; get-statistics counts both", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    const out = JSON.parse(execFileSync(exe, [join(work, "files")], { encoding: "utf8" })) as { pid: number };
    const alert = await s.waitFor(
      (e) => e.kind === "alert" && (e.events as WireEvent[])[0]?.process.pid === out.pid,
      "alert on the stream",
    );
    // The webhook waits up to a second to fill a batch.
    const until = Date.now() + 10_000;
    while ((datagrams.length === 0 || posts.length === 0) && Date.now() < until) await sleep(50);

    assert.equal(datagrams.length, 1, "one syslog message: the alert, not the events");
    const message = datagrams[0] ?? "";
    const host = hostname();
    // local3 (19) * 8 + crit (2)
    const head = `<154>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z ${host} vigil ${s.proc.pid} tester-creates `;
    const sd =
      '\\[vigil@32473 rule="tester-creates" policy="work-files" severity="critical" action="alert" ' +
      `outcome="alerted" tags="test" message="file-open created ${work}/files/a"\\] `;
    assert.match(message, new RegExp(`^${head}${sd}\\{`));
    // The body is the alert as the stream has it.
    assert.deepEqual(fromJson(message.slice(message.indexOf("] {") + 2)), alert);

    assert.equal(posts.length, 1);
    const [post] = posts;
    assert.equal(post?.headers.authorization, "Bearer e2e");
    assert.equal(post?.headers["content-type"], "application/json");
    assert.equal(post?.body.host, host);
    assert.deepEqual(post?.body.alerts, [alert]);

    const stats = (await query(s.socket, "statistics")) as SensorStatistics;
    const bySink = Object.fromEntries(stats.sinks.map(({ sink, ...counts }) => [sink, counts]));
    const none = { dropped: 0, failed: 0, queued: 0 };
    assert.deepEqual(bySink[`syslog udp://127.0.0.1:${udp.address().port}`], { written: 1, ...none });
    assert.deepEqual(bySink[`webhook http://127.0.0.1:${(http.address() as AddressInfo).port}/alerts`], {
      written: 1,
      ...none,
    });
    // Processes elsewhere on the host go on adding events to the stream after the query.
    const streamed = bySink[s.output]?.written ?? 0;
    assert.ok(streamed > 0 && streamed <= s.events().length, `${streamed} written`);

    const table = execFileSync(vigil, ["get-statistics", "--socket", s.socket], {
      encoding: "utf8",
    });
    assert.match(table, /^SINK\s+WRITTEN\s+DROPPED\s+FAILED\s+QUEUED$/m);
    assert.match(table, /^syslog udp:\/\/127\.0\.0\.1:\d+\s+1\s+0\s+0\s+0$/m);
    assert.match(table, /^webhook http:\/\/127\.0\.0\.1:\d+\/alerts\s+1\s+0\s+0\s+0$/m);
  });
});
