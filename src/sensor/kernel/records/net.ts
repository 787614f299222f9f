import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, type Handler, type RecordBytes, type TaskRecord, tail } from "./common.js";

/** Address families the records carry addresses for (uapi linux/socket.h). */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** One end of a connection, as the kernel reported it. */
export interface EndpointRecord {
  /** The address's own family (AF_*), which may differ from the socket's. */
  family: number;
  /** "127.0.0.1", "::1", "::ffff:127.0.0.1", a Unix name ("/run/x.sock", "@abstract"), or "" when none. */
  address: string;
  /** Host order; null for families without ports (Unix). */
  port: number | null;
}

/** The socket a call was made on: AF_*, SOCK_*, IPPROTO_* (all 0 when the fd is no socket). */
interface SocketRecord {
  ktime: bigint;
  task: TaskRecord;
  /** 0, a new fd, a byte count, or -errno. */
  result: number;
  fd: number;
  family: number;
  type: number;
  protocol: number;
  local: EndpointRecord | null;
  remote: EndpointRecord | null;
}

type NetCallOp = "net.connect" | "net.accept" | "net.bind" | "net.listen";

/** connect, accept, bind and listen share one record (struct vg_net_call). */
export interface NetCallRecordOf<K extends NetCallOp> extends SocketRecord {
  op: K;
  /** listen: the backlog; accept4: its flags; otherwise 0. */
  arg: number;
}

export type NetCallRecord = { [K in NetCallOp]: NetCallRecordOf<K> }[NetCallOp];

export interface NetDnsRecord extends SocketRecord {
  op: "net.dns";
  /** enum vg_net_send. */
  syscall: number;
  /** Bytes of the datagram. */
  size: number;
  /** Its first bytes (at most VG_NET_DNS_PAYLOAD_MAX), copied out of the batch. */
  payload: Buffer;
}

/** Records of the network domain (bpf/records/net.h). */
export type NetRecord = NetCallRecord | NetDnsRecord;

const LIMIT = enums.vg_net_limit;
const EP = structs.vg_net_endpoint.fields;

/** IPv4 dotted quad from 4 bytes at `at`. */
export function ipv4(b: RecordBytes, at: number): string {
  return `${b.u8(at)}.${b.u8(at + 1)}.${b.u8(at + 2)}.${b.u8(at + 3)}`;
}

/**
 * IPv6 text as RFC 5952 recommends: lower-case hex, no leading zeros, the longest run of two or
 * more zero groups as "::" (the first such run on a tie), and an IPv4-mapped address
 * (::ffff:a.b.c.d) with its IPv4 part dotted.
 */
export function ipv6(b: RecordBytes, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.buf.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4(b, at + 12)}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * A Unix socket name from its sun_path bytes: an abstract name (first byte NUL) as "@" and the
 * rest, with NULs inside it shown as "@" too; a path name up to its first NUL.
 */
export function unixName(bytes: Buffer): string {
  if (bytes.length === 0) return "";
  if (bytes[0] === 0) {
    const name = Buffer.from(bytes.subarray(1));
    for (let i = 0; i < name.length; i++) if (name[i] === 0) name[i] = 0x40;
    return `@${name.toString("utf8")}`;
  }
  const nul = bytes.indexOf(0);
  return bytes.toString("utf8", 0, nul === -1 ? bytes.length : nul);
}

function decodeEndpoint(b: RecordBytes, at: number, pathAt: number, pathEnd: number): EndpointRecord | null {
  const family = b.u16(at + EP.family.offset);
  const port = b.u16(at + EP.port.offset);
  const addr = at + EP.addr.offset;
  switch (family) {
    case 0:
      return null;
    case AF_INET:
      return { family, address: ipv4(b, addr), port };
    case AF_INET6:
      return { family, address: ipv6(b, addr), port };
    case AF_UNIX:
      return { family, address: unixName(b.buf.subarray(pathAt, pathEnd)), port: null };
    default:
      return { family, address: "", port: null };
  }
}

const pathLen = (b: RecordBytes, at: number) => b.u16(at + EP.path_len.offset);

const C = structs.vg_net_call.fields;
function callDecoder<K extends NetCallOp>(op: K): Handler<NetCallRecordOf<K>> {
  return (b, at, size, ktime): NetCallRecordOf<K> | DecodeErrorKind => {
    if (size < structs.vg_net_call.size) return "truncated";
    const localLen = pathLen(b, at + C.local.offset);
    const remoteLen = pathLen(b, at + C.remote.offset);
    if (localLen > LIMIT.VG_NET_UNIX_PATH_MAX || remoteLen > LIMIT.VG_NET_UNIX_PATH_MAX) return "malformed";
    const parts = tail(at, structs.vg_net_call.size, size, [localLen, remoteLen]);
    if (!parts) return "malformed";
    const [localAt = 0, remoteAt = 0, end = 0] = parts;
    return {
      op,
      ktime,
      task: b.task(at + C.task.offset),
      result: b.i32(at + C.result.offset),
      fd: b.i32(at + C.fd.offset),
      family: b.u16(at + C.family.offset),
      type: b.u16(at + C.type.offset),
      protocol: b.u16(at + C.protocol.offset),
      arg: b.u32(at + C.arg.offset),
      local: decodeEndpoint(b, at + C.local.offset, localAt, remoteAt),
      remote: decodeEndpoint(b, at + C.remote.offset, remoteAt, end),
    };
  };
}

const D = structs.vg_net_dns.fields;
const decodeDns: Handler<NetDnsRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_net_dns.size) return "truncated";
  const payloadLen = b.u16(at + D.payload_len.offset);
  if (payloadLen > LIMIT.VG_NET_DNS_PAYLOAD_MAX) return "malformed";
  const parts = tail(at, structs.vg_net_dns.size, size, [payloadLen]);
  if (!parts) return "malformed";
  const [payloadAt = 0, end = 0] = parts;
  // Endpoints of a UDP socket have no Unix names: an empty range stands for them.
  return {
    op: "net.dns",
    ktime,
    task: b.task(at + D.task.offset),
    result: b.i32(at + D.result.offset),
    fd: b.i32(at + D.fd.offset),
    family: b.u16(at + D.family.offset),
    type: b.u16(at + D.type.offset),
    protocol: b.u16(at + D.protocol.offset),
    syscall: b.u16(at + D.syscall.offset),
    size: b.u32(at + D.size.offset),
    local: decodeEndpoint(b, at + D.local.offset, payloadAt, payloadAt),
    remote: decodeEndpoint(b, at + D.remote.offset, payloadAt, payloadAt),
    payload: Buffer.from(b.buf.subarray(payloadAt, end)),
  };
};

const OP = enums.vg_op;
export const netHandlers = new Map<number, Handler<NetRecord>>([
  [OP.VG_OP_NET_CONNECT, callDecoder("net.connect")],
  [OP.VG_OP_NET_ACCEPT, callDecoder("net.accept")],
  [OP.VG_OP_NET_BIND, callDecoder("net.bind")],
  [OP.VG_OP_NET_LISTEN, callDecoder("net.listen")],
  [OP.VG_OP_NET_DNS, decodeDns],
]);
