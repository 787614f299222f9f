import { type Access, type InterestSpec, KERNEL_KINDS, type KindInterest } from "./interest.js";

/**
 * Interest specs as sets of events: what the kernel's filter lets through, computed in
 * JavaScript with the kernel's own rules (lib/filter.h), so that specs can be joined and
 * compared without a kernel, and tests can ask what a spec would send.
 */

const BITS: Record<Access, number> = { none: 0, read: 1, write: 2, any: 3 };
const NAMES: Access[] = ["none", "read", "write", "any"];

export const accessBits = (a: Access): number => BITS[a];
export const accessName = (bits: number): Access => NAMES[bits & 3] as Access;

/** Process events keep the process table true: the kernel always sends them (see applyInterest). */
export const ALWAYS_SENT: ReadonlySet<string> = new Set(["process.exec", "process.fork", "process.exit"]);

/** A kind's interest as applyInterest writes it: an absent kind is sent whole. */
export function kindInterest(spec: InterestSpec, kind: string): KindInterest {
  return ALWAYS_SENT.has(kind) ? { enabled: true } : (spec.kinds[kind] ?? { enabled: true });
}

/**
 * The access the kernel lets through on `path` for a kind's interest: the longest prefix in
 * `paths` decides, else `pathDefault`; none when the kind is off.
 */
export function pathVerdict(interest: KindInterest, path: string): Access {
  if (!interest.enabled) return "none";
  let best: string | undefined;
  for (const prefix of Object.keys(interest.paths ?? {})) {
    if (path.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? (interest.pathDefault ?? "any") : (interest.paths?.[best] ?? "none");
}

/**
 * The kind's interest that sends exactly what either sends. With the prefixes of both, the
 * longest one matching a path is at least as long as either's own longest match, so taking at
 * each prefix the OR of both verdicts there gives, on every path, the OR of both verdicts.
 */
export function unionKind(a: KindInterest, b: KindInterest): KindInterest {
  if (!a.enabled) return b;
  if (!b.enabled) return a;
  const pathDefault = accessName(BITS[a.pathDefault ?? "any"] | BITS[b.pathDefault ?? "any"]);
  const prefixes = new Set([...Object.keys(a.paths ?? {}), ...Object.keys(b.paths ?? {})]);
  const paths: Record<string, Access> = {};
  for (const prefix of [...prefixes].sort()) {
    const access = accessName(BITS[pathVerdict(a, prefix)] | BITS[pathVerdict(b, prefix)]);
    // A prefix that says what the default says already is dropped.
    if (access !== pathDefault || hasShorterPrefix(paths, prefix)) paths[prefix] = access;
  }
  if (pathDefault === "any" && Object.values(paths).every((x) => x === "any")) return { enabled: true };
  return Object.keys(paths).length > 0 ? { enabled: true, pathDefault, paths } : { enabled: true, pathDefault };
}

function hasShorterPrefix(paths: Record<string, Access>, prefix: string): boolean {
  return Object.keys(paths).some((p) => p !== prefix && prefix.startsWith(p));
}

/**
 * A spec that sends every event either sends: kinds joined with unionKind, and only the
 * processes both ignore left out.
 */
export function unionInterest(a: InterestSpec, b: InterestSpec): InterestSpec {
  const kinds: Record<string, KindInterest> = {};
  for (const kind of KERNEL_KINDS.keys()) {
    if (ALWAYS_SENT.has(kind)) continue;
    const joined = unionKind(kindInterest(a, kind), kindInterest(b, kind));
    if (!(joined.enabled && joined.paths === undefined && (joined.pathDefault ?? "any") === "any")) {
      kinds[kind] = joined;
    }
  }
  return {
    kinds,
    ignoreComms: a.ignoreComms.filter((c) => b.ignoreComms.includes(c)),
    ignoreExes: a.ignoreExes.filter((e) => b.ignoreExes.includes(e)),
  };
}
