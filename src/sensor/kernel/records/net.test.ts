import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordDecoder } from "../decode.js";
import { RecordBytes } from "./common.js";
import { batch } from "./golden.js";
import { ipv6, unixName } from "./net.js";

/*
 * Golden records: bytes written out by hand from bpf/records/net.h, independent of the generated
 * layout, so that a layout change the decoder does not follow fails here.
 */
const u8 = (...v: number[]) => Buffer.from(v);
const le = (bytes: 2 | 4 | 8, v: number | bigint) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64LE(BigInt(v));
  else if (bytes === 4) b.writeInt32LE(Number(v));
  else b.writeUInt16LE(Number(v));
  return b;
};
const header = (op: number, size: number) => Buffer.concat([le(2, op), le(2, 0), le(4, size), le(8, 987654321n)]);
// pid tid ppid uid gid euid egid pad cgroup_id start_boottime comm[16]
const task = Buffer.concat([
  le(4, 300),
  le(4, 301),
  le(4, 1),
  le(4, 0),
  le(4, 0),
  le(4, 0),
  le(4, 0),
  le(4, 0),
  le(8, 9n),
  le(8, 1_000_000n),
  Buffer.from("curl\0\0\0\0\0\0\0\0\0\0\0\0"),
]);
const TASK = {
  pid: 300,
  tid: 301,
  ppid: 1,
  uid: 0,
  gid: 0,
  euid: 0,
  egid: 0,
  cgroupId: 9n,
  startBoottime: 1_000_000n,
  comm: "curl",
};

/** struct vg_net_endpoint: addr[16], family, port, path_len, pad. */
function endpoint(family: number, addr: number[], port: number, pathLen = 0): Buffer {
  const a = Buffer.alloc(16);
  Buffer.from(addr).copy(a);
  return Buffer.concat([a, le(2, family), le(2, port), le(2, pathLen), le(2, 0)]);
}
const NONE = endpoint(0, [], 0);

/** struct vg_net_call (152 bytes) and its tail. */
function call(
  op: number,
  o: { result: number; fd: number; sock: [number, number, number]; arg?: number; local: Buffer; remote: Buffer },
  tail = Buffer.alloc(0),
): Buffer {
  const size = 152 + tail.length;
  return Buffer.concat([
    header(op, size),
    task,
    le(4, o.result),
    le(4, o.fd),
    le(2, o.sock[0]),
    le(2, o.sock[1]),
    le(2, o.sock[2]),
    le(2, 0),
    le(4, o.arg ?? 0),
    le(4, 0),
    o.local,
    o.remote,
    tail,
  ]);
}

/** struct vg_net_dns (152 bytes) and its payload. */
function dns(payload: Buffer, o: { result: number; size: number; syscall: number; payloadLen?: number }): Buffer {
  return Buffer.concat([
    header(34, 152 + payload.length),
    task,
    le(4, o.result),
    le(4, 5),
    le(2, 2),
    le(2, 2),
    le(2, 17),
    le(2, o.syscall),
    le(4, o.size),
    le(2, o.payloadLen ?? payload.length),
    le(2, 0),
    endpoint(2, [0, 0, 0, 0], 40000),
    endpoint(2, [127, 0, 0, 53], 53),
    payload,
  ]);
}

function decodeAll(...records: Buffer[]) {
  const d = new RecordDecoder();
  const out: unknown[] = [];
  d.decodeBatch(batch(...records), (r) => out.push(r));
  return { out, errors: d.stats.errors };
}

test("a TCP connect over IPv4 decodes every field", () => {
  const rec = call(30, {
    result: -115,
    fd: 4,
    sock: [2, 1, 6],
    local: endpoint(2, [10, 0, 0, 7], 51000),
    remote: endpoint(2, [93, 184, 216, 34], 443),
  });
  assert.deepEqual(decodeAll(rec).out, [
    {
      op: "net.connect",
      ktime: 987654321n,
      task: TASK,
      result: -115,
      fd: 4,
      family: 2,
      type: 1,
      protocol: 6,
      arg: 0,
      local: { family: 2, address: "10.0.0.7", port: 51000 },
      remote: { family: 2, address: "93.184.216.34", port: 443 },
    },
  ]);
});

test("accept, bind and listen share the layout; op and arg tell them apart", () => {
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
  const accept = call(31, {
    result: 6,
    fd: 3,
    sock: [10, 1, 6],
    arg: 0x80000,
    local: endpoint(10, v6, 8443),
    remote: endpoint(10, mapped, 50123),
  });
  const bind = call(32, { result: -98, fd: 3, sock: [10, 2, 17], local: endpoint(10, [], 53), remote: NONE });
  const listen = call(33, {
    result: 0,
    fd: 3,
    sock: [2, 1, 6],
    arg: 4096,
    local: endpoint(2, [0, 0, 0, 0], 80),
    remote: NONE,
  });
  const { out } = decodeAll(accept, bind, listen);
  const r = out as { op: string; arg: number; result: number; local: unknown; remote: unknown }[];
  assert.deepEqual(
    r.map((x) => [x.op, x.result, x.arg, x.local, x.remote]),
    [
      [
        "net.accept",
        6,
        0x80000,
        { family: 10, address: "2001:db8::1", port: 8443 },
        { family: 10, address: "::ffff:127.0.0.1", port: 50123 },
      ],
      ["net.bind", -98, 0, { family: 10, address: "::", port: 53 }, null],
      ["net.listen", 0, 4096, { family: 2, address: "0.0.0.0", port: 80 }, null],
    ],
  );
});

test("Unix names follow the record in order, local first; abstract names get '@'", () => {
  const local = Buffer.from("/run/app.sock\0");
  const remote = Buffer.from("\0vigil\0x");
  const rec = call(
    31,
    {
      result: 5,
      fd: 3,
      sock: [1, 1, 0],
      local: endpoint(1, [], 0, local.length),
      remote: endpoint(1, [], 0, remote.length),
    },
    Buffer.concat([local, remote]),
  );
  const [r] = decodeAll(rec).out as { local: unknown; remote: unknown }[];
  assert.deepEqual(r?.local, { family: 1, address: "/run/app.sock", port: null });
  assert.deepEqual(r?.remote, { family: 1, address: "@vigil@x", port: null });
});

test("an unnamed Unix address and a family without addresses", () => {
  const rec = call(30, {
    result: -22,
    fd: 3,
    sock: [17, 3, 0],
    local: endpoint(1, [], 0),
    remote: endpoint(17, [], 0),
  });
  const [r] = decodeAll(rec).out as { local: unknown; remote: unknown }[];
  assert.deepEqual(r?.local, { family: 1, address: "", port: null });
  assert.deepEqual(r?.remote, { family: 17, address: "", port: null });
});

test("a DNS record carries its payload, copied out of the batch", () => {
  const payload = u8(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1);
  const input = batch(dns(payload, { result: 19, size: 19, syscall: 3 }));
  const out: { payload: Buffer }[] = [];
  new RecordDecoder().decodeBatch(input, (r) => out.push(r as never));
  assert.deepEqual(out[0], {
    op: "net.dns",
    ktime: 987654321n,
    task: TASK,
    result: 19,
    fd: 5,
    family: 2,
    type: 2,
    protocol: 17,
    syscall: 3,
    size: 19,
    local: { family: 2, address: "0.0.0.0", port: 40000 },
    remote: { family: 2, address: "127.0.0.53", port: 53 },
    payload,
  });
  input.fill(0);
  assert.deepEqual(out[0]?.payload, payload, "the payload does not share the batch's memory");
});

test("short records are truncated; lengths beyond the record or the limits are malformed", () => {
  const good = call(30, { result: 0, fd: 3, sock: [2, 1, 6], local: NONE, remote: endpoint(2, [1, 2, 3, 4], 80) });
  const short = Buffer.from(good.subarray(0, 120));
  short.writeUInt32LE(120, 4);
  const overrun = call(30, { result: 0, fd: 3, sock: [1, 1, 0], local: endpoint(1, [], 0, 20), remote: NONE });
  const overlong = call(
    30,
    { result: 0, fd: 3, sock: [1, 1, 0], local: endpoint(1, [], 0, 200), remote: NONE },
    Buffer.alloc(200, 0x41),
  );
  const dnsShort = dns(Buffer.alloc(0), { result: 0, size: 0, syscall: 1 }).subarray(0, 100);
  dnsShort.writeUInt32LE(100, 4);
  const dnsOverrun = dns(Buffer.alloc(4), { result: 40, size: 40, syscall: 1, payloadLen: 40 });
  const dnsOverlong = dns(Buffer.alloc(600), { result: 600, size: 600, syscall: 1 });
  const { out, errors } = decodeAll(short, overrun, overlong, dnsShort, dnsOverrun, dnsOverlong, good);
  assert.equal(out.length, 1);
  assert.deepEqual(errors, { truncated: 2, unknown_op: 0, malformed: 4 });
});

test("IPv6 text follows RFC 5952", () => {
  const v6 = (...groups: number[]) => {
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => {
      b.writeUInt16BE(g, 2 * i);
    });
    return ipv6(new RecordBytes(b), 0);
  };
  assert.equal(v6(0, 0, 0, 0, 0, 0, 0, 0), "::");
  assert.equal(v6(0, 0, 0, 0, 0, 0, 0, 1), "::1");
  assert.equal(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1");
  assert.equal(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1", "one zero group stays");
  assert.equal(v6(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1", "the longest run");
  assert.equal(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1", "the first of equal runs");
  assert.equal(v6(0xfe80, 0, 0, 0, 0, 0, 0, 0), "fe80::");
  assert.equal(v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001), "::ffff:10.0.0.1");
  assert.equal(
    v6(0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789),
    "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
  );
});

test("Unix names: path, path with garbage after its NUL, abstract, unnamed", () => {
  assert.equal(unixName(Buffer.from("/tmp/s")), "/tmp/s");
  assert.equal(unixName(Buffer.from("/tmp/s\0junk")), "/tmp/s");
  assert.equal(unixName(Buffer.from("\0name")), "@name");
  assert.equal(unixName(Buffer.from("\0")), "@");
  assert.equal(unixName(Buffer.alloc(0)), "");
});
