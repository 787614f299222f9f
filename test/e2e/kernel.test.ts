import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { progs, type RunningSensor, requireKernel, run, startSensor, type WireEvent } from "./harness.js";

const execFileAsync = promisify(execFile);

/** Runs a tester program and returns the JSON line it prints. */
async function tester<T>(name: string, args: string[] = []): Promise<T & { pid: number }> {
  const { stdout } = await execFileAsync(join(progs, name), args);
  return JSON.parse(stdout) as T & { pid: number };
}

/** 64-bit fields arrive as numbers when small and bigints when not; compare them as bigints. */
function withBig<T extends Record<string, unknown>>(part: T, ...keys: string[]): T {
  const out: Record<string, unknown> = { ...part };
  for (const k of keys) if (out[k] !== null && out[k] !== undefined) out[k] = BigInt(out[k] as number);
  return out as T;
}

const part = (e: WireEvent, name: string) => e[name] as Record<string, unknown>;

describe("kernel, namespace and mount events from the real kernel", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let interestDir: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-kernel-")));
    interestDir = mkdtempSync(join(tmpdir(), "vigil-interest-"));
    // Mounts are sent only under the work directory: the tester's remount of "/" must be dropped in the kernel.
    const interest = join(interestDir, "interest.json");
    writeFileSync(
      interest,
      JSON.stringify({
        kinds: { "fs.mount": { enabled: true, pathDefault: "none", paths: { [`${work}/`]: "write" } } },
      }),
    );
    sensor = await startSensor(["--interest", interest]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (interestDir) rmSync(interestDir, { recursive: true, force: true });
  });

  const eventsOf = (kind: string, pid: number) =>
    sensor?.events().filter((e) => e.kind === kind && e.process.pid === pid) ?? [];

  test("bpf(): a program load, a rejected load, a BTF load and a link, each with its result", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = await tester<{
      fd: number;
      id: number;
      tag: string;
      rejected: number;
      btf: number;
      btf_size: number;
      target_fd: number;
      link: number;
    }>("kernel-bpf");
    assert.equal(out.rejected, -22, "an invalid opcode is EINVAL");
    await sensor.waitFor(
      (e) => e.kind === "kernel.bpf" && e.process.pid === out.pid && part(e, "bpf").command === "link_create",
      "link_create",
    );
    const events = eventsOf("kernel.bpf", out.pid);
    const none = {
      prog_type: null,
      prog_type_name: null,
      attach_type: null,
      attach_type_name: null,
      insn_count: null,
      prog_flags: null,
      prog_name: null,
      prog_id: null,
      prog_tag: null,
      target_fd: null,
      tracepoint: null,
      btf_size: null,
      object_id: null,
    };
    const load = { prog_type: 1, prog_type_name: "socket_filter", insn_count: 2, prog_flags: 0 };
    assert.deepEqual(
      events.map((e) => part(e, "bpf")),
      [
        {
          ...none,
          ...load,
          command: "prog_load",
          result: out.fd,
          prog_name: "vigil_ok",
          prog_id: out.id,
          prog_tag: out.tag,
        },
        { ...none, ...load, command: "prog_load", result: -22, prog_name: "vigil_bad" },
        { ...none, command: "btf_load", result: out.btf, btf_size: out.btf_size },
        {
          ...none,
          command: "link_create",
          result: out.link,
          attach_type: 0,
          attach_type_name: "cgroup_inet_ingress",
          prog_id: out.id,
          target_fd: out.target_fd,
        },
      ],
      "other commands (the info query) are not sent",
    );
    const first = events[0] as WireEvent;
    assert.equal(first.process.exe, join(progs, "kernel-bpf"));
    assert.equal(first.process.comm, "kernel-bpf");
  });

  test("unshare, setns (by namespace file and by pidfd), clone and clone3 into new namespaces; not a plain fork", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = await tester<{
      unshare_flags: number;
      unshare: number;
      bad_flags: number;
      bad: number;
      uts_fd: number;
      uts_inum: number;
      setns: number;
      wrong: number;
      pidfd: number;
      pidfd_flags: number;
      by_pidfd: number;
      clone_flags: number;
      clone: number;
      clone3_flags: number;
      clone3: number;
      fork: number;
    }>("kernel-ns");
    assert.equal(out.unshare, 0);
    assert.equal(out.bad, -22);
    assert.equal(out.wrong, -22);
    await sensor.waitFor(
      (e) => e.kind === "ns.change" && e.process.pid === out.pid && part(e, "ns").syscall === "clone3",
      "clone3",
    );
    // The child of fork must have come and gone without an ns.change.
    await sensor.waitFor((e) => e.kind === "process.exit" && e.process.pid === out.fork, "exit of the forked child");
    const events = eventsOf("ns.change", out.pid);
    const CLONE_NEWUTS = 0x04000000;
    const CLONE_NEWNET = 0x40000000;
    const noFd = { fd: null, fd_kind: null, ns_inum: null };
    assert.deepEqual(
      events.map((e) => withBig(part(e, "ns"), "flags")),
      [
        { syscall: "unshare", result: 0, flags: BigInt(out.unshare_flags), namespaces: ["mnt", "uts"], ...noFd },
        { syscall: "unshare", result: -22, flags: BigInt(out.bad_flags), namespaces: ["net"], ...noFd },
        {
          syscall: "setns",
          result: out.setns,
          flags: BigInt(CLONE_NEWUTS),
          namespaces: ["uts"],
          fd: out.uts_fd,
          fd_kind: "namespace",
          ns_inum: out.uts_inum,
        },
        {
          syscall: "setns",
          result: -22,
          flags: BigInt(CLONE_NEWNET),
          namespaces: ["uts"],
          fd: out.uts_fd,
          fd_kind: "namespace",
          ns_inum: out.uts_inum,
        },
        {
          syscall: "setns",
          result: out.by_pidfd,
          flags: BigInt(out.pidfd_flags),
          namespaces: ["uts", "ipc"],
          fd: out.pidfd,
          fd_kind: "pidfd",
          ns_inum: null,
        },
        { syscall: "clone", result: out.clone, flags: BigInt(out.clone_flags), namespaces: ["uts"], ...noFd },
        { syscall: "clone3", result: out.clone3, flags: BigInt(out.clone3_flags), namespaces: ["net", "ipc"], ...noFd },
      ],
    );
    assert.ok(out.clone > 0 && out.clone3 > 0 && out.fork > 0);
  });

  test("unshare(1) -m -u", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const child = await run("unshare", ["-m", "-u", "true"]);
    assert.equal(child.code, 0);
    const e = await sensor.waitFor((e) => e.kind === "ns.change" && e.process.pid === child.pid, "unshare -m -u");
    assert.equal(e.process.exe, realpathSync("/usr/bin/unshare"));
    assert.deepEqual(part(e, "ns").namespaces, ["mnt", "uts"]);
    assert.equal(part(e, "ns").result, 0);
  });

  test("mount, a rejected mount, umount2, a failed bind mount, fsmount and move_mount, with paths made absolute", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = await tester<{
      target: string;
      tmpfs: number;
      tmpfs_flags: number;
      rejected: number;
      umount: number;
      umount_flags: number;
      bind: number;
      bind_flags: number;
      fs_fd: number;
      fsmount: number;
      attr_flags: number;
      move_mount: number;
    }>("kernel-mount", [work]);
    assert.equal(out.target, `${work}/mnt`);
    assert.equal(out.tmpfs, 0);
    assert.equal(out.rejected, -22);
    assert.equal(out.bind, -2);
    assert.equal(out.move_mount, 0);
    await sensor.waitFor(
      (e) => e.kind === "fs.mount" && e.process.pid === out.pid && part(e, "mount").syscall === "move_mount",
      "move_mount",
    );
    const events = eventsOf("fs.mount", out.pid);
    const base = {
      target_truncated: false,
      source_truncated: false,
      data_truncated: false,
      attr_flags: null,
      fd: null,
    };
    assert.deepEqual(
      events.map((e) => withBig(part(e, "mount"), "flags")),
      [
        {
          ...base,
          syscall: "mount",
          result: 0,
          target: out.target,
          source: "vigil-tmp",
          fstype: "tmpfs",
          data: "size=1m,mode=700",
          flags: BigInt(out.tmpfs_flags),
          flag_names: ["MS_NOSUID", "MS_NODEV"],
        },
        {
          ...base,
          syscall: "mount",
          result: -22,
          target: out.target,
          source: "vigil-tmp",
          fstype: "tmpfs",
          data: "size=1m,password=<redacted>",
          flags: 0n,
          flag_names: [],
        },
        {
          ...base,
          syscall: "umount2",
          result: out.umount,
          target: out.target,
          source: null,
          fstype: null,
          data: null,
          flags: BigInt(out.umount_flags),
          flag_names: ["MNT_DETACH"],
        },
        {
          ...base,
          syscall: "mount",
          result: -2,
          target: out.target,
          source: `${work}/does-not-exist`,
          fstype: "",
          data: "",
          flags: BigInt(out.bind_flags),
          flag_names: ["MS_BIND", "MS_REC"],
        },
        {
          ...base,
          syscall: "fsmount",
          result: out.fsmount,
          target: null,
          source: "vigil-fs",
          fstype: "tmpfs",
          data: null,
          flags: 1n,
          flag_names: ["FSMOUNT_CLOEXEC"],
          attr_flags: out.attr_flags,
          fd: out.fs_fd,
        },
        {
          ...base,
          syscall: "move_mount",
          result: 0,
          target: out.target,
          source: "vigil-fs",
          fstype: "tmpfs",
          data: null,
          flags: 4n,
          flag_names: ["MOVE_MOUNT_F_EMPTY_PATH"],
          fd: out.fsmount,
        },
      ],
      "the remount of / (outside the interest's paths) is dropped in the kernel",
    );
    const stats = await sensor.stop().then(() => sensor?.logs().find((l) => l.msg === "sensor stopped"));
    sensor = undefined;
    assert.ok(stats, "sensor stopped");
    assert.ok(((stats.filtered as Record<string, number>)["fs.mount"] ?? 0) >= 1, "the filtered mount is counted");
    assert.deepEqual(stats.decodeErrors, { truncated: 0, unknown_op: 0, malformed: 0 });
  });
});

/*
 * No module can be loaded in a test; a bogus image and a bogus file give real syscalls that
 * fail. On a kernel built without module support the syscalls are ENOSYS stubs with no
 * tracepoints, so the programs cannot attach: then the test checks that the sensor says so.
 */
describe("module loads from the real kernel", () => {
  const hasModules = existsSync("/sys/kernel/tracing/events/syscalls/sys_exit_finit_module");
  let sensor: RunningSensor | undefined;
  let work: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-module-")));
    sensor = await startSensor();
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("init_module and finit_module with bogus modules report their failure", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const out = await tester<{
      image_len: number;
      init_result: number;
      fd: number;
      path: string;
      finit_result: number;
    }>("kernel-module", [work]);
    assert.ok(out.init_result < 0 && out.finit_result < 0, "a bogus module never loads");
    if (!hasModules) {
      assert.equal(out.init_result, -38, "ENOSYS without module support");
      assert.equal(out.finit_result, -38);
      const failed = sensor
        .logs()
        .filter((l) => l.msg === "hook absent from this kernel; its events cannot occur" && l.code === "ENOENT")
        .map((l) => l.program);
      assert.deepEqual(failed.filter((p) => String(p).startsWith("vg_module")).sort(), [
        "vg_module_finit",
        "vg_module_init",
      ]);
      return;
    }
    await sensor.waitFor(
      (e) =>
        e.kind === "kernel.module_load" && e.process.pid === out.pid && part(e, "module").syscall === "finit_module",
      "finit_module",
    );
    const events = moduleEvents(sensor, out.pid);
    assert.deepEqual(
      events.map((e) => withBig(part(e, "module"), "image_size")),
      [
        {
          syscall: "init_module",
          result: out.init_result,
          image_size: BigInt(out.image_len),
          fd: null,
          path: null,
          path_truncated: false,
          params: "vigil_init=1",
          params_truncated: false,
          flags: 0,
          flag_names: [],
        },
        {
          syscall: "finit_module",
          result: out.finit_result,
          image_size: 0n,
          fd: out.fd,
          path: out.path,
          path_truncated: false,
          params: "vigil_finit=2 debug",
          params_truncated: false,
          flags: 2,
          flag_names: ["MODULE_INIT_IGNORE_VERMAGIC"],
        },
      ],
    );
  });
});

function moduleEvents(sensor: RunningSensor, pid: number): WireEvent[] {
  return sensor.events().filter((e) => e.kind === "kernel.module_load" && e.process.pid === pid);
}
