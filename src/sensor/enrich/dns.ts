import type { DnsQuery } from "../../events/net.js";

/*
 * A DNS message's header and first question (RFC 1035 4.1), read from the bytes the kernel
 * copied. Written by hand: the sensor needs a dozen bytes of a tiny, well-bounded format, and
 * every way the input can be wrong (compression loops, overlong labels, a cut datagram) must give
 * an `error` and the fields read so far, never an exception; a general DNS library parses far
 * more and throws on what it does not like.
 *
 *   header:   id u16, flags u16 (QR 0x8000, opcode 0x7800), qdcount, ancount, nscount, arcount
 *   question: name, type u16, class u16
 *   name:     labels, each a length byte (0-63) and that many bytes, ended by a 0 byte; or a
 *             pointer (two bytes, top bits 11) to where the rest of the name is in the message
 */

const HEADER_BYTES = 12;
/* RFC 1035 2.3.4: a name is at most 255 bytes on the wire, a label at most 63. */
const NAME_MAX = 255;

const TYPES: Record<number, string> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  12: "PTR",
  13: "HINFO",
  15: "MX",
  16: "TXT",
  17: "RP",
  18: "AFSDB",
  24: "SIG",
  25: "KEY",
  28: "AAAA",
  29: "LOC",
  33: "SRV",
  35: "NAPTR",
  36: "KX",
  37: "CERT",
  39: "DNAME",
  41: "OPT",
  43: "DS",
  44: "SSHFP",
  46: "RRSIG",
  47: "NSEC",
  48: "DNSKEY",
  50: "NSEC3",
  51: "NSEC3PARAM",
  52: "TLSA",
  59: "CDS",
  60: "CDNSKEY",
  61: "OPENPGPKEY",
  64: "SVCB",
  65: "HTTPS",
  99: "SPF",
  249: "TKEY",
  250: "TSIG",
  251: "IXFR",
  252: "AXFR",
  255: "ANY",
  256: "URI",
  257: "CAA",
};

const CLASSES: Record<number, string> = { 1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY" };

const OPCODES: Record<number, string> = { 0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE", 6: "DSO" };

/** RFC 3597's names for types and classes without a mnemonic. */
export const dnsTypeName = (code: number): string => TYPES[code] ?? `TYPE${code}`;
export const dnsClassName = (code: number): string => CLASSES[code] ?? `CLASS${code}`;

/**
 * A label in master-file form (RFC 1035 5.1): '.' and '\' escaped with '\', bytes outside
 * printable ASCII as \DDD, so that a label cannot pass for two and the name is plain text.
 */
function labelText(bytes: Buffer): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, "0")}`;
  }
  return out;
}

type NameResult = { name: string; end: number } | { error: string };

/**
 * The name at `at`: its text and where the question goes on after it. A pointer must point
 * before the first byte read since the last jump, so every jump lands further back than the one
 * before and a loop is impossible.
 */
function readName(msg: Buffer, at: number, cut: boolean): NameResult {
  const truncated = cut ? "truncated: the name runs past the bytes captured" : "truncated: the name runs past the end";
  const labels: string[] = [];
  let wire = 1; // the final 0 byte
  let pos = at;
  let end = -1; // after the first pointer, the question goes on from there
  let runStart = at;
  for (;;) {
    if (pos >= msg.length) return { error: truncated };
    const len = msg[pos] ?? 0;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= msg.length) return { error: truncated };
      const target = ((len & 0x3f) << 8) | (msg[pos + 1] ?? 0);
      if (end < 0) end = pos + 2;
      if (target >= runStart)
        return {
          error: `compression pointer at ${pos} to ${target} does not point back: a loop or a forward reference`,
        };
      pos = target;
      runStart = target;
      continue;
    }
    if (kind !== 0) return { error: `reserved label type 0x${kind.toString(16)} at ${pos}` };
    if (len === 0) break;
    wire += len + 1;
    if (wire > NAME_MAX) return { error: `name longer than ${NAME_MAX} bytes` };
    if (pos + 1 + len > msg.length) return { error: truncated };
    labels.push(labelText(msg.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
  return { name: labels.length === 0 ? "." : labels.join("."), end: end >= 0 ? end : pos + 1 };
}

/**
 * Reads the header and the first question of a DNS message. `payload` holds the message's first
 * bytes and `size` its full length, so that running out of captured bytes is told apart from a
 * message that is itself short. Never throws.
 */
export function parseDnsQuery(payload: Buffer, size: number = payload.length): DnsQuery {
  const q: DnsQuery = {
    id: null,
    opcode: null,
    response: null,
    question_count: null,
    name: null,
    type: null,
    type_code: null,
    class: null,
    error: null,
  };
  const cut = size > payload.length;
  if (payload.length < HEADER_BYTES) {
    q.error = `truncated: ${payload.length} bytes, shorter than the 12-byte header`;
    return q;
  }
  const flags = payload.readUInt16BE(2);
  const opcode = (flags >> 11) & 0xf;
  q.id = payload.readUInt16BE(0);
  q.opcode = OPCODES[opcode] ?? String(opcode);
  q.response = (flags & 0x8000) !== 0;
  q.question_count = payload.readUInt16BE(4);
  if (q.question_count === 0) {
    q.error = "no question";
    return q;
  }
  const name = readName(payload, HEADER_BYTES, cut);
  if ("error" in name) {
    q.error = name.error;
    return q;
  }
  q.name = name.name;
  if (name.end + 4 > payload.length) {
    q.error = cut
      ? "truncated: the question runs past the bytes captured"
      : "truncated: the question's type and class are missing";
    return q;
  }
  q.type_code = payload.readUInt16BE(name.end);
  q.type = dnsTypeName(q.type_code);
  q.class = dnsClassName(payload.readUInt16BE(name.end + 2));
  return q;
}
