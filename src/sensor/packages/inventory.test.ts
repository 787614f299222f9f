import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { capturedLogger } from "../sinks/sample-alert.js";
import { actor, dpkgDatabase, goBinary, jar, nodePackage, put, pythonDist } from "./fixtures.js";
import { type LoadedPackage, PackageInventory, packageFile } from "./inventory.js";

const dir = mkdtempSync(join(tmpdir(), "vigil-inventory-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const brief = (ps: LoadedPackage[]) => ps.map((p) => `${p.ecosystem} ${p.name} ${p.version}`);

test("a file is a package's when it lies in a package tree or is an archive or a library", () => {
  assert.equal(packageFile("/usr/lib/python3/dist-packages/yaml/x.so")?.kind, "python");
  assert.equal(packageFile("/app/node_modules/addon/build/Release/a.node")?.kind, "npm");
  assert.equal(packageFile("/srv/lib/app.jar")?.kind, "jar");
  assert.equal(packageFile("/usr/lib/x86_64-linux-gnu/libz.so.1")?.kind, "so");
  assert.equal(packageFile("/etc/passwd"), undefined);
});

describe("on the host", () => {
  const site = join(dir, "host/lib/python3.11/site-packages/");
  pythonDist(site, "PyYAML", "6.0.1", ["yaml/__init__.py", "yaml/cyaml.py"]);
  const modules = join(dir, "host/app/node_modules/");
  const leftPad = nodePackage(modules, "left-pad", "1.3.0");

  test("opens of Python, Node.js and Java files and a Go executable: each package with the processes that loaded it", async () => {
    const inventory = new PackageInventory({ now: () => 1000 });
    const py = actor("/usr/bin/python3.11");
    const node = actor("/usr/bin/node");
    inventory.opened(py, `${site}yaml/__init__.py`);
    inventory.opened(py, `${site}yaml/cyaml.py`);
    inventory.opened(py, `${site}yaml/__pycache__/cyaml.cpython-311.pyc`);
    inventory.opened(node, leftPad);
    inventory.opened(node, "/etc/hosts");
    const java = actor("/usr/bin/java");
    inventory.opened(
      java,
      await jar(join(dir, "host/lib/snakeyaml.jar"), {
        "META-INF/maven/org.yaml/snakeyaml/pom.properties": "groupId=org.yaml\nartifactId=snakeyaml\nversion=2.2\n",
      }),
    );
    const server = put(
      dir,
      "host/bin/server",
      goBinary("go1.22.5", ["mod\texample.com/app\tv1.0.0\t", "dep\tgithub.com/pkg/errors\tv0.9.1\th1:x="]),
    );
    inventory.executed(actor(server));
    await inventory.settled();
    const all = inventory.packages();
    assert.deepEqual(brief(all), [
      "go example.com/app v1.0.0",
      "go github.com/pkg/errors v0.9.1",
      "maven org.yaml:snakeyaml 2.2",
      "npm left-pad 1.3.0",
      "python PyYAML 6.0.1",
    ]);
    const yaml = all.find((p) => p.name === "PyYAML");
    assert.deepEqual(
      yaml?.processes.map((p) => p.pid),
      [py.pid],
    );
    assert.equal(yaml?.processCount, 1);
    assert.deepEqual(yaml?.locations, [`${site}yaml`]);
    assert.equal(yaml?.host, true);
    assert.deepEqual(yaml?.containers, []);
    const s = inventory.statistics();
    assert.equal(s.filesRead, 4, "the site directory once, package.json, the jar, the executable");
    assert.equal(s.sightings, 6);
    assert.deepEqual(s.byEcosystem, { python: 1, npm: 1, maven: 1, go: 2 });
  });

  test("a second process adds itself; first and last seen follow the clock", async () => {
    let now = 1000;
    const inventory = new PackageInventory({ now: () => now });
    const a = actor("/usr/bin/node");
    const b = actor("/usr/bin/node");
    inventory.opened(a, leftPad);
    await inventory.settled();
    now = 5000;
    inventory.opened(b, leftPad);
    inventory.opened(a, leftPad);
    const [pkg] = inventory.packages();
    assert.equal(pkg?.firstSeen, 1000);
    assert.equal(pkg?.lastSeen, 5000);
    assert.deepEqual(pkg?.processes.map((p) => p.pid).sort(), [a.pid, b.pid].sort());
    assert.equal(pkg?.processCount, 2);
  });

  test("corrupt metadata is logged once with its file and counted; the sensor goes on", async () => {
    const { logger, lines } = capturedLogger();
    const inventory = new PackageInventory({ logger });
    put(modules, "broken/package.json", '{"name": "broken"}');
    const node = actor("/usr/bin/node");
    inventory.opened(node, `${modules}broken/index.js`);
    inventory.opened(node, `${modules}broken/other.js`);
    inventory.opened(node, leftPad);
    await inventory.settled();
    assert.deepEqual(brief(inventory.packages()), ["npm left-pad 1.3.0"]);
    const warned = lines().filter((l) => l.level === 40);
    assert.deepEqual(
      warned.map((l) => [l.file, l.problem]),
      [[`${modules}broken/package.json`, "no version"]],
    );
    assert.equal(inventory.statistics().unreadable, 1);
    assert.equal(inventory.statistics().filesRead, 2, "the broken package's directory is read once");
  });
});

describe("in a container", () => {
  // A container's root as /proc/<pid>/root shows it: its own site-packages and dpkg database.
  const procRoot = join(dir, "proc");
  const containerRoot = (pid: number) => {
    const root = join(procRoot, String(pid), "root");
    pythonDist(join(root, "usr/local/lib/python3.12/site-packages/"), "requests", "2.32.3", ["requests/__init__.py"]);
    dpkgDatabase(root, [
      { name: "libssl3", version: "3.0.15-1~deb12u1", arch: "amd64", files: ["/usr/lib/x86_64-linux-gnu/libssl.so.3"] },
    ]);
    return root;
  };

  test("files are read through the process's root; the package names the container", async () => {
    const inventory = new PackageInventory({ procRoot });
    const py = actor("/usr/local/bin/python3", "c0ffee");
    containerRoot(py.pid);
    inventory.opened(py, "/usr/local/lib/python3.12/site-packages/requests/__init__.py");
    inventory.opened(py, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
    await inventory.settled();
    const all = inventory.packages();
    assert.deepEqual(brief(all), ["deb libssl3 3.0.15-1~deb12u1", "python requests 2.32.3"]);
    for (const p of all) {
      assert.deepEqual(p.containers, ["c0ffee"]);
      assert.equal(p.host, false);
      assert.equal(p.processes[0]?.container, "c0ffee");
    }
  });

  test("a process gone before its files are read: through another live process of its container, else dropped", async () => {
    const survivor = actor("/bin/sh", "beef");
    containerRoot(survivor.pid);
    const gone = actor("/usr/local/bin/python3", "beef");
    const inventory = new PackageInventory({ procRoot, livePidOf: (id) => (id === "beef" ? survivor.pid : undefined) });
    inventory.opened(gone, "/usr/local/lib/python3.12/site-packages/requests/api.py");
    const orphan = actor("/usr/local/bin/python3", "dead");
    inventory.opened(orphan, "/usr/local/lib/python3.12/site-packages/requests/api.py");
    await inventory.settled();
    assert.deepEqual(
      inventory.packages().map((p) => [p.name, p.processes.map((x) => x.pid)]),
      [["requests", [gone.pid]]],
    );
    assert.equal(inventory.statistics().dropped, 1);
  });
});

describe("mappings", () => {
  test("read at start-up and again after exec, while the process runs that program", async () => {
    const procRoot = join(dir, "maps-proc");
    const root = join(dir, "maps-host");
    const lib = join(root, "opt/vendor/lib/libvendor.so.1");
    const archive = await jar(join(root, "opt/app/lib/guava.jar"), {
      "META-INF/maven/com.google.guava/guava/pom.properties":
        "groupId=com.google.guava\nartifactId=guava\nversion=33.0.0-jre\n",
    });
    put(root, "opt/vendor/lib/libvendor.so.1", "ELF");
    const java = actor("/usr/lib/jvm/bin/java");
    mkdirSync(join(procRoot, String(java.pid), "fd"), { recursive: true });
    writeFileSync(join(procRoot, String(java.pid), "maps"), `7f00-7f01 r-xp 0 fe:01 4 ${lib}\n`);
    const { symlinkSync } = await import("node:fs");
    symlinkSync(archive, join(procRoot, String(java.pid), "fd", "5"));
    const inventory = new PackageInventory({ procRoot });
    await inventory.scanAll([java]);
    await inventory.settled();
    assert.deepEqual(brief(inventory.packages()), ["maven com.google.guava:guava 33.0.0-jre"]);
    assert.equal(
      inventory.statistics().unowned,
      2,
      "the JVM's executable is not Go; the vendor library is no package's",
    );

    const gone = actor("/bin/true");
    const replaced = actor("/bin/sh");
    inventory.executed(gone);
    inventory.executed(replaced);
    writeFileSync(join(procRoot, String(java.pid), "maps"), "");
    const scansBefore = inventory.statistics().scans;
    await inventory.rescan((pid) => (pid === replaced.pid ? { ...replaced, startBoottime: 1n } : undefined));
    assert.equal(inventory.statistics().scans, scansBefore, "neither still runs the program it exec'd");
  });
});

test("bounded: the least recently seen package is forgotten at the limit, and processes per package", async () => {
  const modules = join(dir, "bounded/node_modules/");
  const files = ["a", "b", "c"].map((n) => nodePackage(modules, n, "1.0.0"));
  const inventory = new PackageInventory({ limits: { maxPackages: 2, maxProcessesPerPackage: 2 } });
  const p = [actor("/n"), actor("/n"), actor("/n")];
  for (const a of p) inventory.opened(a, files[0] as string);
  await inventory.settled();
  inventory.opened(p[0] as never, files[1] as string);
  await inventory.settled();
  inventory.opened(p[0] as never, files[0] as string);
  inventory.opened(p[0] as never, files[2] as string);
  await inventory.settled();
  assert.deepEqual(
    inventory.packages().map((x) => x.name),
    ["a", "c"],
  );
  const a = inventory.packages()[0];
  assert.equal(a?.processes.length, 2);
  assert.equal(a?.processCount, 4, "the first process was forgotten, then seen again");
  assert.equal(inventory.statistics().evictedPackages, 1);
});

test("a package upgraded in place is read again at its next load once what was read is older than the limit", async () => {
  const modules = join(dir, "upgrade/node_modules/");
  const file = nodePackage(modules, "lodash", "4.17.20");
  let now = 0;
  const inventory = new PackageInventory({ now: () => now, limits: { fileTtlMs: 1000 } });
  const node = actor("/usr/bin/node");
  inventory.opened(node, file);
  await inventory.settled();
  nodePackage(modules, "lodash", "4.17.21");
  now = 999;
  inventory.opened(node, file);
  await inventory.settled();
  assert.deepEqual(brief(inventory.packages()), ["npm lodash 4.17.20"]);
  now = 1000;
  inventory.opened(node, file);
  await inventory.settled();
  assert.deepEqual(brief(inventory.packages()), ["npm lodash 4.17.20", "npm lodash 4.17.21"]);
  assert.equal(inventory.statistics().filesRead, 2);
});
