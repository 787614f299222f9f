import { z } from "zod";
import { eventBase } from "./process.js";

/** One end of a connection. */
export const EndpointSchema = z.object({
  address: z
    .string()
    .describe(
      'IPv4 ("127.0.0.1") or IPv6 ("::1", "::ffff:127.0.0.1" as given); for a Unix socket its path as it was bound or passed (it may be relative), "@name" for an abstract name, "" for an unnamed socket or a family whose addresses are not decoded',
    ),
  port: z.number().int().nullable().describe("null for Unix sockets and families without ports"),
});

/** What every network event says about the socket and the call. */
const socketFields = {
  family: z
    .string()
    .nullable()
    .describe('"ipv4", "ipv6", "unix", "netlink", "packet", ... or the number; null when fd is not a socket'),
  type: z.string().nullable().describe('"stream", "dgram", "raw", "seqpacket", ... or the number'),
  protocol: z
    .string()
    .nullable()
    .describe('"tcp", "udp", "icmp", "icmpv6", "sctp", ... or the number; null when the socket has none (Unix)'),
  fd: z.number().int().describe("the socket the call was made on"),
  result: z.number().int().describe("the syscall's result: 0, a new fd or a byte count, or -errno"),
  local: EndpointSchema.nullable(),
  remote: EndpointSchema.nullable(),
};

export const NetConnectSchema = z.object({
  kind: z.literal("net.connect"),
  ...eventBase,
  net: z
    .object(socketFields)
    .describe(
      "remote: the address the caller passed; local: the socket's own address after the call (the source the kernel chose), when it has one",
    ),
});

export const NetAcceptSchema = z.object({
  kind: z.literal("net.accept"),
  ...eventBase,
  net: z
    .object({
      ...socketFields,
      flags: z.number().int().describe("accept4's flags (SOCK_NONBLOCK, SOCK_CLOEXEC); 0 for accept"),
    })
    .describe(
      "fd: the listening socket; result: the new fd; local and remote: the new socket's (remote is the peer), or the listening socket's local address when accept failed",
    ),
});

export const NetBindSchema = z.object({
  kind: z.literal("net.bind"),
  ...eventBase,
  net: z
    .object(socketFields)
    .describe("local: the address bound, with the port the kernel chose when the caller asked for port 0"),
});

export const NetListenSchema = z.object({
  kind: z.literal("net.listen"),
  ...eventBase,
  net: z
    .object({ ...socketFields, backlog: z.number().int().describe("as the caller passed it") })
    .describe("local: the address the socket listens on"),
});

export const DnsQuerySchema = z.object({
  id: z.number().int().nullable(),
  opcode: z.string().nullable().describe('"QUERY", "NOTIFY", "UPDATE", ... or the number'),
  response: z.boolean().nullable().describe("the QR bit: a response rather than a query"),
  question_count: z.number().int().nullable(),
  name: z.string().nullable().describe('the first question\'s name, without the final dot ("." for the root)'),
  type: z.string().nullable().describe('"A", "AAAA", "MX", "TXT", ... or "TYPE<n>"'),
  type_code: z.number().int().nullable(),
  class: z.string().nullable().describe('"IN", "CH", ... or "CLASS<n>"'),
  error: z.string().nullable().describe("why the message could not be read to the end of its first question"),
});

export const NetDnsSchema = z.object({
  kind: z.literal("net.dns"),
  ...eventBase,
  net: z.object({
    ...socketFields,
    syscall: z.string().describe('"sendto", "sendmsg", "sendmmsg" or "write"'),
    size: z.number().int().describe("bytes of the datagram"),
  }),
  dns: DnsQuerySchema,
});

/** Events of the network domain. */
export const netEvents = [NetConnectSchema, NetAcceptSchema, NetBindSchema, NetListenSchema, NetDnsSchema] as const;

export type Endpoint = z.infer<typeof EndpointSchema>;
export type DnsQuery = z.infer<typeof DnsQuerySchema>;
