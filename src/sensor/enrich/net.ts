import type { Endpoint } from "../../events/net.js";
import type { EndpointRecord, NetCallRecord, NetDnsRecord, NetRecord } from "../kernel/records/net.js";
import type { Builders } from "./builders.js";
import { parseDnsQuery } from "./dns.js";

/* Names of the uapi numbers the records carry (linux/socket.h, linux/net.h, linux/in.h). */
const FAMILIES: Record<number, string> = {
  1: "unix",
  2: "ipv4",
  10: "ipv6",
  16: "netlink",
  17: "packet",
  31: "bluetooth",
  38: "alg",
  40: "vsock",
  44: "xdp",
};
const TYPES: Record<number, string> = {
  1: "stream",
  2: "dgram",
  3: "raw",
  4: "rdm",
  5: "seqpacket",
  6: "dccp",
  10: "packet",
};
const IP_PROTOCOLS: Record<number, string> = {
  0: "ip",
  1: "icmp",
  2: "igmp",
  6: "tcp",
  17: "udp",
  33: "dccp",
  41: "ipv6",
  47: "gre",
  50: "esp",
  58: "icmpv6",
  132: "sctp",
  136: "udplite",
  255: "raw",
  262: "mptcp",
};
const SEND_SYSCALLS: Record<number, string> = { 1: "sendto", 2: "sendmsg", 3: "sendmmsg", 4: "write" };

const AF_INET = 2;
const AF_INET6 = 10;

const name = (table: Record<number, string>, n: number): string => table[n] ?? String(n);

function endpoint(e: EndpointRecord | null): Endpoint | null {
  return e && { address: e.address, port: e.port };
}

/** The fields every network event has, from the socket and the call. */
function socketPart(r: NetCallRecord | NetDnsRecord) {
  const isSocket = r.family !== 0;
  const ip = r.family === AF_INET || r.family === AF_INET6;
  return {
    family: isSocket ? name(FAMILIES, r.family) : null,
    type: isSocket ? name(TYPES, r.type) : null,
    // Only IP sockets have IP protocols; others have none (Unix) or one of their own (netlink).
    protocol: !isSocket || (!ip && r.protocol === 0) ? null : ip ? name(IP_PROTOCOLS, r.protocol) : String(r.protocol),
    fd: r.fd,
    result: r.result,
    local: endpoint(r.local),
    remote: endpoint(r.remote),
  };
}

export const netBuilders: Builders<NetRecord> = {
  "net.connect": (r, base, emit) => emit({ kind: "net.connect", ...base, net: socketPart(r) }),
  "net.accept": (r, base, emit) => emit({ kind: "net.accept", ...base, net: { ...socketPart(r), flags: r.arg } }),
  "net.bind": (r, base, emit) => emit({ kind: "net.bind", ...base, net: socketPart(r) }),
  "net.listen": (r, base, emit) =>
    // The backlog is an int in the kernel.
    emit({ kind: "net.listen", ...base, net: { ...socketPart(r), backlog: r.arg | 0 } }),
  "net.dns": (r, base, emit) =>
    emit({
      kind: "net.dns",
      ...base,
      net: { ...socketPart(r), syscall: name(SEND_SYSCALLS, r.syscall), size: r.size },
      dns: parseDnsQuery(r.payload, r.size),
    }),
};
