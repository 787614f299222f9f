import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseStat, readProcess, seedFromProc } from "./proc-seed.js";

test("parseStat copes with spaces and parentheses in comm", () => {
  const stat = "4242 (my (odd) proc) S 4100 4242 4100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100";
  assert.deepEqual(parseStat(stat), { comm: "my (odd) proc", ppid: 4100, startTicks: 987654n });
  assert.equal(parseStat("garbage"), undefined);
});

function fixture(): { root: string; cgroupRoot: string } {
  const root = mkdtempSync(join(tmpdir(), "vigil-proc-"));
  const cgroupRoot = join(root, "cgroup");
  mkdirSync(join(cgroupRoot, "system.slice/app.service"), { recursive: true });
  const proc = join(root, "proc");
  const mk = (pid: number, ppid: number, comm: string, exe: string, cmdline: string[], cg: string) => {
    const dir = join(proc, String(pid));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "stat"),
      `${pid} (${comm}) S ${ppid} 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${pid * 100} 0 0\n`,
    );
    writeFileSync(join(dir, "status"), `Name:\t${comm}\nUid:\t1000\t1001\t1001\t1001\nGid:\t50\t51\t51\t51\n`);
    writeFileSync(join(dir, "cmdline"), cmdline.length ? `${cmdline.join("\0")}\0` : "");
    writeFileSync(join(dir, "cgroup"), `12:pids:/x\n0::${cg}\n`);
    symlinkSync(exe, join(dir, "exe"));
    symlinkSync("/tmp/work", join(dir, "cwd"));
  };
  mk(1, 0, "init", "/sbin/init", ["/sbin/init"], "/");
  mk(4100, 1, "bash", "/usr/bin/bash", ["-bash"], "/system.slice/app.service");
  mkdirSync(join(proc, "self"));
  mkdirSync(join(proc, "999")); // vanished: no stat
  return { root, cgroupRoot };
}

test("seeding reads every process directory of a proc tree", () => {
  const { root, cgroupRoot } = fixture();
  try {
    const actors = seedFromProc({ procRoot: join(root, "proc"), cgroupRoot });
    assert.deepEqual(
      actors.map((a) => a.pid).sort((a, b) => a - b),
      [1, 4100],
    );
    const bash = readProcess({ procRoot: join(root, "proc"), cgroupRoot }, 4100);
    assert.deepEqual(bash, {
      pid: 4100,
      ppid: 1,
      uid: 1000,
      gid: 50,
      euid: 1001,
      comm: "bash",
      exe: "/usr/bin/bash",
      args: ["-bash"],
      argsTruncated: false,
      cwd: "/tmp/work",
      cgroupId: statSync(join(cgroupRoot, "system.slice/app.service"), { bigint: true }).ino,
      startBoottime: 410000n * 10_000_000n,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("seeding the real /proc finds this process with its exe and args", () => {
  const me = readProcess({ procRoot: "/proc", cgroupRoot: undefined }, process.pid);
  assert.ok(me);
  assert.equal(me.exe, process.execPath);
  assert.equal(me.ppid, process.ppid);
  assert.ok(me.args.includes(process.argv[1] ?? ""), `args ${JSON.stringify(me.args)} hold this script`);
  assert.ok(me.startBoottime > 0n);
});
