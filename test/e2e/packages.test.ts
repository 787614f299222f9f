import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { fromJson, toJson } from "../../src/events/json.js";
import type { PackageView } from "../../src/sensor/control/index.js";
import type { SensorStatistics } from "../../src/sensor/sensor.js";
import { type RunningSensor, requireKernel, root, run, startSensor, vigil } from "./harness.js";

/** Debian's python3 and its python3-yaml (scripts/setup.sh installs both), not another on PATH. */
const PYTHON = "/usr/bin/python3";
const DEB_SITE = "/usr/lib/python3/dist-packages/";

function cliJson<T>(socket: string, args: string[]): T {
  const r = spawnSync(vigil, [...args, "--socket", socket, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, `vigil ${args.join(" ")}: ${r.stderr}`);
  return fromJson(r.stdout) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The version a Debian package has installed, as dpkg says. */
const debVersion = (pkg: string) =>
  spawnSync("dpkg-query", ["-W", `-f=\${Version}`, pkg], { encoding: "utf8" }).stdout.trim();

/** PyYAML's version as its dist-info says. */
function pyyamlVersion(): string {
  const info = readdirSync(DEB_SITE).find((d) => /^PyYAML-.*\.dist-info$/.test(d));
  assert.ok(info, `no PyYAML dist-info in ${DEB_SITE}`);
  return /^Version: (.*)$/m.exec(readFileSync(join(DEB_SITE, info, "METADATA"), "utf8"))?.[1] ?? "";
}

describe("the package inventory of a real sensor", () => {
  let sensor: RunningSensor | undefined;
  let dir: string;
  let site: string;
  let sleeper: ChildProcess | undefined;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    if (!existsSync(join(DEB_SITE, "yaml/__init__.py"))) {
      if (process.env.CI) throw new Error("python3-yaml is not installed (scripts/setup.sh installs it)");
      return (t as unknown as TestContext).skip("python3-yaml is not installed");
    }
    dir = mkdtempSync(join(tmpdir(), "vigil-packages-e2e-"));
    // A distribution installed outside the default prefixes: followed through --packages-path.
    site = join(dir, "site-packages/");
    mkdirSync(join(site, "vigilprobe"), { recursive: true });
    writeFileSync(join(site, "vigilprobe/__init__.py"), "VALUE = 1\n");
    mkdirSync(join(site, "vigilprobe-1.2.3.dist-info"));
    writeFileSync(
      join(site, "vigilprobe-1.2.3.dist-info/METADATA"),
      "Metadata-Version: 2.1\nName: vigilprobe\nVersion: 1.2.3\n",
    );
    writeFileSync(join(site, "vigilprobe-1.2.3.dist-info/RECORD"), "vigilprobe/__init__.py,,\n");
    // Running before the sensor: known from its mappings, read at start-up.
    sleeper = spawn(PYTHON, ["-c", "import yaml, time; time.sleep(120)"], { stdio: "ignore" });
    const until = Date.now() + 10_000;
    while (!readFileSync(`/proc/${sleeper.pid}/maps`, "utf8").includes("libyaml")) {
      assert.ok(Date.now() < until, "python did not load libyaml");
      await sleep(20);
    }
    sensor = await startSensor(["--packages", "--packages-path", `${root}/node_modules/`, "--packages-path", site]);
  });

  after(async () => {
    sleeper?.kill("SIGKILL");
    if (sensor) await sensor.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The inventory once `wanted` holds, else the last one seen. */
  async function inventory(wanted: (ps: PackageView[]) => boolean): Promise<PackageView[]> {
    const until = Date.now() + 10_000;
    for (;;) {
      const ps = cliJson<PackageView[]>(sensor?.socket ?? "", ["packages"]);
      if (wanted(ps) || Date.now() > until) return ps;
      await sleep(100);
    }
  }
  const find = (ps: PackageView[], ecosystem: string, name: string) =>
    ps.find((p) => p.ecosystem === ecosystem && p.name === name);
  const pidsOf = (p: PackageView | undefined) => p?.processes.map((x) => x.pid) ?? [];

  test("python importing a Debian-packaged module and a local distribution; node requiring a package", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const py = await run(PYTHON, ["-c", "import yaml, vigilprobe"], { env: { ...process.env, PYTHONPATH: site } });
    assert.equal(py.code, 0);
    const node = await run(process.execPath, ["-e", "require('yaml')"], { cwd: root });
    assert.equal(node.code, 0);
    const yamlNpm = (
      JSON.parse(readFileSync(join(root, "node_modules/yaml/package.json"), "utf8")) as { version: string }
    ).version;

    const ps = await inventory(
      (all) =>
        pidsOf(find(all, "python", "PyYAML")).includes(py.pid) &&
        pidsOf(find(all, "python", "vigilprobe")).includes(py.pid) &&
        pidsOf(find(all, "npm", "yaml")).includes(node.pid),
    );
    const pyyaml = find(ps, "python", "PyYAML");
    assert.equal(pyyaml?.version, pyyamlVersion());
    assert.ok(pidsOf(pyyaml).includes(py.pid), `PyYAML loaded by ${py.pid}: ${JSON.stringify(pyyaml)}`);
    assert.equal(pyyaml?.host, true);
    assert.deepEqual(pyyaml?.containers, []);
    const probe = find(ps, "python", "vigilprobe");
    assert.equal(probe?.version, "1.2.3");
    assert.deepEqual(pidsOf(probe), [py.pid]);
    assert.deepEqual(probe?.locations, [`${site}vigilprobe`]);
    const yaml = find(ps, "npm", "yaml");
    assert.equal(yaml?.version, yamlNpm);
    // The vigil CLI answering these queries loads it too, from the same tree.
    assert.ok(pidsOf(yaml).includes(node.pid));
    assert.equal(yaml?.processes.find((x) => x.pid === node.pid)?.live, false);

    // Opens only the inventory asked for are not events.
    const opens = sensor.events().filter((e) => e.kind === "file.open");
    assert.deepEqual(
      opens.filter((e) => toJson(e).includes("node_modules/yaml") || toJson(e).includes(site)),
      [],
    );
  });

  test("a process that ran before the sensor: its mapped libraries, by Debian package and by Python distribution", async (t) => {
    if (!sensor || !sleeper?.pid) return t.skip("no kernel");
    const pid = sleeper.pid;
    const ps = await inventory((all) => pidsOf(find(all, "deb", "libyaml-0-2")).includes(pid));
    const libyaml = find(ps, "deb", "libyaml-0-2");
    assert.equal(libyaml?.version, debVersion("libyaml-0-2"));
    assert.ok(pidsOf(libyaml).includes(pid));
    assert.equal(libyaml?.processes.find((x) => x.pid === pid)?.live, true);
    assert.ok(pidsOf(find(ps, "python", "PyYAML")).includes(pid), "its C extension lies in PyYAML's tree");
    assert.ok(pidsOf(find(ps, "deb", "libc6")).includes(pid));

    const stats = cliJson<SensorStatistics>(sensor.socket, ["get-statistics"]);
    assert.ok(stats.packages && stats.packages.packages >= 4);
    assert.ok((stats.packages?.byEcosystem.deb ?? 0) >= 2);
    assert.equal(stats.packages?.dropped, 0);
  });
});
