import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Container } from "../containers/index.js";
import type { KernelBridge } from "../kernel/index.js";
import { Sensor } from "../sensor.js";
import type { Actor } from "../state/index.js";
import { CONTROL_ERRORS } from "./protocol.js";
import { sensorTarget } from "./sensor-target.js";

const SEC = 1_000_000_000n;
// Booted at 2026-11-24T00:00:00Z: realtime - boottime.
const BOOT_WALL = 1_795_478_400n * SEC;

const bridge = {
  clocks: () => ({ realtime: BOOT_WALL + 100n * SEC, monotonic: 90n * SEC, boottime: 100n * SEC }),
} as unknown as KernelBridge;

const actor = (pid: number, ppid: number, uid: number, exe: string): Actor => ({
  pid,
  ppid,
  uid,
  gid: uid,
  euid: uid,
  comm: exe.split("/").pop() ?? "",
  exe,
  args: [exe],
  argsTruncated: false,
  cwd: "/",
  cgroupId: 2n ** 40n + BigInt(pid),
  startBoottime: BigInt(pid) * SEC,
});

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-target-"));
  const passwd = join(dir, "passwd");
  writeFileSync(passwd, "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbroken line\n");
  const sensor = new Sensor({ bridge, sinks: [], logger: undefined as never });
  sensor.state.processes.upsert(actor(1, 0, 0, "/sbin/init"));
  sensor.state.processes.upsert(actor(30, 1, 1000, "/usr/bin/bash"));
  sensor.state.processes.upsert(actor(31, 30, 1000, "/usr/bin/vim"));
  sensor.state.processes.upsert(actor(40, 1, 4321, "/usr/sbin/cron"));
  sensor.state.processes.exit(40, 50n * SEC);
  return { sensor, target: sensorTarget(sensor, "1.2.3", passwd), done: () => rmSync(dir, { recursive: true }) };
}

test("actors: live processes by pid, with user names, wall start times and cgroup ids", () => {
  const { target, done } = fixture();
  try {
    const actors = target.actors({});
    assert.deepEqual(
      actors.map((a) => [a.pid, a.ppid, a.uid, a.user]),
      [
        [1, 0, 0, "root"],
        [30, 1, 1000, "alice"],
        [31, 30, 1000, "alice"],
      ],
      "the exited process is not listed",
    );
    const bash = actors[1];
    assert.equal(bash?.startTime, BOOT_WALL + 30n * SEC);
    assert.equal(bash?.startedAt, "2026-11-24T00:00:30.000Z");
    assert.equal(bash?.cgroupId, 2n ** 40n + 30n);
    assert.equal(bash?.container, undefined);
  } finally {
    done();
  }
});

test("actors: a uid without a passwd entry has no name", () => {
  const { sensor, target, done } = fixture();
  try {
    sensor.state.processes.upsert(actor(50, 1, 4321, "/opt/x"));
    const x = target.actors({ pid: 50 });
    assert.equal(x.length, 1);
    assert.equal(x[0]?.uid, 4321);
    assert.equal(x[0]?.user, undefined);
  } finally {
    done();
  }
});

test("actors: --pid gives the subtree, and a pid that is not live is not found", () => {
  const { target, done } = fixture();
  try {
    assert.deepEqual(
      target.actors({ pid: 30 }).map((a) => a.pid),
      [30, 31],
    );
    assert.throws(() => target.actors({ pid: 40 }), { code: CONTROL_ERRORS.notFound });
  } finally {
    done();
  }
});

test("version: the package version, no start time before the sensor started, definitions none", () => {
  const { target, done } = fixture();
  try {
    const v = target.version();
    assert.equal(v.version, "1.2.3");
    assert.equal(v.node, process.versions.node);
    assert.equal(v.pid, process.pid);
    assert.equal(v.startedAt, undefined);
    assert.equal(v.definitions, "none");
  } finally {
    done();
  }
});

test("containers: each container with a live process, its metadata and its processes; actors name it", () => {
  const { sensor, target, done } = fixture();
  try {
    const id = "c".repeat(64);
    const web: Container = {
      id,
      podUid: undefined,
      info: Object.freeze({ id, runtime: "podman", name: "web", image: "localhost/web:1", labels: { app: "web" } }),
      k8s: null,
      cgroupIds: new Set([77n]),
      readAt: 0,
      found: true,
    };
    for (const pid of [60, 61]) {
      const a = actor(pid, pid === 60 ? 1 : 60, 0, "/bin/busybox");
      a.container = web;
      sensor.state.processes.upsert(a);
    }
    const gone = actor(62, 1, 0, "/bin/true");
    gone.container = { ...web, id: "d".repeat(64), info: { ...web.info, id: "d".repeat(64), name: "gone" } };
    sensor.state.processes.upsert(gone);
    sensor.state.processes.exit(62, 90n * SEC);
    const containers = target.containers();
    assert.deepEqual(
      containers.map((c) => [c.id, c.runtime, c.name, c.image, c.labels, c.cgroupIds, c.processes.map((p) => p.pid)]),
      [[id, "podman", "web", "localhost/web:1", { app: "web" }, [77n], [60, 61]]],
    );
    assert.equal(target.actors({ pid: 61 })[0]?.container, id);
  } finally {
    done();
  }
});

test("packages: each with its processes, live or not; an error naming --packages when there is no inventory", async () => {
  const { target, done } = fixture();
  try {
    assert.throws(() => target.packages(), {
      code: CONTROL_ERRORS.notFound,
      message: "the sensor keeps no package inventory: start it with vigil run --packages",
    });
  } finally {
    done();
  }
  const dir = mkdtempSync(join(tmpdir(), "vigil-target-packages-"));
  try {
    const modules = join(dir, "node_modules");
    mkdirSync(join(modules, "left-pad"), { recursive: true });
    writeFileSync(join(modules, "left-pad/package.json"), '{"name":"left-pad","version":"1.3.0"}');
    const sensor = new Sensor({ bridge, sinks: [], logger: undefined as never, packages: { prefixes: [] } });
    const live = sensor.state.processes.upsert(actor(30, 1, 0, "/usr/bin/node"));
    const gone = sensor.state.processes.upsert(actor(31, 1, 0, "/usr/bin/node"));
    sensor.state.processes.exit(31, 50n * SEC);
    for (const a of [live, gone]) sensor.packages?.opened(a, join(modules, "left-pad/index.js"));
    await sensor.packages?.settled();
    const [pkg, ...rest] = sensorTarget(sensor, "1.2.3").packages();
    assert.deepEqual(rest, []);
    assert.equal(`${pkg?.ecosystem} ${pkg?.name} ${pkg?.version}`, "npm left-pad 1.3.0");
    assert.deepEqual(
      pkg?.processes.map((p) => [p.pid, p.live]),
      [
        [30, true],
        [31, false],
      ],
    );
    assert.match(pkg?.firstSeen ?? "", /^\d{4}-\d\d-\d\dT/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
