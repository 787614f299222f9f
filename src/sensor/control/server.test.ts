import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { query, SensorUnreachable } from "../../cli/client.js";
import { fromJson } from "../../events/json.js";
import type { SensorStatistics } from "../sensor.js";
import { type ActorView, type ContainerView, type ControlTarget, type PackageView, subtree } from "./answers.js";
import { CONTROL_ERRORS, ControlError, MAX_REQUEST_BYTES } from "./protocol.js";
import { ControlServer } from "./server.js";

const BIG = 2n ** 63n + 7n;

const view = (pid: number, ppid: number, exe: string): ActorView => ({
  pid,
  ppid,
  uid: 0,
  user: "root",
  comm: exe.split("/").pop() ?? "",
  exe,
  args: [exe, "--flag"],
  argsTruncated: false,
  cgroupId: BIG,
  startTime: 1_795_552_228_545_458_241n,
  startedAt: "2026-11-24T20:30:28.545Z",
});

const ACTORS = [view(1, 0, "/sbin/init"), view(10, 1, "/usr/bin/bash"), view(11, 10, "/usr/bin/sleep")];

/** A sensor that answers from fixed data, and can be told to fail. */
class FakeSensor implements ControlTarget {
  failStatistics = false;

  version() {
    return { version: "9.9.9", node: "20.0.0", kernel: "6.18.0", pid: 4242, definitions: "none" };
  }

  statistics(): SensorStatistics {
    if (this.failStatistics) throw new Error("ring map vanished");
    return {
      uptimeMs: 1500,
      records: 3,
      decodeErrors: { truncated: 0, unknown_op: 0, malformed: 0 },
      lostRecords: BIG,
      rings: [{ name: "events", lost: BIG, records: 3, batches: 1, bytes: 300, oversized: 0 }],
      events: { "process.exec": 3 },
      filtered: {},
      processes: 3,
      sinks: [{ sink: "stdout", written: 3, dropped: 0, failed: 0, queued: 0 }],
      agent: { cpuUserUs: 1000, cpuSystemUs: 500, rssBytes: 50 << 20 },
      enforcement: ["cgroup_sock"],
      attachFailures: [],
    };
  }

  actors(q: { pid?: number }) {
    if (q.pid === undefined) return ACTORS;
    const tree = subtree(ACTORS, q.pid);
    if (tree.length === 0) throw new ControlError(CONTROL_ERRORS.notFound, `no live process with pid ${q.pid}`);
    return tree;
  }

  stopped = 0;
  stop() {
    this.stopped++;
    return { stopping: true as const, pid: 4242 };
  }

  enforcement() {
    return {
      available: ["cgroup_sock" as const],
      inUse: ["cgroup_sock" as const],
      programs: [],
      rules: [],
      generation: 1,
      missing: [],
      unknownDenials: 0,
    };
  }

  containers(): ContainerView[] {
    return [
      {
        id: "a".repeat(64),
        runtime: "podman",
        name: "web",
        image: "localhost/web:1",
        labels: { app: "web" },
        k8s: null,
        cgroupIds: [BIG],
        processes: [ACTORS[2] as ActorView],
      },
    ];
  }

  packages(): PackageView[] {
    return [
      {
        ecosystem: "python",
        name: "PyYAML",
        version: "6.0",
        firstSeen: "2026-11-24T00:00:00.000Z",
        lastSeen: "2026-11-24T00:00:01.000Z",
        locations: ["/usr/lib/python3/dist-packages/yaml"],
        processes: [
          {
            pid: 11,
            exe: "/usr/bin/python3.11",
            live: true,
            firstSeen: "2026-11-24T00:00:00.000Z",
            lastSeen: "2026-11-24T00:00:01.000Z",
          },
        ],
        processCount: 1,
        host: true,
        containers: [],
      },
    ];
  }
}

/** A raw connection: sends bytes as given, reads answers line by line. */
async function connect(path: string) {
  const socket: Socket = createConnection(path);
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let buffered = "";
  const waiting: (() => void)[] = [];
  socket.setEncoding("utf8").on("data", (d: string) => {
    buffered += d;
    for (const w of waiting.splice(0)) w();
  });
  return {
    socket,
    send: (text: string | Buffer) => socket.write(text),
    /** The next `n` answer lines, parsed. */
    async answers(n: number, timeoutMs = 3000): Promise<Record<string, unknown>[]> {
      const deadline = Date.now() + timeoutMs;
      while (buffered.split("\n").length - 1 < n) {
        if (Date.now() > deadline) throw new Error(`only ${buffered.split("\n").length - 1} of ${n} answers`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 50);
        });
      }
      const lines = buffered.split("\n");
      buffered = lines.slice(n).join("\n");
      return lines.slice(0, n).map((l) => fromJson(l) as Record<string, unknown>);
    },
    close: () => socket.destroy(),
  };
}

const errorCode = (answer: Record<string, unknown>) => (answer.error as { code: string } | undefined)?.code;
const errorMessage = (answer: Record<string, unknown>) => (answer.error as { message: string }).message;

describe("control server", () => {
  let dir: string;
  let path: string;
  let server: ControlServer;
  const fake = new FakeSensor();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-control-"));
    // A directory the server creates itself, to check its mode.
    path = join(dir, "run", "vigil.sock");
    server = new ControlServer(fake, { path });
    await server.listen();
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the socket is 0600 in a directory it created 0700", () => {
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "run")).mode & 0o777, 0o700);
  });

  test("answers containers, and refuses parameters it does not take", async () => {
    assert.deepEqual(await query(path, "containers"), fake.containers());
    await assert.rejects(query(path, "containers", { all: true }), {
      code: "VIGIL_ERR_INVALID_PARAMS",
      message: 'containers takes no parameters; got "all"',
    });
  });

  test("answers packages, and refuses parameters it does not take", async () => {
    assert.deepEqual(await query(path, "packages"), fake.packages());
    await assert.rejects(query(path, "packages", { live: true }), {
      code: "VIGIL_ERR_INVALID_PARAMS",
      message: 'packages takes no parameters; got "live"',
    });
  });

  test("answers version, statistics and actors, with exact 64-bit integers", async () => {
    assert.deepEqual(await query(path, "version"), fake.version());
    const stats = (await query(path, "statistics")) as SensorStatistics;
    assert.equal(stats.lostRecords, BIG);
    assert.equal(stats.rings[0]?.lost, BIG);
    assert.deepEqual(stats.events, { "process.exec": 3 });
    const actors = (await query(path, "actors")) as ActorView[];
    assert.deepEqual(actors, ACTORS);
    assert.deepEqual(
      ((await query(path, "actors", { pid: 10 })) as ActorView[]).map((a) => a.pid),
      [10, 11],
    );
  });

  test("echoes the request id, a number or a string", async () => {
    const c = await connect(path);
    c.send('{"id":"abc","method":"version"}\n{"id":77,"method":"version","params":{}}\n');
    const [a, b] = await c.answers(2);
    assert.equal(a?.id, "abc");
    assert.equal(b?.id, 77);
    assert.deepEqual(b?.result, fake.version());
    c.close();
  });

  test("malformed JSON gets its error and the connection goes on", async () => {
    const c = await connect(path);
    c.send('{"id":1,"method":\n{"id":2,"method":"version"}\n');
    const [bad, good] = await c.answers(2);
    assert.equal(errorCode(bad ?? {}), "VIGIL_ERR_MALFORMED_REQUEST");
    assert.match(errorMessage(bad ?? {}), /not valid JSON/);
    assert.equal(bad?.id, null);
    assert.equal(good?.id, 2);
    c.close();
  });

  test("JSON that is not a request gets VIGIL_ERR_INVALID_REQUEST", async () => {
    const c = await connect(path);
    c.send('[1,2]\n{"id":{},"method":"version"}\n{"id":3}\n{"id":4,"method":"actors","params":[1]}\n');
    const answers = await c.answers(4);
    assert.deepEqual(
      answers.map((a) => errorCode(a)),
      Array(4).fill("VIGIL_ERR_INVALID_REQUEST"),
    );
    assert.match(errorMessage(answers[2] ?? {}), /"method"/);
    assert.equal(answers[2]?.id, 3, "the id is echoed when it could be read");
    assert.match(errorMessage(answers[3] ?? {}), /"params" must be a JSON object/);
    c.close();
  });

  test("an unknown method is named, with the known ones", async () => {
    await assert.rejects(query(path, "reboot"), (err: ControlError) => {
      assert.equal(err.code, "VIGIL_ERR_UNKNOWN_METHOD");
      assert.equal(
        err.message,
        'unknown method "reboot"; known methods: version, statistics, actors, enforcement, containers, packages, stop',
      );
      return true;
    });
  });

  test("bad parameters get VIGIL_ERR_INVALID_PARAMS; a pid not live gets VIGIL_ERR_NOT_FOUND", async () => {
    await assert.rejects(query(path, "actors", { pid: "10" }), { code: "VIGIL_ERR_INVALID_PARAMS" });
    await assert.rejects(query(path, "actors", { pid: -3 }), { code: "VIGIL_ERR_INVALID_PARAMS" });
    await assert.rejects(query(path, "actors", { depth: 2 }), {
      code: "VIGIL_ERR_INVALID_PARAMS",
      message: 'actors takes only pid; got "depth"',
    });
    await assert.rejects(query(path, "statistics", { verbose: true }), {
      code: "VIGIL_ERR_INVALID_PARAMS",
      message: 'statistics takes no parameters; got "verbose"',
    });
    await assert.rejects(query(path, "actors", { pid: 999 }), {
      code: "VIGIL_ERR_NOT_FOUND",
      message: "no live process with pid 999",
    });
  });

  test("an oversized request is refused and skipped; the next one on the connection is answered", async () => {
    const c = await connect(path);
    const huge = `{"id":1,"method":"version","params":{"pad":"${"x".repeat(MAX_REQUEST_BYTES)}"}}`;
    // In pieces, so the bound is met before the newline arrives.
    for (let at = 0; at < huge.length; at += 8192) c.send(huge.slice(at, at + 8192));
    c.send('\n{"id":2,"method":"version"}\n');
    const [refused, next] = await c.answers(2);
    assert.equal(errorCode(refused ?? {}), "VIGIL_ERR_REQUEST_TOO_LARGE");
    assert.match(errorMessage(refused ?? {}), /longer than 65536 bytes/);
    assert.equal(next?.id, 2);
    assert.deepEqual(next?.result, fake.version());
    c.close();
  });

  test("a request arriving a byte at a time, split inside a UTF-8 character, is read whole", async () => {
    const c = await connect(path);
    const bytes = Buffer.from('{"id":"é→1","method":"version"}\n', "utf8");
    for (const b of bytes) c.send(Buffer.of(b));
    const [answer] = await c.answers(1);
    assert.equal(answer?.id, "é→1");
    c.close();
  });

  test("a failing method is an internal error, and the server goes on", async () => {
    fake.failStatistics = true;
    try {
      await assert.rejects(query(path, "statistics"), {
        code: "VIGIL_ERR_INTERNAL",
        message: "statistics failed: ring map vanished",
      });
    } finally {
      fake.failStatistics = false;
    }
    assert.equal(((await query(path, "statistics")) as SensorStatistics).records, 3);
  });

  test("clients that vanish mid-request or mid-answer do not take it down", async () => {
    for (let i = 0; i < 20; i++) {
      const c = await connect(path);
      c.send(i % 2 ? '{"id":1,"meth' : '{"id":1,"method":"actors"}\n');
      c.close();
    }
    assert.deepEqual(await query(path, "version"), fake.version());
  });

  test("empty lines are ignored", async () => {
    const c = await connect(path);
    c.send('\n\r\n  \n{"id":9,"method":"version"}\n');
    const [answer] = await c.answers(1);
    assert.equal(answer?.id, 9);
    c.close();
  });

  test("a second server on a live socket refuses to start and leaves the first alone", async () => {
    const second = new ControlServer(fake, { path });
    await assert.rejects(second.listen(), { message: `another sensor is running on ${path}` });
    assert.deepEqual(await query(path, "version"), fake.version());
  });
});

describe("control socket files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-control-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a socket left by a process that died is replaced", async () => {
    const path = join(dir, "stale.sock");
    // A process that binds the socket and is killed, so the file stays without a listener.
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    await new Promise((resolve) => child.once("exit", resolve));
    assert.ok(statSync(path).isSocket(), "the dead process left its socket");
    await assert.rejects(query(path, "version"), SensorUnreachable);

    const server = new ControlServer(new FakeSensor(), { path });
    await server.listen();
    try {
      assert.equal(((await query(path, "version")) as { pid: number }).pid, 4242);
    } finally {
      await server.close();
    }
  });

  test("a file that is not a socket is never removed", async () => {
    const path = join(dir, "not-a-socket");
    writeFileSync(path, "keep me");
    const server = new ControlServer(new FakeSensor(), { path });
    await assert.rejects(server.listen(), /exists and is not a socket/);
    assert.equal(readFileSync(path, "utf8"), "keep me");
  });

  test("close() removes the socket and drops open connections; queries then find no sensor", async () => {
    const path = join(dir, "closing.sock");
    const server = new ControlServer(new FakeSensor(), { path });
    await server.listen();
    const idle = await connect(path);
    const dropped = new Promise((resolve) => idle.socket.once("close", resolve));
    await server.close();
    await dropped;
    assert.equal(existsSync(path), false);
    await assert.rejects(query(path, "version"), (err: SensorUnreachable) => {
      assert.ok(err instanceof SensorUnreachable);
      assert.equal(err.exitCode, 2);
      assert.equal(err.message, `no sensor is running (no answer on ${path})`);
      return true;
    });
  });

  test("a connection that sends nothing is closed after the idle time", async () => {
    const path = join(dir, "idle.sock");
    const server = new ControlServer(new FakeSensor(), { path, idleMs: 100 });
    await server.listen();
    try {
      const c = await connect(path);
      await new Promise((resolve) => c.socket.once("close", resolve));
      assert.deepEqual(await query(path, "version"), new FakeSensor().version());
    } finally {
      await server.close();
    }
  });
});
