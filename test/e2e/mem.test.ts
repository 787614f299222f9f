import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kernelDev } from "../../src/sensor/kernel/interest.js";
import { progs, type RunningSensor, requireKernel, startSensor, type WireEvent } from "./harness.js";

/** Runs a tester program and parses the JSON line it prints. */
function tester<T>(name: string, args: string[]): T {
  return JSON.parse(execFileSync(join(progs, name), args, { encoding: "utf8" })) as T;
}

type Part = Record<string, unknown>;

/** A value as it reads back from a JSON line: integers a double holds exactly are numbers. */
function wire(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(wire);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wire(v)]));
  return value;
}
const RWX = ["PROT_READ", "PROT_WRITE", "PROT_EXEC"];

describe("memory events from the real kernel", () => {
  let sensor: RunningSensor | undefined;
  let work: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    sensor = await startSensor(["--deliver-all"]);
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-mem-")));
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("mmap and mprotect asking for W+X are reported with their arguments, file and result; R+X is not", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const file = join(work, "wx-file");
    const out = tester<{
      pid: number;
      rx: string;
      anon: string;
      rw: string;
      mprotect: number;
      pkey_mprotect: number;
      fd: number;
      file: string;
      gone: string;
      gone_errno: number;
    }>("mem-wx", [file]);
    const mine = (e: WireEvent) => e.kind === "mem.exec_mapping" && e.process.pid === out.pid;
    // The failed mprotect is the tester's last request: once it is here, all of them are.
    await sensor.waitFor((e) => mine(e) && (e.mapping as Part).result === -out.gone_errno, "failed mprotect");
    const events = sensor.events().filter(mine);
    for (const e of events) {
      assert.equal(e.process.exe, join(progs, "mem-wx"));
      assert.equal(e.process.comm, "mem-wx");
      assert.equal(e.process.tid, out.pid);
    }
    const common = { path_truncated: false, prot: 7, prot_names: RWX };
    assert.deepEqual(
      events.map((e) => e.mapping),
      wire([
        {
          ...common,
          syscall: "mmap",
          address: 0n,
          length: 3n * 4096n,
          flags: 0x22,
          flag_names: ["MAP_PRIVATE", "MAP_ANONYMOUS"],
          fd: -1,
          path: null,
          pkey: null,
          result: BigInt(out.anon),
        },
        {
          ...common,
          syscall: "mprotect",
          address: BigInt(out.rw),
          length: 2n * 4096n,
          flags: 0,
          flag_names: [],
          fd: null,
          path: null,
          pkey: null,
          result: BigInt(out.mprotect),
        },
        {
          ...common,
          syscall: "pkey_mprotect",
          address: BigInt(out.rw),
          length: 4096n,
          flags: 0,
          flag_names: [],
          fd: null,
          path: null,
          pkey: -1,
          result: BigInt(out.pkey_mprotect),
        },
        {
          ...common,
          syscall: "mmap",
          address: 0n,
          length: 4096n,
          flags: 0x02,
          flag_names: ["MAP_PRIVATE"],
          fd: out.fd,
          path: file,
          pkey: null,
          result: BigInt(out.file),
        },
        {
          ...common,
          syscall: "mprotect",
          address: BigInt(out.gone),
          length: 4096n,
          flags: 0,
          flag_names: [],
          fd: null,
          path: null,
          pkey: null,
          result: -12n,
        },
      ]),
      "exactly the five W+X requests, in order (the R+X mmap is not one of them)",
    );
    assert.equal(out.gone_errno, 12, "ENOMEM");
    assert.equal(out.mprotect, 0);
  });

  test("32-bit syscalls numbered as x86-64's mmap and mprotect are not taken for them", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{ pid: number; link: number; unlink: number; mmap: string; skipped?: boolean }>(
      "mem-compat",
      [],
    );
    if (out.skipped || out.link === -38) return t.skip("no ia32 syscalls here");
    assert.deepEqual([out.link, out.unlink], [-2, -2], "ia32 link and unlink ran, on names that do not exist");
    const mine = (e: WireEvent) => e.kind === "mem.exec_mapping" && e.process.pid === out.pid;
    const result = wire(BigInt(out.mmap));
    await sensor.waitFor((e) => mine(e) && (e.mapping as Part).result === result, "the 64-bit mmap");
    assert.deepEqual(
      sensor
        .events()
        .filter(mine)
        .map((e) => (e.mapping as Part).syscall),
      ["mmap"],
    );
  });

  test("memfd_create reports name, flags and the fd; a name too long fails with EINVAL, cut and flagged", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{ pid: number; fd: number; ino: string; dev: string; long_name_errno: number }>("mem-memfd", [
      "memfd",
      "vigil-test",
    ]);
    const created = await sensor.waitFor(
      (e) => e.kind === "mem.memfd_create" && e.process.pid === out.pid && (e.memfd as Part).result === out.fd,
      "memfd_create",
    );
    assert.deepEqual(created.memfd, {
      name: "vigil-test",
      name_truncated: false,
      flags: 1,
      flag_names: ["MFD_CLOEXEC"],
      result: out.fd,
    });
    assert.equal(created.process.exe, join(progs, "mem-memfd"));
    const failed = sensor
      .events()
      .filter((e) => e.kind === "mem.memfd_create" && e.process.pid === out.pid && e.time < created.time);
    assert.equal(out.long_name_errno, 22);
    assert.deepEqual(
      failed.map((e) => e.memfd),
      [{ name: "n".repeat(255), name_truncated: true, flags: 0, flag_names: [], result: -22 }],
    );
  });

  test("running a memfd (fexecve) is a fileless process.exec and a mem.memfd_exec", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{ pid: number; ino: string; dev: string }>("mem-memfd", ["memfd", "vigil-fileless"]);
    const exec = await sensor.waitFor(
      (e) => e.kind === "process.exec" && e.process.pid === out.pid && e.process.args[0] === "fileless",
      "exec of the memfd",
    );
    const expected = wire({
      old_tid: out.pid,
      inode: BigInt(out.ino),
      dev: kernelDev(BigInt(out.dev)),
      fileless: true,
    });
    assert.deepEqual(exec.exec, expected);
    assert.equal(exec.process.exe, "/memfd:vigil-fileless");
    assert.deepEqual(exec.process.args, ["fileless", "memfd"]);
    const memfdExec = await sensor.waitFor(
      (e) => e.kind === "mem.memfd_exec" && e.process.pid === out.pid,
      "mem.memfd_exec",
    );
    assert.deepEqual(memfdExec.exec, expected);
    assert.deepEqual(memfdExec.process, exec.process);
    assert.equal(memfdExec.time, exec.time);
  });

  test("running an unlinked file is fileless too; its path is the one it had", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const path = join(work, "deleted-true");
    const out = tester<{ pid: number; ino: string; dev: string }>("mem-memfd", ["deleted", path]);
    const exec = await sensor.waitFor(
      (e) => e.kind === "process.exec" && e.process.pid === out.pid && e.process.args[0] === "fileless",
      "exec of the unlinked file",
    );
    assert.deepEqual(
      exec.exec,
      wire({ old_tid: out.pid, inode: BigInt(out.ino), dev: kernelDev(BigInt(out.dev)), fileless: true }),
    );
    assert.equal(exec.process.exe, path);
    await sensor.waitFor((e) => e.kind === "mem.memfd_exec" && e.process.pid === out.pid, "mem.memfd_exec");
  });

  test("an ordinary exec is not fileless", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = tester<{ pid: number }>("mem-wx", [join(work, "wx-again")]);
    const exec = await sensor.waitFor((e) => e.kind === "process.exec" && e.process.pid === out.pid, "exec of mem-wx");
    assert.equal((exec.exec as Part).fileless, false);
    assert.ok(!sensor.events().some((e) => e.kind === "mem.memfd_exec" && e.process.pid === out.pid));
  });
});
