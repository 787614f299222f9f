import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { query } from "../../src/cli/client.js";
import type { EnforcementReport } from "../../src/sensor/enforce/index.js";
import { kernelBridge } from "../../src/sensor/kernel/bridge.js";
import { policyFile, progs, type RunningSensor, reloadPolicies, run, startSensor, vigil } from "../e2e/harness.js";

// Runs inside the guest kernel (guest.test.ts boots it), where BPF-LSM programs attach: each
// deny rule is decided by an LSM hook and the call fails with EPERM before it takes effect.

const execFileAsync = promisify(execFile);

describe("BPF-LSM enforcement in the guest kernel", () => {
  let work: string;
  let policies: string;
  let sensor: RunningSensor | undefined;
  const mounted: string[] = [];
  const f = (name: string) => join(work, name);

  before(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-lsm-")));
    policies = f("policies");
    mkdirSync(policies);
    mkdirSync(f("bin"));
    copyFileSync(join(progs, "enforce-marker"), f("bin/denied"));
    copyFileSync(join(progs, "enforce-marker"), f("bin/allowed"));
    for (const name of ["secret", "keep-unlink", "keep-rename", "keep-chmod", "other"]) writeFileSync(f(name), name);
    chmodSync(f("keep-chmod"), 0o644);

    // An overlay whose lower layer is a filesystem of its own: stat() on the merged file gives
    // a device no hook sees. The hard link in the layer is the same file under another name.
    const ovl = f("ovl");
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(ovl, d), { recursive: true });
    kernelBridge().mount("tmpfs", join(ovl, "lower"), "tmpfs", 0, null);
    mounted.push(join(ovl, "lower"));
    writeFileSync(join(ovl, "lower/file"), "lower secret");
    linkSync(join(ovl, "lower/file"), join(ovl, "lower/link"));
    writeFileSync(join(ovl, "lower/free"), "free");
    const options = `lowerdir=${ovl}/lower,upperdir=${ovl}/upper,workdir=${ovl}/work`;
    kernelBridge().mount("overlay", join(ovl, "merged"), "overlay", 0, options);
    mounted.push(join(ovl, "merged"));

    const rules: [string, Record<string, unknown>][] = [
      ["exec", { id: "no-denied", on: "process.exec", when: `process.exe == '${f("bin/denied")}'` }],
      ["open", { id: "no-secret", on: "file.open", when: `file.path in ['${f("secret")}', '${ovl}/merged/file']` }],
      ["unlink", { id: "keep-unlink", on: "file.unlink", when: `file.path == '${f("keep-unlink")}'` }],
      [
        "rename",
        {
          id: "keep-rename",
          on: "file.rename",
          when: `file.old_path == '${f("keep-rename")}' || file.new_path == '${f("keep-rename")}'`,
        },
      ],
      ["chmod", { id: "keep-chmod", on: "file.chmod", when: `file.path == '${f("keep-chmod")}'` }],
      ["connect", { id: "no-port", on: "net.connect", when: "net.remote.port == 47312" }],
    ];
    for (const [name, rule] of rules) policyFile(policies, name, { action: "deny", ...rule });
    sensor = await startSensor(["--policies", policies], [], 90_000);
  });

  after(async () => {
    await sensor?.stop();
    for (const m of mounted.reverse()) spawnSync("umount", [m]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const status = async () => (await query(sensor?.socket ?? "", "enforcement")) as EnforcementReport;

  test("policy status: exec and the file kinds are enforced by lsm", async () => {
    const report = await status();
    assert.ok(report.inUse.includes("lsm"), `paths in use: ${report.inUse.join(", ")}`);
    const paths = Object.fromEntries(report.rules.map((r) => [r.rule, r.path]));
    assert.deepEqual(paths, {
      "no-denied": "lsm",
      "no-secret": "lsm",
      "keep-unlink": "lsm",
      "keep-rename": "lsm",
      "keep-chmod": "lsm",
      // The cgroup socket programs are preferred where cgroup v2 is: the same EPERM.
      "no-port": "cgroup_sock",
    });
  });

  test("the denied binary never runs: by its path, a hard link, a symlink, or ld.so", async () => {
    linkSync(f("bin/denied"), f("hard-link"));
    symlinkSync(f("bin/denied"), f("sym-link"));
    const direct = await run(f("bin/denied"), [f("marker-path")]).catch((e: NodeJS.ErrnoException) => e);
    assert.equal((direct as NodeJS.ErrnoException).code, "EPERM", "execve fails with EPERM");
    await run(f("hard-link"), [f("marker-hard")]).catch(() => undefined);
    await run(f("sym-link"), [f("marker-sym")]).catch(() => undefined);
    // ld.so maps the program itself: no exec of it happens, its mmap for execution is refused.
    const loader = spawnSync("/lib64/ld-linux-x86-64.so.2", [f("bin/denied"), f("marker-ldso")]);
    assert.notEqual(loader.status, 0);
    for (const m of ["path", "hard", "sym", "ldso"])
      assert.equal(existsSync(f(`marker-${m}`)), false, `the binary ran (${m})`);
    const allowed = await run(f("bin/allowed"), [f("marker-allowed")]);
    assert.equal(allowed.code, 0);
    assert.equal(existsSync(f("marker-allowed")), true);
    const alert = await (sensor as RunningSensor).waitFor(
      (e) => e.kind === "alert" && (e.rule as { id: string }).id === "no-denied",
      "the exec alert",
    );
    assert.equal(alert.outcome, "prevented");
  });

  test("the protected file's content is never read: open fails with EPERM, by name or symlink", async () => {
    assert.throws(() => readFileSync(f("secret")), { code: "EPERM" });
    symlinkSync(f("secret"), f("secret-link"));
    assert.throws(() => readFileSync(f("secret-link")), { code: "EPERM" });
    assert.equal(readFileSync(f("other"), "utf8"), "other");
    const alert = await (sensor as RunningSensor).waitFor(
      (e) => e.kind === "alert" && (e.rule as { id: string }).id === "no-secret",
      "the open alert",
    );
    assert.equal(alert.outcome, "prevented");
    assert.equal((alert.events as { file: { path: string } }[])[0]?.file.path, f("secret"));
  });

  test("overlayfs: the merged file is denied by name and through a hard link of its layer", () => {
    const merged = f("ovl/merged");
    assert.throws(() => readFileSync(join(merged, "file")), { code: "EPERM" });
    // Another name of the same layer file: only its identity names it.
    assert.throws(() => readFileSync(join(merged, "link")), { code: "EPERM" });
    assert.equal(readFileSync(join(merged, "free"), "utf8"), "free");
  });

  test("a denied unlink, rename or chmod leaves the file as it was", async () => {
    assert.throws(() => unlinkSync(f("keep-unlink")), { code: "EPERM" });
    assert.equal(readFileSync(f("keep-unlink"), "utf8"), "keep-unlink");
    assert.throws(() => renameSync(f("keep-rename"), f("renamed")), { code: "EPERM" });
    writeFileSync(f("intruder"), "intruder");
    assert.throws(() => renameSync(f("intruder"), f("keep-rename")), { code: "EPERM" });
    assert.equal(readFileSync(f("keep-rename"), "utf8"), "keep-rename");
    assert.equal(existsSync(f("renamed")), false);
    assert.throws(() => chmodSync(f("keep-chmod"), 0o4777), { code: "EPERM" });
    assert.equal(statSync(f("keep-chmod")).mode & 0o7777, 0o644);
    // Other files are untouched by the rules.
    unlinkSync(f("other"));
    const s = sensor as RunningSensor;
    for (const id of ["keep-unlink", "keep-rename", "keep-chmod"])
      await s.waitFor((e) => e.kind === "alert" && (e.rule as { id: string }).id === id, `the ${id} alert`);
  });

  test("a denied connect fails with EPERM and the listener sees nothing", async () => {
    let accepted = 0;
    const server = createServer((c) => {
      accepted++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(47312, "127.0.0.1", r));
    try {
      const { stdout } = await execFileAsync(join(progs, "enforce-net"), ["connect", "127.0.0.1", "47312", "3"]);
      const out = JSON.parse(stdout) as { ok: number; EPERM: number };
      assert.deepEqual([out.ok, out.EPERM], [0, 3]);
      assert.equal(accepted, 0);
    } finally {
      server.close();
    }
  });

  test("a reload under a loop of denied opens never lets one through", async () => {
    const s = sensor as RunningSensor;
    let opened = 0;
    let refused = 0;
    let reloading = true;
    const loop = (async () => {
      while (reloading) {
        try {
          closeSync(openSync(f("secret"), "r"));
          opened++;
        } catch {
          refused++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    let reloads = 0;
    try {
      for (let i = 0; i < 3; i++) {
        // Each reload changes the rule (a file more or less), so that new tables are written.
        const extra = i % 2 === 0 ? `, '${f("other")}'` : "";
        policyFile(policies, "open", {
          id: "no-secret",
          on: "file.open",
          when: `file.path in ['${f("secret")}'${extra}]`,
          action: "deny",
        });
        if (await reloadPolicies(s, 30_000)) reloads++;
      }
    } finally {
      reloading = false;
      await loop;
    }
    assert.equal(reloads, 3, "the policies were reloaded");
    assert.equal(opened, 0, `${opened} opens got through during reloads`);
    assert.ok(refused > 0);
  });

  // Last: the sensor is gone after it. A restart is tested on the host (e2e/protect.test.ts),
  // where a start does not cost half a minute of emulation.
  test("kill -9 of the sensor removes its LSM programs whole", async () => {
    const s = sensor as RunningSensor;
    s.proc.kill("SIGKILL");
    await new Promise((r) => s.proc.once("exit", r));
    sensor = undefined;
    // The links were the sensor's fds: the kernel detached every program with them.
    const programs = spawnSync("bpftool", ["prog", "show"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(programs, /vg_enforce_/);
    assert.equal(readFileSync(f("secret"), "utf8"), "secret");
    unlinkSync(f("keep-unlink"));
  });
});

describe("self-protection with BPF-LSM", () => {
  let work: string;
  let sensor: RunningSensor | undefined;

  before(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-protect-")));
    const policies = join(work, "policies");
    mkdirSync(policies);
    writeFileSync(join(work, "secret"), "secret");
    policyFile(policies, "open", {
      id: "no-secret",
      on: "file.open",
      when: `file.path == '${join(work, "secret")}'`,
      action: "deny",
    });
    sensor = await startSensor(["--policies", policies, "--protect-self"], [], 90_000);
  });

  after(async () => {
    const s = sensor;
    if (s && s.proc.exitCode === null) {
      // Its signals are refused: it is stopped through its control socket.
      spawnSync(vigil, ["stop", "--socket", s.socket]);
      await new Promise((r) => s.proc.once("exit", r));
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("kill -9, ptrace reads, writes to its policies and detaching its links are refused", async () => {
    const s = sensor as RunningSensor;
    const pid = s.proc.pid as number;
    assert.throws(() => process.kill(pid, "SIGKILL"), { code: "EPERM" });
    assert.throws(() => process.kill(pid, "SIGTERM"), { code: "EPERM" });
    assert.throws(() => readFileSync(`/proc/${pid}/environ`));
    const policy = join(work, "policies/open.json");
    assert.throws(() => writeFileSync(policy, "{}"), { code: "EPERM" });
    assert.throws(() => unlinkSync(policy), { code: "EPERM" });
    assert.throws(() => renameSync(policy, join(work, "moved.json")), { code: "EPERM" });
    // Every link of the sensor's is refused to bpftool; each id it names is tried.
    const list = spawnSync("bpftool", ["link", "list"], { encoding: "utf8" });
    const ids = [...`${list.stdout}${list.stderr}`.matchAll(/can't get link by id \((\d+)\)/g)].map((m) => m[1]);
    assert.ok(ids.length > 0, "bpftool was refused the sensor's links");
    for (const id of ids) {
      const detach = spawnSync("bpftool", ["link", "detach", "id", id as string], { encoding: "utf8" });
      assert.notEqual(detach.status, 0);
    }
    assert.throws(() => readFileSync(join(work, "secret")), { code: "EPERM" });
    assert.equal(s.proc.exitCode, null, "the sensor still runs");
    const alert = await s.waitFor(
      (e) => e.kind === "alert" && (e.rule as { id: string }).id === "self-protection" && e.outcome === "prevented",
      "a self-protection alert",
    );
    assert.equal(alert.action, "deny");
    const report = (await query(s.socket, "enforcement")) as EnforcementReport;
    assert.equal(report.selfProtection?.mode, "refused");
  });
});
