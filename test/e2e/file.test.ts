import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kernelDev } from "../../src/sensor/kernel/interest.js";
import { SENSOR_OBJECTS } from "../../src/sensor/kernel/preflight.js";
import { progs, type RunningSensor, requireKernel, startSensor, type WireEvent } from "./harness.js";

const FILE_KINDS = [
  "file.open",
  "file.unlink",
  "file.rename",
  "file.chmod",
  "file.chown",
  "file.link",
  "file.symlink",
  "file.mkdir",
  "file.truncate",
];

// include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const RENAME_NOREPLACE = 1;

interface TesterOutput {
  pid: number;
  dirfd?: number;
  fd?: number;
  calls: Record<string, number>;
}

/** Runs test/progs/bin/NAME DIR with DIR as its cwd; returns what it printed. */
function tester(name: string, dir: string): TesterOutput {
  return JSON.parse(execFileSync(join(progs, name), [dir], { cwd: dir, encoding: "utf8" })) as TesterOutput;
}

/** Writes an interest spec to a file of its own; returns its path. */
function interestFile(dir: string, spec: unknown): string {
  const path = join(dir, "interest.json");
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `count` events match, in the order they arrived. */
async function waitForAll(
  sensor: RunningSensor,
  match: (e: WireEvent) => boolean,
  count: number,
  what: string,
): Promise<WireEvent[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const found = sensor.events().filter(match);
    if (found.length >= count) return found;
    if (Date.now() > until) throw new Error(`${found.length} of ${count} events: ${what}`);
    await sleep(50);
  }
}

/** The `file` part of the tester's events of one kind, in call order. */
async function fileParts(sensor: RunningSensor, kind: string, out: TesterOutput, count: number, exe: string) {
  const events = await waitForAll(sensor, (e) => e.kind === kind && e.process.pid === out.pid, count, kind);
  for (const e of events) {
    assert.equal(e.process.exe, exe);
    assert.equal(e.process.tid, out.pid);
  }
  return events.map((e) => e.file as Record<string, unknown>);
}

const ok = { result: 0, error: null };
const enoent = { result: -2, error: "ENOENT" };

// Both builds of the sensor's object (see SENSOR_OBJECTS): this kernel loads either.
for (const object of Object.values(SENSOR_OBJECTS)) {
  describe(`file events from the real kernel (${object})`, () => {
    let sensor: RunningSensor | undefined;
    let work: string;
    let dir: (name: string) => string;

    before(async (t) => {
      if (!requireKernel(t as never)) return;
      work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-file-")));
      dir = (name) => {
        const d = join(work, name);
        mkdirSync(d);
        return d;
      };
      // Only what happens under the work directory, so the rest of the host stays out.
      const kinds = Object.fromEntries(
        FILE_KINDS.map((k) => [k, { enabled: true, pathDefault: "none", paths: { [`${work}/`]: "any" } }]),
      );
      sensor = await startSensor(["--interest", interestFile(work, { kinds })], ["env", `VIGIL_BPF_OBJECT=${object}`]);
    });

    after(async () => {
      if (sensor) {
        await sensor.stop();
        const stopped = sensor.logs().find((l) => l.msg === "sensor stopped");
        assert.deepEqual(stopped?.decodeErrors, { truncated: 0, unknown_op: 0, malformed: 0 });
      }
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test("file.open: open, openat, openat2 and creat, through a dirfd, a symlink and '..', and failures", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("open");
      mkdirSync(join(d, "sub"));
      symlinkSync("a", join(d, "link"));
      const out = tester("file-open", d);
      const c = out.calls;
      const exe = realpathSync(join(progs, "file-open"));
      const parts = await fileParts(sensor, "file.open", out, 10, exe);
      const a = statSync(join(d, "a"), { bigint: true });
      const b = statSync(join(d, "b"), { bigint: true });
      const dirSt = statSync(d, { bigint: true });
      const opened = (st: typeof a, result: number | undefined) => ({
        path_truncated: false,
        inode: Number(st.ino),
        dev: kernelDev(st.dev),
        result,
        error: null,
      });
      const read = { write: false, create: false, truncate: false, mode: null };
      const failed = { path_truncated: false, inode: 0, dev: 0, ...enoent };
      assert.deepEqual(parts, [
        // The tester's own open of its dirfd (glibc's open() is openat).
        { syscall: "openat", path: d, requested: d, flags: O_DIRECTORY, ...read, ...opened(dirSt, out.dirfd) },
        {
          syscall: "open",
          path: join(d, "a"),
          requested: join(d, "a"),
          flags: O_WRONLY | O_CREAT | O_TRUNC,
          write: true,
          create: true,
          truncate: true,
          mode: 0o640,
          ...opened(a, c.open_create),
        },
        {
          syscall: "openat",
          path: join(d, "a"),
          requested: "a",
          flags: O_CLOEXEC,
          ...read,
          ...opened(a, c.openat_cwd),
        },
        {
          syscall: "openat",
          path: join(d, "a"),
          requested: "a",
          flags: O_RDWR | O_APPEND,
          ...read,
          write: true,
          ...opened(a, c.openat_dirfd),
        },
        { syscall: "openat2", path: join(d, "a"), requested: "a", flags: 0, ...read, ...opened(a, c.openat2) },
        {
          syscall: "creat",
          path: join(d, "b"),
          requested: join(d, "b"),
          flags: O_CREAT | O_WRONLY | O_TRUNC,
          write: true,
          create: true,
          truncate: true,
          mode: 0o600,
          ...opened(b, c.creat),
        },
        // The file reached, not the link.
        {
          syscall: "open",
          path: join(d, "a"),
          requested: join(d, "link"),
          flags: 0,
          ...read,
          ...opened(a, c.open_symlink),
        },
        {
          syscall: "openat",
          path: join(d, "a"),
          requested: "sub/../a",
          flags: 0,
          ...read,
          ...opened(a, c.openat_dotdot),
        },
        // A failed open reports the path asked for, made absolute, and its errno.
        { syscall: "open", path: join(d, "missing"), requested: join(d, "missing"), flags: 0, ...read, ...failed },
        {
          syscall: "openat",
          path: join(d, "nodir/x"),
          requested: "nodir/x",
          flags: O_WRONLY | O_CREAT,
          write: true,
          create: true,
          truncate: false,
          mode: 0o600,
          ...failed,
        },
      ]);
      assert.equal(c.open_missing, -2);
    });

    test("file.unlink: unlink, unlinkat (with AT_REMOVEDIR) and rmdir", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("unlink");
      for (const f of ["u1", "u2"]) writeFileSync(join(d, f), "");
      for (const f of ["d1", "d2"]) mkdirSync(join(d, f));
      const out = tester("file-unlink", d);
      const parts = await fileParts(sensor, "file.unlink", out, 5, realpathSync(join(progs, "file-unlink")));
      const p = (path: string) => ({ path: join(d, path), path_truncated: false });
      assert.deepEqual(parts, [
        { syscall: "unlink", ...p("u1"), directory: false, flags: 0, ...ok },
        { syscall: "unlinkat", ...p("u2"), directory: false, flags: 0, ...ok },
        { syscall: "unlinkat", ...p("d1"), directory: true, flags: AT_REMOVEDIR, ...ok },
        { syscall: "rmdir", ...p("d2"), directory: true, flags: 0, ...ok },
        { syscall: "unlink", ...p("missing"), directory: false, flags: 0, ...enoent },
      ]);
    });

    test("file.rename: rename, renameat and renameat2 with their flags", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("rename");
      for (const f of ["r1", "r2", "r3"]) writeFileSync(join(d, f), "");
      const out = tester("file-rename", d);
      const parts = await fileParts(sensor, "file.rename", out, 4, realpathSync(join(progs, "file-rename")));
      const p = (from: string, to: string) => ({
        old_path: join(d, from),
        old_path_truncated: false,
        new_path: join(d, to),
        new_path_truncated: false,
      });
      assert.deepEqual(parts, [
        { syscall: "rename", ...p("r1", "r1b"), flags: 0, ...ok },
        { syscall: "renameat", ...p("r2", "r2b"), flags: 0, ...ok },
        { syscall: "renameat2", ...p("r3", "r3b"), flags: RENAME_NOREPLACE, ...ok },
        { syscall: "rename", ...p("missing", "r1b"), flags: 0, ...enoent },
      ]);
    });

    test("file.chmod: chmod, fchmod (the fd's path), fchmodat and fchmodat2", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("chmod");
      writeFileSync(join(d, "c1"), "");
      const out = tester("file-chmod", d);
      const parts = await fileParts(sensor, "file.chmod", out, 5, realpathSync(join(progs, "file-chmod")));
      const c1 = { path: join(d, "c1"), path_truncated: false };
      assert.deepEqual(parts, [
        { syscall: "chmod", ...c1, fd: null, mode: 0o4755, flags: 0, ...ok },
        { syscall: "fchmod", ...c1, fd: out.fd, mode: 0o640, flags: 0, ...ok },
        { syscall: "fchmodat", ...c1, fd: null, mode: 0o604, flags: 0, ...ok },
        { syscall: "fchmodat2", ...c1, fd: null, mode: 0o600, flags: AT_SYMLINK_NOFOLLOW, ...ok },
        {
          syscall: "chmod",
          path: join(d, "missing"),
          path_truncated: false,
          fd: null,
          mode: 0o600,
          flags: 0,
          ...enoent,
        },
      ]);
      assert.equal(statSync(join(d, "c1")).mode & 0o7777, 0o600);
    });

    test("file.chown: chown, lchown, fchown (the fd's path) and fchownat, -1 keeping an id", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("chown");
      writeFileSync(join(d, "o1"), "");
      const out = tester("file-chown", d);
      const parts = await fileParts(sensor, "file.chown", out, 5, realpathSync(join(progs, "file-chown")));
      const o1 = { path: join(d, "o1"), path_truncated: false };
      assert.deepEqual(parts, [
        { syscall: "chown", ...o1, fd: null, uid: 1234, gid: 5678, flags: 0, ...ok },
        { syscall: "lchown", ...o1, fd: null, uid: -1, gid: 42, flags: 0, ...ok },
        { syscall: "fchown", ...o1, fd: out.fd, uid: 7, gid: -1, flags: 0, ...ok },
        { syscall: "fchownat", ...o1, fd: null, uid: 0, gid: 0, flags: AT_SYMLINK_NOFOLLOW, ...ok },
        {
          syscall: "chown",
          path: join(d, "missing"),
          path_truncated: false,
          fd: null,
          uid: 0,
          gid: 0,
          flags: 0,
          ...enoent,
        },
      ]);
    });

    test("file.link: link, linkat, and linkat with AT_EMPTY_PATH naming the fd's file", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("link");
      writeFileSync(join(d, "l1"), "");
      const out = tester("file-link", d);
      const parts = await fileParts(sensor, "file.link", out, 4, realpathSync(join(progs, "file-link")));
      const p = (from: string, to: string) => ({
        old_path: join(d, from),
        old_path_truncated: false,
        new_path: join(d, to),
        new_path_truncated: false,
      });
      assert.deepEqual(parts, [
        { syscall: "link", ...p("l1", "l1b"), flags: 0, ...ok },
        { syscall: "linkat", ...p("l1", "l1c"), flags: 0, ...ok },
        { syscall: "linkat", ...p("l1", "l1d"), flags: AT_EMPTY_PATH, ...ok },
        { syscall: "link", ...p("missing", "l1b"), flags: 0, ...enoent },
      ]);
    });

    test("file.symlink: symlink and symlinkat, the target as passed", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("symlink");
      const out = tester("file-symlink", d);
      const parts = await fileParts(sensor, "file.symlink", out, 4, realpathSync(join(progs, "file-symlink")));
      const p = (target: string, path: string) => ({
        target,
        target_truncated: false,
        path: join(d, path),
        path_truncated: false,
      });
      assert.deepEqual(parts, [
        { syscall: "symlink", ...p("/etc/passwd", "s1"), ...ok },
        { syscall: "symlinkat", ...p("../target", "s2"), ...ok },
        { syscall: "symlinkat", ...p("s1", "s3"), ...ok },
        { syscall: "symlink", ...p("t", "s1"), result: -17, error: "EEXIST" },
      ]);
    });

    test("file.mkdir: mkdir and mkdirat with the mode as passed", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("mkdir");
      const out = tester("file-mkdir", d);
      const parts = await fileParts(sensor, "file.mkdir", out, 4, realpathSync(join(progs, "file-mkdir")));
      const p = (path: string) => ({ path: join(d, path), path_truncated: false });
      assert.deepEqual(parts, [
        { syscall: "mkdir", ...p("m1"), mode: 0o750, ...ok },
        { syscall: "mkdirat", ...p("m2"), mode: 0o700, ...ok },
        { syscall: "mkdirat", ...p("m1/m3"), mode: 0o1777, ...ok },
        { syscall: "mkdir", ...p("m1"), mode: 0o755, result: -17, error: "EEXIST" },
      ]);
    });

    test("file.truncate: truncate and ftruncate (the fd's path), a 64-bit length and failures", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("truncate");
      writeFileSync(join(d, "t1"), "");
      const out = tester("file-truncate", d);
      const parts = await fileParts(sensor, "file.truncate", out, 4, realpathSync(join(progs, "file-truncate")));
      const t1 = { path: join(d, "t1"), path_truncated: false };
      assert.deepEqual(parts, [
        { syscall: "truncate", ...t1, fd: null, length: 5 * 2 ** 32, ...ok },
        { syscall: "ftruncate", ...t1, fd: out.fd, length: 7, ...ok },
        { syscall: "truncate", ...t1, fd: null, length: -1, result: -22, error: "EINVAL" },
        { syscall: "truncate", path: join(d, "missing"), path_truncated: false, fd: null, length: 1, ...enoent },
      ]);
    });

    test("a path deeper than the kernel's bound keeps its last components, is flagged and still sent", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const names = Array.from({ length: 70 }, (_, i) => `d${i}`);
      const deep = join(dir("deep"), ...names);
      mkdirSync(deep, { recursive: true });
      writeFileSync(join(deep, "f"), "");
      // Relative to a cwd too deep to resolve whole: the filter cannot decide it, so it is sent.
      const out = execFileSync(join(progs, "file-open-loop"), ["f", "1"], { cwd: deep, encoding: "utf8" });
      const { pid } = JSON.parse(out) as { pid: number };
      const [e] = await waitForAll(sensor, (e) => e.kind === "file.open" && e.process.pid === pid, 1, "deep open");
      const file = e?.file as { path: string; path_truncated: boolean; requested: string };
      assert.deepEqual(
        { path: file.path, path_truncated: file.path_truncated, requested: file.requested },
        { path: [...names.slice(-63), "f"].join("/"), path_truncated: true, requested: "f" },
      );
    });

    test("a file event carries the process context", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const d = dir("context");
      const out = tester("file-mkdir", d);
      const [e] = await waitForAll(sensor, (e) => e.kind === "file.mkdir" && e.process.pid === out.pid, 1, "mkdir");
      assert.ok(e);
      assert.equal(e.process.comm, "file-mkdir");
      assert.deepEqual(e.process.args, [join(progs, "file-mkdir"), d]);
      assert.equal(e.process.cwd, d);
      assert.equal(e.process.ppid, process.pid);
    });
  });
}

/**
 * Runs `body` with a sensor, which it stops whatever happens. Returns what the body returned,
 * the events as they were when it returned (the sensor's output goes when it stops), and the
 * file.open count of the sensor's kernel filters.
 */
async function withSensor<T>(
  args: string[],
  body: (sensor: RunningSensor) => Promise<T>,
): Promise<{ value: T; events: WireEvent[]; filtered: number }> {
  const sensor = await startSensor(args);
  let value: T;
  let events: WireEvent[];
  try {
    value = await body(sensor);
    events = sensor.events();
  } finally {
    assert.equal(await sensor.stop(), 0);
  }
  const stopped = sensor.logs().find((l) => l.msg === "sensor stopped");
  assert.ok(stopped, "logs its final statistics");
  const filtered = (stopped.filtered as Record<string, number>)["file.open"] ?? 0;
  return { value, events, filtered };
}

/** Runs file-open-loop on PATH COUNT times; returns its pid. */
function openLoop(path: string, count: number): number {
  const out = execFileSync(join(progs, "file-open-loop"), [path, String(count)], { encoding: "utf8" });
  return (JSON.parse(out) as { pid: number }).pid;
}

describe("file.open filtered in the kernel", () => {
  let work: string;

  before((t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-filter-test-")));
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("opens below a dropped prefix never reach user space; reads below a read-only prefix do", async (t) => {
    if (!work) return t.skip("no kernel");
    const dropped = join(work, "dropped");
    const wanted = join(dropped, "wanted");
    mkdirSync(wanted, { recursive: true });
    writeFileSync(join(dropped, "x"), "");
    writeFileSync(join(wanted, "y"), "");
    const spec = {
      kinds: {
        "file.open": { enabled: true, pathDefault: "none", paths: { [`${dropped}/`]: "none", [`${wanted}/`]: "read" } },
      },
    };
    const loops = 20_000;
    // Records reach the agent in the order they were sent: once the reads that came last are in,
    // anything the dropped opens had sent would be too.
    const { value, events, filtered } = await withSensor(["--interest", interestFile(work, spec)], async (sensor) => {
      const loop = openLoop(join(dropped, "x"), loops);
      // Relative, and writes below the read-only prefix: dropped too.
      const open = tester("file-open", dropped).pid;
      const read = openLoop(join(wanted, "y"), 3);
      await waitForAll(sensor, (e) => e.kind === "file.open" && e.process.pid === read, 3, "reads below wanted/");
      return { loop, open, read };
    });
    const opens = events.filter((e) => e.kind === "file.open");
    assert.deepEqual(
      opens.filter((e) => e.process.pid === value.loop),
      [],
      "nothing of the dropped opens reached user space",
    );
    assert.deepEqual(
      opens.filter((e) => e.process.pid === value.open).map((e) => (e.file as { requested: string }).requested),
      ["sub/../a"],
      "of the tester's, only the path its spelling cannot decide is sent",
    );
    const reads = opens.filter((e) => e.process.pid === value.read);
    assert.deepEqual(
      reads.map((e) => (e.file as { path: string }).path),
      [join(wanted, "y"), join(wanted, "y"), join(wanted, "y")],
    );
    assert.ok(filtered >= loops + 9, `file.open filtered in the kernel: ${filtered}`);
  });

  test("a relative path is decided on its directory's path after an ancestor of it was renamed", async (t) => {
    if (!work) return t.skip("no kernel");
    const from = join(work, "outside", "p");
    const to = join(work, "watched", "p");
    mkdirSync(join(from, "d"), { recursive: true });
    mkdirSync(join(work, "watched"));
    const spec = {
      kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { [`${work}/watched/`]: "any" } } },
    };
    const { value, events } = await withSensor(["--interest", interestFile(work, spec)], async (sensor) => {
      const out = execFileSync(join(progs, "file-cwd-rename"), [join(from, "d"), from, to], { encoding: "utf8" });
      const { pid, calls } = JSON.parse(out) as TesterOutput;
      assert.deepEqual(calls, { open_before: 3, rename: 0, open_after: 4 });
      await waitForAll(sensor, (e) => e.kind === "file.open" && e.process.pid === pid, 1, "the open after the rename");
      return pid;
    });
    const opens = events.filter((e) => e.kind === "file.open" && e.process.pid === value);
    assert.deepEqual(
      opens.map((e) => {
        const f = e.file as { path: string; requested: string };
        return [f.requested, f.path];
      }),
      [["y", join(to, "d", "y")]],
    );
  });

  for (const [name, ignore] of [
    ["ignoreComms drops a process's opens by its name", { ignoreComms: ["file-open-loop"] }],
    ["ignoreExes drops a program's opens by its executable", { ignoreExes: [join(progs, "file-open-loop")] }],
  ] as const) {
    test(name, async (t) => {
      if (!work) return t.skip("no kernel");
      const d = join(work, Object.keys(ignore)[0] ?? "");
      mkdirSync(join(d, "sub"), { recursive: true });
      symlinkSync("a", join(d, "link"));
      const spec = {
        kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { [`${d}/`]: "any" } } },
        ...ignore,
      };
      writeFileSync(join(d, "x"), "");
      const loops = 5_000;
      const { value, events, filtered } = await withSensor(["--interest", interestFile(work, spec)], async (sensor) => {
        const loop = openLoop(join(d, "x"), loops);
        const open = tester("file-open", d).pid;
        // Nine of its ten opens are below d/ (not its open of d itself); they come after the loop's.
        await waitForAll(
          sensor,
          (e) => e.kind === "file.open" && e.process.pid === open,
          9,
          "the other program's opens",
        );
        return { loop };
      });
      assert.deepEqual(
        events.filter((e) => e.process.pid === value.loop && e.kind === "file.open"),
        [],
        "the ignored program's opens never reached user space",
      );
      assert.ok(filtered >= loops, `file.open filtered in the kernel: ${filtered}`);
    });
  }
});
