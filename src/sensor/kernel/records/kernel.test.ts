import assert from "node:assert/strict";
import { test } from "node:test";
import { EventSchema, type VigilEvent } from "../../../events/schema.js";
import { eventToJson } from "../../../events/serialize.js";
import { kernelBuilders, redactMountData } from "../../enrich/kernel.js";
import { type KernelRecord, RecordDecoder } from "../decode.js";
import { batch, fixed, header as goldenHeader, i32, i64, u8, u16, u32, u64 } from "./golden.js";

/*
 * Golden records of the kernel domain: bytes written out by hand from bpf/records/kernel.h,
 * independent of the generated layout, so that a layout change the decoder does not follow
 * fails here.
 */
const header = (op: number, size: number) => goldenHeader(op, size, 987654321n);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm: 64 bytes
const task = Buffer.concat([
  u32(700),
  u32(701),
  u32(1),
  u32(0),
  u32(0),
  u32(0),
  u32(0),
  u32(0),
  u64(9n),
  u64(42n),
  fixed("tester", 16),
]);
const TASK = {
  pid: 700,
  tid: 701,
  ppid: 1,
  uid: 0,
  gid: 0,
  euid: 0,
  egid: 0,
  cgroupId: 9n,
  startBoottime: 42n,
  comm: "tester",
};

const OP_MODULE = 51;
const OP_BPF = 53;
const OP_NS = 54;
const OP_MOUNT = 55;

/** struct vg_module_load: 120 bytes, then path and params. */
function moduleRecord(o: { call: number; path?: string; params?: string; lens?: [number, number]; flags?: number }) {
  const path = Buffer.from(o.path ?? "");
  const params = Buffer.from(o.params ?? "");
  const [pathLen, paramsLen] = o.lens ?? [path.length, params.length];
  return Buffer.concat([
    header(OP_MODULE, 120 + path.length + params.length),
    task,
    i64(-8), // result: -ENOEXEC
    u64(o.call === 1 ? 4096n : 0n), // image_len
    u32(o.call),
    i32(o.call === 2 ? 5 : -1), // fd
    u32(o.call === 2 ? 2 : 0), // load_flags
    u32(o.flags ?? 0), // rec_flags
    u16(pathLen),
    u16(paramsLen),
    u32(0),
    path,
    params,
  ]);
}

/** struct vg_bpf: 144 bytes. */
function bpfRecord(cmd: number, result: number) {
  return Buffer.concat([
    header(OP_BPF, 144),
    task,
    i64(result),
    u32(cmd),
    u32(1), // prog_type: socket_filter
    u32(0), // attach_type
    u32(2), // insn_cnt
    u32(0x20), // prog_flags
    u32(cmd === 5 && result >= 0 ? 77 : 0), // prog_id
    i32(-1), // target_fd
    u32(0), // btf_size
    u8(0x59, 0xf4, 0xa9, 0x31, 0x74, 0x4d, 0xcd, 0xc6), // prog_tag
    fixed("vigil_ok", 16),
  ]);
}

/** struct vg_ns_change: 120 bytes. */
function nsRecord(call: number, flags: bigint, fd: number, fdKind: number, nsType: number, inum: number) {
  return Buffer.concat([
    header(OP_NS, 120),
    task,
    i64(call >= 3 ? 702 : 0),
    u64(flags),
    u32(call),
    i32(fd),
    u32(fdKind),
    u32(nsType),
    u32(inum),
    u32(0),
  ]);
}

/** struct vg_mount: 120 bytes, then target, source, fstype, data. */
function mountRecord(o: { call: number; flags: bigint; target: string; source: string; fstype: string; data: string }) {
  const parts = [o.target, o.source, o.fstype, o.data].map((s) => Buffer.from(s));
  return Buffer.concat([
    header(OP_MOUNT, 120 + parts.reduce((n, p) => n + p.length, 0)),
    task,
    i64(-22),
    u64(o.flags),
    u32(o.call),
    u32(o.call === 3 ? 12 : 0), // attr_flags
    u32(4), // rec_flags: data cut
    i32(o.call === 3 ? 3 : -1), // fd
    ...parts.map((p) => u16(p.length)),
    ...parts,
  ]);
}

function decodeAll(...records: Buffer[]): { out: KernelRecord[]; decoder: RecordDecoder } {
  const decoder = new RecordDecoder();
  const out: KernelRecord[] = [];
  decoder.decodeBatch(batch(...records), (r) => out.push(r));
  return { out, decoder };
}

test("module load records: init_module and finit_module with path and parameters", () => {
  const { out } = decodeAll(
    moduleRecord({ call: 1, params: "a=1" }),
    moduleRecord({ call: 2, path: "/tmp/x.ko", params: "b=2 c", flags: 4 }),
  );
  assert.deepEqual(out, [
    {
      op: "kernel.module_load",
      ktime: 987654321n,
      task: TASK,
      call: "init_module",
      result: -8,
      imageLen: 4096n,
      fd: -1,
      loadFlags: 0,
      path: "",
      pathTruncated: false,
      params: "a=1",
      paramsTruncated: false,
    },
    {
      op: "kernel.module_load",
      ktime: 987654321n,
      task: TASK,
      call: "finit_module",
      result: -8,
      imageLen: 0n,
      fd: 5,
      loadFlags: 2,
      path: "/tmp/x.ko",
      pathTruncated: false,
      params: "b=2 c",
      paramsTruncated: true,
    },
  ]);
});

test("bpf records: a load with id and tag, a failed load without", () => {
  const { out } = decodeAll(bpfRecord(5, 3), bpfRecord(5, -22));
  assert.deepEqual(out[0], {
    op: "kernel.bpf",
    ktime: 987654321n,
    task: TASK,
    command: "prog_load",
    result: 3,
    progType: 1,
    attachType: 0,
    insnCnt: 2,
    progFlags: 0x20,
    progId: 77,
    targetFd: -1,
    btfSize: 0,
    progTag: "59f4a931744dcdc6",
    name: "vigil_ok",
  });
  assert.equal((out[1] as { progTag: string }).progTag, "");
  assert.equal((out[1] as { progId: number }).progId, 0);
});

test("namespace records: unshare, setns on a namespace file and on a pidfd, clone", () => {
  const { out } = decodeAll(
    nsRecord(1, 0x04020000n, -1, 0, 0, 0),
    nsRecord(2, 0n, 3, 1, 0x40000000, 4026531840),
    nsRecord(2, 0x0c000000n, 4, 2, 0, 0),
    nsRecord(3, 0x04000011n, -1, 0, 0, 0),
  );
  assert.deepEqual(
    out.map((r) => {
      const n = r as Extract<KernelRecord, { op: "ns.change" }>;
      return [n.call, n.result, n.flags, n.fd, n.fdKind, n.fdNsType, n.fdNsInum];
    }),
    [
      ["unshare", 0, 0x04020000n, -1, "none", 0, 0],
      ["setns", 0, 0n, 3, "namespace", 0x40000000, 4026531840],
      ["setns", 0, 0x0c000000n, 4, "pidfd", 0, 0],
      ["clone", 702, 0x04000011n, -1, "none", 0, 0],
    ],
  );
  assert.deepEqual(out[0]?.task, TASK);
});

test("mount records: the four variable parts in order", () => {
  const { out } = decodeAll(
    mountRecord({ call: 1, flags: 6n, target: "/mnt/x", source: "dev", fstype: "tmpfs", data: "size=1m" }),
  );
  assert.deepEqual(out, [
    {
      op: "fs.mount",
      ktime: 987654321n,
      task: TASK,
      call: "mount",
      result: -22,
      flags: 6n,
      attrFlags: 0,
      fd: -1,
      target: "/mnt/x",
      targetTruncated: false,
      source: "dev",
      sourceTruncated: false,
      fstype: "tmpfs",
      data: "size=1m",
      dataTruncated: true,
    },
  ]);
});

test("bad kernel-domain records are counted and skipped, never thrown", () => {
  const short = bpfRecord(5, 3);
  short.writeUInt32LE(100, 4); // claims 100 bytes: less than struct vg_bpf
  const overrun = moduleRecord({ call: 2, path: "/x", params: "", lens: [60000, 0] });
  const unknownCall = moduleRecord({ call: 9 });
  const unknownCmd = bpfRecord(1, 0); // BPF_MAP_LOOKUP_ELEM is never sent
  const badFdKind = nsRecord(2, 0n, 3, 7, 0, 0);
  const mount = mountRecord({ call: 1, flags: 0n, target: "/a", source: "", fstype: "", data: "" });
  mount.writeUInt16LE(5000, 120 - 2); // data_len beyond the record
  const good = nsRecord(1, 0x20000n, -1, 0, 0, 0);
  const { out, decoder } = decodeAll(short, overrun, unknownCall, unknownCmd, badFdKind, mount, good);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.op, "ns.change");
  assert.deepEqual(decoder.stats.errors, { truncated: 1, unknown_op: 0, malformed: 5 });
});

const base = {
  time: 1_764_000_000_000_000_000n,
  mono_time: 987654321n,
  process: {
    pid: 700,
    tid: 701,
    ppid: 1,
    uid: 0,
    gid: 0,
    euid: 0,
    comm: "tester",
    exe: "/usr/bin/tester",
    args: ["tester"],
    args_truncated: false,
    cwd: "/",
    cgroup_id: 9n,
    start_time: 1_763_999_999_000_000_000n,
    ancestry: [],
  },
  container: null,
  k8s: null,
};

/** The events a record becomes, each checked against the schema and serialised. */
function build(record: KernelRecord): VigilEvent[] {
  const events: VigilEvent[] = [];
  const builder = kernelBuilders[record.op as keyof typeof kernelBuilders] as (
    r: KernelRecord,
    b: typeof base,
    emit: (e: VigilEvent) => void,
  ) => void;
  builder(record, base, (e) => events.push(e));
  for (const e of events) {
    EventSchema.parse(e);
    assert.ok(eventToJson(e).startsWith(`{"kind":"${e.kind}"`));
  }
  return events;
}

test("events: namespaces by name; clone's exit signal is not CLONE_NEWTIME; setns names the file's type", () => {
  const { out } = decodeAll(
    nsRecord(3, 0x40000000n | 0x80n, -1, 0, 0, 0),
    nsRecord(1, 0x80n | 0x20000n, -1, 0, 0, 0),
    nsRecord(2, 0n, 3, 1, 0x10000000, 4026531837),
  );
  const ns = out.flatMap(build).map((e) => (e as Extract<VigilEvent, { kind: "ns.change" }>).ns);
  assert.deepEqual(
    ns.map((n) => n.namespaces),
    [["net"], ["mnt", "time"], ["user"]],
  );
  assert.deepEqual([ns[2]?.fd, ns[2]?.fd_kind, ns[2]?.ns_inum], [3, "namespace", 4026531837]);
});

test("events: mount flags by name (the old magic dropped), secrets in options redacted", () => {
  const { out } = decodeAll(
    mountRecord({
      call: 1,
      flags: 0xc0ed0000n | 0x1000n | 0x4000n,
      target: "/mnt",
      source: "//server/share",
      fstype: "cifs",
      data: "user=bob,password=hunter2,vers=3.0",
    }),
    mountRecord({ call: 3, flags: 1n, target: "", source: "vigil-fs", fstype: "tmpfs", data: "" }),
  );
  const [mount, fsmount] = out.flatMap(build).map((e) => (e as Extract<VigilEvent, { kind: "fs.mount" }>).mount);
  assert.deepEqual(mount?.flag_names, ["MS_BIND", "MS_REC"]);
  assert.equal(mount?.data, "user=bob,password=<redacted>,vers=3.0");
  assert.deepEqual([fsmount?.target, fsmount?.data, fsmount?.attr_flags, fsmount?.fd], [null, null, 12, 3]);
  assert.deepEqual(fsmount?.flag_names, ["FSMOUNT_CLOEXEC"]);
  assert.equal(redactMountData("ro,noatime"), "ro,noatime");
  assert.equal(redactMountData("pass=x,Secret=y"), "pass=<redacted>,Secret=<redacted>");
});

test("events: bpf names known types, null for unknown ones and for fields of other commands", () => {
  const load = bpfRecord(5, 3);
  const attach = bpfRecord(28, -22);
  attach.writeUInt32LE(999, 96); // attach_type unknown to this build
  const { out } = decodeAll(load, attach);
  const [l, a] = out.flatMap(build).map((e) => (e as Extract<VigilEvent, { kind: "kernel.bpf" }>).bpf);
  assert.deepEqual(
    [l?.prog_type_name, l?.attach_type, l?.prog_id, l?.prog_tag, l?.target_fd],
    ["socket_filter", null, 77, "59f4a931744dcdc6", null],
  );
  assert.deepEqual([a?.prog_type, a?.attach_type, a?.attach_type_name, a?.target_fd], [null, 999, null, -1]);
});

test("events: a module load keeps fields of its own syscall only", () => {
  const { out } = decodeAll(moduleRecord({ call: 1, params: "x" }), moduleRecord({ call: 2, path: "/m.ko" }));
  const [init, finit] = out
    .flatMap(build)
    .map((e) => (e as Extract<VigilEvent, { kind: "kernel.module_load" }>).module);
  assert.deepEqual([init?.image_size, init?.fd, init?.path], [4096n, null, null]);
  assert.deepEqual(
    [finit?.image_size, finit?.fd, finit?.path, finit?.flag_names],
    [0n, 5, "/m.ko", ["MODULE_INIT_IGNORE_VERMAGIC"]],
  );
});
