import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fromJson } from "../../src/events/json.js";
import type { ActorView } from "../../src/sensor/control/index.js";
import type { SensorStatistics } from "../../src/sensor/sensor.js";
import { type RunningSensor, requireKernel, root, run, startSensor, vigil } from "./harness.js";

/** Runs the CLI to completion. */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(vigil, args, { encoding: "utf8", env: { ...env, VIGIL_LOG_LEVEL: "warn" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cliJson<T>(args: string[]): T {
  const r = cli([...args, "--json"]);
  assert.equal(r.status, 0, `vigil ${args.join(" ")} --json: ${r.stderr}`);
  return fromJson(r.stdout) as T;
}

const procPpid = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

const packageVersion = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

describe("the control socket of a real sensor", () => {
  let sensor: RunningSensor | undefined;
  let dir: string;
  let socket: string;
  let sleeper: ChildProcess | undefined;
  const startedBefore = Date.now();

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    dir = mkdtempSync(join(tmpdir(), "vigil-control-e2e-"));
    // A directory that does not exist yet: the sensor creates it.
    socket = join(dir, "run", "vigil.sock");
    sensor = await startSensor(["--control-socket", socket]);
  });

  after(async () => {
    sleeper?.kill("SIGKILL");
    if (sensor) await sensor.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the socket is root's, mode 0600, in a directory created 0700", (t) => {
    if (!sensor) return t.skip("no kernel");
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    assert.equal(statSync(join(dir, "run")).mode & 0o777, 0o700);
  });

  test("vigil version names the client and the running sensor", (t) => {
    if (!sensor) return t.skip("no kernel");
    const info = cliJson<{
      client: string;
      socket: string;
      sensor: { running: boolean; version: string; pid: number; kernel: string; startedAt: string };
      definitions: string;
    }>(["version", "--socket", socket]);
    assert.equal(info.client, packageVersion);
    assert.equal(info.socket, socket);
    assert.equal(info.sensor.running, true);
    assert.equal(info.sensor.version, packageVersion);
    assert.equal(info.sensor.pid, sensor.proc.pid);
    assert.equal(info.sensor.kernel, readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
    const started = Date.parse(info.sensor.startedAt);
    assert.ok(started >= startedBefore && started <= Date.now(), `start time ${info.sensor.startedAt}`);
    assert.equal(info.definitions, "none");

    const text = cli(["version", "--socket", socket]);
    assert.equal(text.status, 0);
    const lines = text.stdout.split("\n");
    assert.equal(lines[0], `client: ${packageVersion} (node ${process.versions.node})`);
    assert.match(
      lines[1] ?? "",
      new RegExp(`^sensor: ${packageVersion} \\(node .*, pid ${sensor.proc.pid}\\), started `),
    );
    assert.equal(lines[2], "definitions: none");
  });

  test("vigil actors: this test's process, its exe, args and parent chain to init", (t) => {
    if (!sensor) return t.skip("no kernel");
    const actors = cliJson<ActorView[]>(["actors", "--socket", socket]);
    const byPid = new Map(actors.map((a) => [a.pid, a]));
    const own = byPid.get(process.pid);
    assert.ok(own, `pid ${process.pid} among ${actors.length} actors`);
    assert.equal(own.exe, realpathSync(process.execPath));
    assert.deepEqual(own.args, readFileSync("/proc/self/cmdline", "utf8").replace(/\0$/, "").split("\0"));
    assert.equal(own.ppid, process.ppid);
    assert.equal(own.uid, 0);
    assert.equal(own.user, "root");
    assert.ok(typeof own.cgroupId === "number" || typeof own.cgroupId === "bigint");
    assert.ok(Date.parse(own.startedAt) <= Date.now());

    // Up the tree: every parent is known, with the parent the kernel gives, up to init.
    const chain: number[] = [];
    for (let at = own; at.pid !== 1; ) {
      assert.equal(at.ppid, procPpid(at.pid), `ppid of ${at.pid}`);
      const parent = byPid.get(at.ppid);
      assert.ok(parent, `parent ${at.ppid} of ${at.pid} is known`);
      assert.ok(chain.length < 64, "no loop");
      chain.push(parent.pid);
      at = parent;
    }
    assert.equal(chain[0], process.ppid);
    assert.equal(chain.at(-1), 1);
  });

  test("vigil actors: a process started under the sensor, and --pid gives a subtree drawn as a tree", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const spawnedAt = Date.now();
    sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
    const pid = sleeper.pid as number;
    let mine: ActorView[] = [];
    for (let i = 0; i < 100 && !mine.some((a) => a.pid === pid && a.exe.endsWith("sleep")); i++) {
      await new Promise((r) => setTimeout(r, 50));
      mine = cliJson<ActorView[]>(["actors", "--socket", socket, "--pid", String(process.pid)]);
    }
    const sleep = mine.find((a) => a.pid === pid);
    assert.ok(sleep, `sleep ${pid} in the subtree of ${process.pid}`);
    assert.equal(sleep.exe, realpathSync("/usr/bin/sleep"));
    assert.deepEqual(sleep.args, ["sleep", "300"]);
    assert.equal(sleep.ppid, process.pid);
    const started = Date.parse(sleep.startedAt);
    assert.ok(started >= spawnedAt - 1000 && started <= Date.now() + 1000, `sleep started at ${sleep.startedAt}`);
    // Only this process and its descendants (the CLI that asked is one of them).
    const inTree = new Set(mine.map((a) => a.pid));
    assert.ok(inTree.has(process.pid));
    for (const a of mine) assert.ok(a.pid === process.pid || inTree.has(a.ppid), `${a.pid} descends from the test`);
    assert.ok(!inTree.has(1));

    const table = cli(["actors", "--socket", socket, "--pid", String(process.pid)]);
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^PID\s+PPID\s+UID\s+USER\s+CGROUP\s+CONTAINER\s+STARTED\s+EXE\s+ARGS$/);
    assert.match(lines[1] ?? "", new RegExp(`^${process.pid}\\s+${process.ppid}\\s+0\\s+root\\s`));
    assert.ok(
      lines.some((l) => new RegExp(`^${pid}\\s+${process.pid}\\s.* \\\\_ /usr/bin/sleep\\s+sleep 300$`).test(l)),
      table.stdout,
    );

    sleeper.kill("SIGKILL");
    await new Promise((r) => sleeper?.once("exit", r));
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 50));
      gone = !cliJson<ActorView[]>(["actors", "--socket", socket]).some((a) => a.pid === pid);
    }
    assert.ok(gone, "an exited process leaves the live tree");
    const missing = cli(["actors", "--socket", socket, "--pid", String(pid)]);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, `vigil: no live process with pid ${pid}\n`);
  });

  test("vigil get-statistics: exec events delivered, nothing lost, no decode errors, the agent's resources", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const child = await run("/bin/true", []);
    await sensor.waitFor((e) => e.kind === "process.exec" && e.process.pid === child.pid, "exec of true");
    const stats = cliJson<SensorStatistics>(["get-statistics", "--socket", socket]);
    assert.ok((stats.events["process.exec"] ?? 0) >= 1, JSON.stringify(stats.events));
    assert.equal(Number(stats.lostRecords), 0);
    assert.deepEqual(stats.decodeErrors, { truncated: 0, unknown_op: 0, malformed: 0 });
    assert.ok(stats.records >= (stats.events["process.exec"] ?? 0));
    assert.ok(stats.agent.rssBytes > 0);
    assert.ok(stats.agent.cpuUserUs > 0);
    assert.ok(stats.uptimeMs > 0);
    assert.ok(stats.processes > 10);
    assert.equal(stats.rings.length, 1);
    assert.equal(stats.rings[0]?.name, "events");
    assert.equal(Number(stats.rings[0]?.lost), 0);
    assert.ok((stats.rings[0]?.batches ?? 0) > 0 && (stats.rings[0]?.bytes ?? 0) > 0);
    assert.equal(stats.rings[0]?.oversized, 0);
    const started = sensor.logs().find((l) => l.msg === "preflight passed");
    assert.deepEqual(stats.enforcement, started?.enforcement);
    assert.ok(Array.isArray(stats.attachFailures));

    const table = cli(["get-statistics", "--socket", socket]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^uptime\s+\S/m);
    assert.match(table.stdout, /^lost records\s+0$/m);
    assert.match(table.stdout, /^KIND\s+DELIVERED\s+FILTERED IN KERNEL$/m);
    assert.match(table.stdout, /^process\.exec\s+[1-9]\d*\s+\d+$/m);
    assert.match(table.stdout, /^RING\s+LOST\s+RECORDS\s+BATCHES\s+BYTES\s+OVERSIZED$/m);
    assert.match(table.stdout, /^events\s+0\s+/m);
  });

  test("with no sensor on the socket: one line naming the path, exit status 2; version still exits 0", (t) => {
    if (!sensor) return t.skip("no kernel");
    const none = join(dir, "none.sock");
    for (const command of ["get-statistics", "actors"]) {
      const r = cli([command, "--socket", none]);
      assert.equal(r.status, 2, command);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `vigil: no sensor is running (no answer on ${none})\n`);
    }
    const viaEnv = cli(["actors"], { ...process.env, VIGIL_SOCKET: none });
    assert.equal(viaEnv.status, 2);
    assert.match(viaEnv.stderr, new RegExp(`no answer on ${none}`));
    const version = cli(["version", "--socket", none]);
    assert.equal(version.status, 0);
    assert.match(version.stdout, new RegExp(`^sensor: not running \\(no answer on ${none}\\)$`, "m"));
  });

  test("a second sensor on the same socket stops with a clear message, the first goes on", (t) => {
    if (!sensor) return t.skip("no kernel");
    const second = spawnSync(vigil, ["run", "--output", "/dev/null", "--control-socket", socket], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`another sensor is running on ${socket}`));
    assert.equal(cliJson<{ sensor: { pid: number } }>(["version", "--socket", socket]).sensor.pid, sensor.proc.pid);
  });

  test("SIGTERM stops the sensor and removes its socket", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const running = sensor;
    sensor = undefined;
    assert.equal(await running.stop(), 0);
    assert.equal(existsSync(socket), false);
  });

  test("a socket left by a killed sensor is replaced by the next one", async (t) => {
    if (!dir || !existsSync(dir)) return t.skip("no kernel");
    const killed = await startSensor(["--control-socket", socket]);
    killed.proc.kill("SIGKILL");
    await killed.stop();
    assert.ok(statSync(socket).isSocket(), "SIGKILL left the socket behind");
    const next = await startSensor(["--control-socket", socket]);
    try {
      assert.ok(next.logs().some((l) => l.msg === "replaced the control socket of a sensor that is gone"));
      assert.equal(cliJson<{ sensor: { pid: number } }>(["version", "--socket", socket]).sensor.pid, next.proc.pid);
    } finally {
      assert.equal(await next.stop(), 0);
    }
  });
});
