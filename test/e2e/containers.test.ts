import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { fromJson, toJson } from "../../src/events/json.js";
import type { ActorView, ContainerView, PackageView } from "../../src/sensor/control/index.js";
import { cgroup2MountPoint } from "../../src/sensor/host/index.js";
import { policyFile, type RunningSensor, requireKernel, startSensor, vigil, type WireEvent } from "./harness.js";

/**
 * Podman with runc, as Debian packages them, runs containers here from an image built on the
 * spot (nothing can be pulled): busybox-static in an otherwise empty root, `podman import`ed.
 * These flags are what work on this kind of machine: runc (crun fails on hybrid cgroups), the
 * cgroupfs manager, explicit ulimits (no CAP_SYS_RESOURCE), no network.
 */
const PODMAN = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"];
const RUN = ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
const BUSYBOX = "/bin/busybox";

function requirePodman(t: TestContext): boolean {
  const problems: string[] = [];
  if (spawnSync("podman", ["--version"]).status !== 0)
    problems.push("podman is not installed (apt-get install podman runc)");
  if (spawnSync("runc", ["--version"]).status !== 0) problems.push("runc is not installed");
  if (!existsSync(BUSYBOX)) problems.push(`no ${BUSYBOX} to build an image from (apt-get install busybox-static)`);
  if (problems.length === 0) return true;
  if (process.env.CI) throw new Error(`container test cannot run under CI: ${problems.join(", ")}`);
  t.skip(problems.join(", "));
  return false;
}

const podman = (...args: string[]) => execFileSync("podman", [...PODMAN, ...args], { encoding: "utf8" }).trim();

const cli = (args: string[]) => {
  const r = spawnSync(vigil, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `vigil ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("containers in the running sensor (podman with runc)", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  const tag = `localhost/vigil-e2e:${process.pid}`;
  const name = `vigil-e2e-${process.pid}`;
  let id = "";

  before(async (t) => {
    if (!requireKernel(t as never) || !requirePodman(t as never)) return;
    work = mkdtempSync(join(tmpdir(), "vigil-containers-"));
    const rootfs = join(work, "rootfs");
    for (const dir of ["bin", "etc", "proc", "sys", "dev", "tmp"]) mkdirSync(join(rootfs, dir), { recursive: true });
    copyFileSync(BUSYBOX, join(rootfs, "bin/busybox"));
    chmodSync(join(rootfs, "bin/busybox"), 0o755);
    for (const applet of ["sh", "sleep", "cat", "echo"]) symlinkSync("busybox", join(rootfs, "bin", applet));
    // A package only the container has: the inventory must read it through the container's root.
    mkdirSync(join(rootfs, "app/node_modules/left-pad"), { recursive: true });
    writeFileSync(
      join(rootfs, "app/node_modules/left-pad/package.json"),
      JSON.stringify({ name: "left-pad", version: `1.3.0-e2e.${process.pid}` }),
    );
    writeFileSync(join(rootfs, "app/node_modules/left-pad/index.js"), "module.exports = 1;\n");
    execFileSync("tar", ["-C", rootfs, "-cf", join(work, "rootfs.tar"), "."]);
    podman("import", "--change", 'CMD ["/bin/sh"]', join(work, "rootfs.tar"), tag);
    const policies = join(work, "policies");
    mkdirSync(policies);
    policyFile(policies, "containers", {
      id: "marked-container-exec",
      on: "process.exec",
      when: `container != null && container.image == '${tag}' && container.labels['vigil.test'] == 'containers' && process.args.exists(a, a.contains('marker-${process.pid}'))`,
      severity: "low",
      message: "{{process.exe}} ran in {{container.name}} ({{container.image}})",
    });
    const noToken = join(work, "no-service-account");
    sensor = await startSensor([
      "--packages",
      "--policies",
      policies,
      // Told to follow pods, without a service account: it must say why pod metadata is off and go on.
      "--kubernetes",
      "--kubernetes-api",
      "http://127.0.0.1:9",
      "--service-account",
      noToken,
    ]);
  });

  after(async () => {
    if (id) spawnSync("podman", [...PODMAN, "rm", "-f", "-t", "0", id]);
    if (sensor) spawnSync("podman", [...PODMAN, "rmi", "-f", tag]);
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("without a service account token the log says so, naming the path, and the sensor runs on", (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    const said = sensor.logs().find((l) => String(l.msg).startsWith("kubernetes:"));
    assert.equal(
      said?.msg,
      `kubernetes: no service account token at ${join(work, "no-service-account", "token")}: pod metadata off`,
    );
  });

  test("a containerised process's events carry its container: id, runtime, name, image, labels", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    id = podman(
      "run",
      "-d",
      ...RUN,
      "--name",
      name,
      "--label",
      "vigil.test=containers",
      tag,
      "sh",
      "-c",
      `echo marker-${process.pid}; exec sleep 30`,
    );
    assert.match(id, /^[0-9a-f]{64}$/);
    const isSleep = (e: WireEvent) =>
      e.kind === "process.exec" && e.process.args.join(" ") === "sleep 30" && e.container !== null;
    const exec = await sensor.waitFor(isSleep, "exec of sleep in the container", 20_000);
    assert.deepEqual(exec.container, {
      id,
      runtime: "podman",
      name,
      image: tag,
      labels: { "vigil.test": "containers" },
    });
    assert.equal(exec.k8s, null);
    assert.equal(exec.process.exe, "/bin/busybox");
    // The cgroup id the kernel reported is the inode of the container's cgroup directory.
    const cgroupId = BigInt(exec.process.cgroup_id as bigint | number);
    const unified = /^0::(.*)$/m.exec(readFileSync(`/proc/${exec.process.pid}/cgroup`, "utf8"))?.[1] ?? "";
    assert.match(unified, new RegExp(`/libpod-${id}$`));
    assert.equal(statSync(join(cgroup2MountPoint() ?? "/sys/fs/cgroup", unified), { bigint: true }).ino, cgroupId);
    // A host process next to it has none.
    const host = sensor.events().find((e) => e.kind === "process.exec" && e.process.exe.endsWith("/podman"));
    assert.equal(host?.container, null);
  });

  test("an alert raised in a container carries it, and the rule matched on container.image and labels", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    const alert = await sensor.waitFor(
      (e) => e.kind === "alert" && (e as { rule?: { id?: string } }).rule?.id === "marked-container-exec",
      "the alert",
    );
    assert.equal((alert.container as { id?: string } | null)?.id, id);
    assert.match(
      String((alert as { message?: string }).message),
      new RegExp(`^/bin/busybox ran in ${name} \\(${tag}\\)$`),
    );
  });

  test("`podman exec` joins the container: its process is in it too", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    podman("exec", id, "cat", "/etc/hostname");
    const cat = await sensor.waitFor(
      (e) => e.kind === "process.exec" && e.process.args.join(" ") === "cat /etc/hostname" && e.container !== null,
      "exec of cat in the container",
    );
    assert.equal((cat.container as { id: string }).id, id);
  });

  test("a package read in the container is in the inventory with its container, read through its root", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    podman("exec", id, "cat", "/app/node_modules/left-pad/index.js");
    let found: PackageView | undefined;
    for (let i = 0; i < 50 && !found; i++) {
      const all = fromJson(cli(["packages", "--json", "--socket", sensor.socket])) as PackageView[];
      found = all.find((p) => p.ecosystem === "npm" && p.name === "left-pad");
      if (!found) await sleep(100);
    }
    assert.ok(found, "left-pad is listed");
    assert.equal(found.version, `1.3.0-e2e.${process.pid}`);
    assert.deepEqual(found.containers, [id]);
    assert.equal(found.host, false);
    assert.deepEqual(found.locations, ["/app/node_modules/left-pad/"]);
    assert.equal(found.processes[0]?.container, id);
    assert.equal(found.processes[0]?.exe, "/bin/busybox");
  });

  test("vigil containers lists it with its processes; vigil actors names its container", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    let listed: ContainerView | undefined;
    for (let i = 0; i < 50 && !listed; i++) {
      const all = fromJson(cli(["containers", "--json", "--socket", sensor.socket])) as ContainerView[];
      listed = all.find((c) => c.id === id);
      if (!listed) await sleep(100);
    }
    assert.ok(listed, "the container is listed");
    assert.equal(listed.name, name);
    assert.equal(listed.runtime, "podman");
    const sleeper = listed.processes.find((p) => p.args.join(" ") === "sleep 30");
    assert.ok(sleeper, toJson(listed.processes));
    const table = cli(["containers", "--socket", sensor.socket]);
    assert.match(
      table,
      new RegExp(
        `^${id.slice(0, 12)}\\s+podman\\s+${name}\\s+${tag.replace(".", "\\.")}\\s+${sleeper.pid}\\s+root\\s+/bin/busybox\\s+sleep 30$`,
        "m",
      ),
    );
    const actors = fromJson(
      cli(["actors", "--json", "--pid", String(sleeper.pid), "--socket", sensor.socket]),
    ) as ActorView[];
    assert.equal(actors[0]?.container, id);
  });

  test("a stopped container leaves the list", async (t) => {
    if (!sensor) return t.skip("no kernel or podman");
    podman("rm", "-f", "-t", "0", id);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      const all = fromJson(cli(["containers", "--json", "--socket", sensor.socket])) as ContainerView[];
      gone = !all.some((c) => c.id === id);
      if (!gone) await sleep(100);
    }
    assert.ok(gone);
    id = "";
  });
});
