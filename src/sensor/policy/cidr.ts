import { BlockList, isIP } from "node:net";
import { type CelFunc, type CelMap, CelScalar, celMethod, listType, mapType } from "@bufbuild/cel";

/**
 * `address.inCidr(ranges)`: whether an IP address is in one of the CIDR ranges given, as one
 * string, a list of strings, or `lists.NAME`. A range may be a single address (10.0.0.1 is
 * 10.0.0.1/32). An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is in the IPv4 ranges of the
 * address it maps, as the kernel sees it. CEL has no CIDR type of its own, and `in` on a list of
 * strings compares whole strings: this function is the one way to write a range.
 */

/** A range as the kernel's trie holds it: 16 bytes (IPv4 mapped into IPv6) and a prefix length. */
export interface Cidr {
  /** The range as written. */
  text: string;
  family: 4 | 6;
  /** The address part as written, without the prefix length. */
  address: string;
  /** The prefix length in its own family (0-32 or 0-128). */
  bits: number;
}

/** A range, or why it is not one. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `'${text}' is not an IP address or a CIDR range`;
  const max = family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const written = text.slice(slash + 1);
    bits = /^\d{1,3}$/.test(written) ? Number(written) : Number.NaN;
    if (!(bits >= 0 && bits <= max)) return `'${text}': the prefix length must be 0 to ${max}`;
  }
  return { text, family: family as 4 | 6, address, bits };
}

/** The 16 bytes of an address of either family (IPv4 as ::ffff:a.b.c.d). */
export function addressBytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  if (isIP(address) === 4) {
    out[10] = 0xff;
    out[11] = 0xff;
    address.split(".").forEach((part, i) => {
      out[12 + i] = Number(part);
    });
    return out;
  }
  // Expand "::" and an embedded IPv4 tail into eight groups.
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const v4 = tail[1].split(".").map(Number);
    text = `${text.slice(0, tail.index)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups =
    rest === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill("0"), ...right];
  for (let i = 0; i < groups.length; i++) out.writeUInt16BE(Number.parseInt(groups[i] as string, 16), i * 2);
  return out;
}

/** The range's prefix length in the 128-bit space of addressBytes. */
export function mappedBits(c: Cidr): number {
  return c.family === 4 ? 96 + c.bits : c.bits;
}

/** A BlockList of the ranges; IPv4 ranges also hold their IPv4-mapped IPv6 addresses. */
function rangesOf(ranges: Iterable<string>): BlockList {
  const list = new BlockList();
  for (const text of ranges) {
    const c = parseCidr(text);
    if (typeof c === "string") throw new Error(c);
    list.addSubnet(c.address, c.bits, c.family === 4 ? "ipv4" : "ipv6");
  }
  return list;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Whether `address` is in `list`; an address that is none is in no range. */
function contains(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.check(address, "ipv4");
  if (family !== 6) return false;
  const mapped = MAPPED_V4.exec(address);
  return list.check(address, "ipv6") || (mapped?.[1] !== undefined && list.check(mapped[1], "ipv4"));
}

// Ranges are parsed once: a rule tests the same constant ranges on every event.
const byText = new Map<string, BlockList>();
const byList = new WeakMap<object, BlockList>();
const MAX_CACHED = 4096;

function cached(key: string, ranges: () => Iterable<string>): BlockList {
  let list = byText.get(key);
  if (!list) {
    list = rangesOf(ranges());
    if (byText.size < MAX_CACHED) byText.set(key, list);
  }
  return list;
}

function inCidrOne(this: string, range: string): boolean {
  return contains(
    cached(range, () => [range]),
    this,
  );
}

function inCidrList(this: string, ranges: Iterable<unknown>): boolean {
  const texts = [...ranges].map(String);
  return contains(
    cached(texts.join("\n"), () => texts),
    this,
  );
}

function inCidrMap(this: string, ranges: CelMap): boolean {
  let list = byList.get(ranges);
  if (!list) {
    list = rangesOf([...ranges.keys()].map(String));
    byList.set(ranges, list);
  }
  return contains(list, this);
}

/** The overloads of inCidr for the policy environment. */
const { STRING, BOOL } = CelScalar;
export const CIDR_FUNCS: CelFunc[] = [
  celMethod("inCidr", STRING, [STRING], BOOL, inCidrOne),
  celMethod("inCidr", STRING, [listType(STRING)], BOOL, inCidrList as never),
  celMethod("inCidr", STRING, [mapType(STRING, BOOL)], BOOL, inCidrMap as never),
];
