import assert from "node:assert/strict";
import { test } from "node:test";
import { EventSchema, type VigilEvent } from "../../events/schema.js";
import { eventToJson } from "../../events/serialize.js";
import type { NetRecord } from "../kernel/records/net.js";
import { netBuilders } from "./net.js";

const task = {
  pid: 300,
  tid: 300,
  ppid: 1,
  uid: 0,
  gid: 0,
  euid: 0,
  egid: 0,
  cgroupId: 1n,
  startBoottime: 0n,
  comm: "x",
};
const base = {
  time: 1_764_000_000_000_000_000n,
  mono_time: 5n,
  process: {
    pid: 300,
    tid: 300,
    ppid: 1,
    uid: 0,
    gid: 0,
    euid: 0,
    comm: "x",
    exe: "/usr/bin/x",
    args: ["x"],
    args_truncated: false,
    cwd: "/",
    cgroup_id: 1n,
    start_time: 0n,
    ancestry: [],
  },
  container: null,
  k8s: null,
};

function build(record: NetRecord): VigilEvent[] {
  const out: VigilEvent[] = [];
  const builder = netBuilders[record.op] as (r: NetRecord, b: typeof base, e: (ev: VigilEvent) => void) => void;
  builder(record, base, (e) => out.push(e));
  for (const e of out) {
    EventSchema.parse(e);
    assert.doesNotThrow(() => eventToJson(e));
  }
  return out;
}

const common = { ktime: 5n, task, result: 0, fd: 3, local: null, remote: null };

test("socket family, type and protocol are named; unknown numbers stay numbers", () => {
  const net = (family: number, type: number, protocol: number) => {
    const [e] = build({ op: "net.connect", ...common, family, type, protocol, arg: 0 });
    return (e as { net: { family: unknown; type: unknown; protocol: unknown } }).net;
  };
  assert.deepEqual(
    [net(2, 1, 6), net(10, 2, 17), net(2, 3, 1), net(10, 3, 58), net(1, 5, 0), net(16, 3, 9), net(99, 42, 7)].map(
      (n) => [n.family, n.type, n.protocol],
    ),
    [
      ["ipv4", "stream", "tcp"],
      ["ipv6", "dgram", "udp"],
      ["ipv4", "raw", "icmp"],
      ["ipv6", "raw", "icmpv6"],
      ["unix", "seqpacket", null],
      ["netlink", "raw", "9"],
      ["99", "42", "7"],
    ],
  );
  assert.deepEqual(Object.values(net(0, 0, 0)).slice(0, 3), [null, null, null], "fd is no socket");
});

test("each call kind has its part; listen's backlog and accept's flags", () => {
  const local = { family: 2, address: "127.0.0.1", port: 8080 };
  const remote = { family: 2, address: "127.0.0.1", port: 40000 };
  const [accept] = build({
    op: "net.accept",
    ...common,
    family: 2,
    type: 1,
    protocol: 6,
    arg: 0x80000,
    result: 4,
    local,
    remote,
  });
  assert.deepEqual(accept, {
    kind: "net.accept",
    ...base,
    net: {
      family: "ipv4",
      type: "stream",
      protocol: "tcp",
      fd: 3,
      result: 4,
      local: { address: "127.0.0.1", port: 8080 },
      remote: { address: "127.0.0.1", port: 40000 },
      flags: 0x80000,
    },
  });
  const [listen] = build({ op: "net.listen", ...common, family: 2, type: 1, protocol: 6, arg: 0xffffffff, local });
  assert.equal((listen as { net: { backlog: number } }).net.backlog, -1);
  const [bind] = build({
    op: "net.bind",
    ...common,
    family: 1,
    type: 2,
    protocol: 0,
    arg: 0,
    local: { family: 1, address: "@x", port: null },
  });
  assert.deepEqual((bind as { net: { local: unknown } }).net.local, { address: "@x", port: null });
});

test("a DNS record becomes net.dns with the decoded query", () => {
  const payload = Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x63, 0x6f, 0x6d, 0, 0, 28, 0, 1]);
  const [e] = build({
    op: "net.dns",
    ...common,
    family: 2,
    type: 2,
    protocol: 17,
    result: payload.length,
    syscall: 4,
    size: payload.length,
    payload,
    remote: { family: 2, address: "127.0.0.53", port: 53 },
  });
  const ev = e as { net: { syscall: string; size: number; remote: unknown }; dns: unknown };
  assert.equal(ev.net.syscall, "write");
  assert.equal(ev.net.size, 21);
  assert.deepEqual(ev.net.remote, { address: "127.0.0.53", port: 53 });
  assert.deepEqual(ev.dns, {
    id: 0xabcd,
    opcode: "QUERY",
    response: false,
    question_count: 1,
    name: "com",
    type: "AAAA",
    type_code: 28,
    class: "IN",
    error: null,
  });
});
