import { unparse } from "@bufbuild/cel";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { type InterestSpec, KERNEL_KINDS, type KindInterest } from "../kernel/interest.js";
import { ALWAYS_SENT, accessName, unionInterest, unionKind } from "../kernel/interest-union.js";
import type { CompiledRule } from "./compile.js";
import { constant, pathOf } from "./prefilter.js";

/**
 * The part of a rule's condition that the kernel can test, read from its tree after macros
 * are spliced in: for each kind the rule is on, whether the kind is needed at all and, for the
 * file kinds, which path prefixes (and, for file.open, which access) an event must have for
 * the rule to be able to match. The kernel filter built from it is a superset of what the rule
 * matches: each part only ever answers "cannot match", and cel-es still judges every event that
 * passes (the sibling of prefilter.ts, which does the same in user space).
 *
 * What narrows: `==`, `startsWith`, `in` (a list or lists.NAME) and `matches` with an anchored
 * literal start, on a path the kernel tests for that kind, with an absolute literal; `file.write`
 * (and `file.create`, `file.truncate`, which imply it) for file.open; `&&`, `||`, `!` and `?:`
 * of those. What widens to "every path" for the kind: anything else, including a negated path
 * test, a path test on a field the kernel does not see, and any part of a comprehension.
 */

/** Access bits as enum vg_path_access: 1 read, 2 write. */
const READ = 1;
const WRITE = 2;
const ANY = 3;

/**
 * Where a rule can match, for one kind: a path under one of `prefixes` with one of its access
 * bits, or any path with one of the `other` bits. The access of a path is the OR over every
 * prefix it is under, with `other`.
 */
interface Bound {
  other: number;
  prefixes: [string, number][];
}

const TOP: Bound = { other: ANY, prefixes: [] };
const BOTTOM: Bound = { other: 0, prefixes: [] };

/** More prefixes than this for one kind are not worth a trie: the kind is sent whole. */
export const MAX_PREFIXES = 1024;
/** Bytes of a path the kernel's prefix test sees (VG_PREFIX_MAX - 1). */
const PREFIX_BYTES = 255;
/** Past this many pairs, `a && b` keeps one side instead of crossing them. */
const MAX_CROSS = 4096;

/** The paths the kernel's trie tests for each file kind, as the event names them. */
const KERNEL_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  // The kernel tests `path`: the file a successful open reached (links and ".." followed), the
  // spelling joined to its directory for a failed one. `requested` is not tested: a link
  // spelled below a prefix may reach a file elsewhere.
  ["file.open", ["file.path"]],
  ["file.unlink", ["file.path"]],
  // Both names go through the trie and either one being wanted sends the event.
  ["file.rename", ["file.old_path", "file.new_path"]],
  ["file.link", ["file.old_path", "file.new_path"]],
  ["file.chmod", ["file.path"]],
  ["file.chown", ["file.path"]],
  // Its target is a string stored in the link, not a path the kernel tests.
  ["file.symlink", ["file.path"]],
  ["file.mkdir", ["file.path"]],
  ["file.truncate", ["file.path"]],
]);

/** Boolean fields of file.open that say the open writes (enum vg_path_access's write). */
const WRITES = new Set(["file.write", "file.create", "file.truncate"]);

/** A kind the kernel filters by path. */
export const filtersPaths = (kind: string): boolean => KERNEL_PATHS.has(kind);

/** The part of one condition, for one kind, that the kernel tests. */
export interface KernelPart {
  kind: string;
  /** Where the condition comes from: "when", or a sequence's "steps[1].when". */
  source: string;
  /** What the kernel must send for this condition; enabled false when it can never match. */
  interest: KindInterest;
  /** The conjuncts of the condition that only user space decides, as CEL text. */
  remainder: string[];
}

/** A list of the policy by name, as `x in lists.NAME` sees it. */
export type Lists = ReadonlyMap<string, readonly (string | number)[]>;

/**
 * The kernel parts of a condition on `kinds`. A sequence rule's steps each give their own
 * condition and kind: call this once per step, with the step's label as `source`.
 */
export function kernelParts(expr: Expr, kinds: readonly string[], lists: Lists, source = "when"): KernelPart[] {
  return kinds.map((kind) => {
    const bound = simplify(boundOf(expr, kind, lists, false));
    return { kind, source, interest: toInterest(bound), remainder: remainder(expr, kind) };
  });
}

/**
 * What the kernel must send for a set of parts: each kind the union of its parts, and a kind
 * no part names off. Process events are left out: the kernel always sends them (applyInterest).
 */
export function partsInterest(parts: Iterable<KernelPart>): InterestSpec {
  const kinds: Record<string, KindInterest> = {};
  for (const kind of KERNEL_KINDS.keys()) if (!ALWAYS_SENT.has(kind)) kinds[kind] = { enabled: false };
  for (const part of parts) {
    const before = kinds[part.kind];
    if (before) kinds[part.kind] = unionKind(before, part.interest);
  }
  return { kinds, ignoreComms: [], ignoreExes: [] };
}

/**
 * What the kernel must send for the enabled rules among `rules`, joined with `base` (what the
 * user asked the kernel for besides, see `vigil run --interest`), whose ignored processes stay
 * ignored: those are a choice the user made about the whole sensor.
 */
export function policyInterest(rules: readonly CompiledRule[], base?: InterestSpec): InterestSpec {
  const own = partsInterest(rules.filter((r) => r.enabled).flatMap((r) => r.kernel));
  if (!base) return own;
  return { ...unionInterest(base, own), ignoreComms: base.ignoreComms, ignoreExes: base.ignoreExes };
}

function toInterest(b: Bound): KindInterest {
  if (b.other === 0 && b.prefixes.length === 0) return { enabled: false };
  if (b.prefixes.length === 0)
    return b.other === ANY ? { enabled: true } : { enabled: true, pathDefault: accessName(b.other) };
  // In the trie the longest prefix decides: each prefix carries what every prefix above it allows.
  const paths: Record<string, ReturnType<typeof accessName>> = {};
  for (const [prefix] of [...b.prefixes].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    paths[prefix] = accessName(allowed(b, prefix));
  }
  return { enabled: true, pathDefault: accessName(b.other), paths };
}

/** The access a bound allows on a path. */
function allowed(b: Bound, path: string): number {
  let bits = b.other;
  for (const [prefix, access] of b.prefixes) if (path.startsWith(prefix)) bits |= access;
  return bits;
}

function or(a: Bound, b: Bound): Bound {
  return { other: a.other | b.other, prefixes: [...a.prefixes, ...b.prefixes] };
}

/**
 * Paths both allow: under two prefixes, one of which extends the other, the longer; under a
 * prefix of one and anywhere for the other, that prefix.
 */
function and(a: Bound, b: Bound): Bound {
  if (a.prefixes.length * b.prefixes.length > MAX_CROSS) return a.prefixes.length <= b.prefixes.length ? a : b;
  const prefixes: [string, number][] = [];
  for (const [pa, ba] of a.prefixes) {
    prefixes.push([pa, ba & b.other]);
    for (const [pb, bb] of b.prefixes) {
      if (pa.startsWith(pb)) prefixes.push([pa, ba & bb]);
      else if (pb.startsWith(pa)) prefixes.push([pb, ba & bb]);
    }
  }
  for (const [pb, bb] of b.prefixes) prefixes.push([pb, bb & a.other]);
  return { other: a.other & b.other, prefixes };
}

/** Without prefixes that add nothing; a bound with too many prefixes becomes a bound on access only. */
function simplify(b: Bound): Bound {
  const merged = new Map<string, number>();
  for (const [prefix, bits] of b.prefixes) merged.set(prefix, (merged.get(prefix) ?? 0) | bits);
  const kept: [string, number][] = [];
  for (const [prefix, bits] of [...merged].sort(([x], [y]) => x.length - y.length)) {
    const above = kept.reduce((acc, [p, a]) => (prefix.startsWith(p) ? acc | a : acc), b.other);
    if ((bits & ~above) !== 0) kept.push([prefix, bits]);
  }
  if (kept.length > MAX_PREFIXES) return { other: kept.reduce((acc, [, a]) => acc | a, b.other), prefixes: [] };
  return { other: b.other, prefixes: kept };
}

/** The bound of events on which `e` is true, or (negated) false. */
function boundOf(e: Expr, kind: string, lists: Lists, negated: boolean): Bound {
  const c = constant(e);
  if (typeof c === "boolean") return c !== negated ? TOP : BOTTOM;
  const field = fieldName(e);
  if (field !== undefined) return accessBound(kind, field, !negated);
  if (e.exprKind.case !== "callExpr") return TOP;
  const { function: fn, args, target } = e.exprKind.value;
  const [a, b, c3] = args;
  const sub = (x: Expr | undefined, neg: boolean) => (x ? boundOf(x, kind, lists, neg) : TOP);
  switch (fn) {
    case "_&&_":
      // True needs both true; false needs one false.
      return negated ? or(sub(a, true), sub(b, true)) : and(sub(a, false), sub(b, false));
    case "_||_":
      return negated ? and(sub(a, true), sub(b, true)) : or(sub(a, false), sub(b, false));
    case "!_":
      return sub(a, !negated);
    case "_?_:_":
      return or(sub(b, negated), sub(c3, negated));
    case "_==_":
    case "_!=_": {
      const equal = (fn === "_==_") !== negated;
      return equality(kind, a, b, equal) ?? equality(kind, b, a, equal) ?? TOP;
    }
    case "startsWith":
      return negated ? TOP : pathPrefix(kind, target, stringConstant(a));
    case "matches":
      return negated ? TOP : pathPrefix(kind, target, literalStart(stringConstant(a)));
    case "@in":
      return negated ? TOP : membership(kind, a, b, lists);
    default:
      return TOP;
  }
}

/** `field == value` (equal) or `field != value` (not equal), when `field` is one the kernel tests. */
function equality(
  kind: string,
  fieldExpr: Expr | undefined,
  valueExpr: Expr | undefined,
  equal: boolean,
): Bound | undefined {
  const field = fieldName(fieldExpr);
  const value = constant(valueExpr);
  if (field === undefined || value === undefined) return undefined;
  if (typeof value === "boolean") return accessBound(kind, field, equal ? value : !value);
  if (typeof value === "string" && equal) return pathPrefix(kind, fieldExpr, value);
  return undefined;
}

/** The bound of a boolean field being `value`: file.open's writes narrow its access. */
function accessBound(kind: string, field: string, value: boolean): Bound {
  if (kind !== "file.open" || !WRITES.has(field)) return TOP;
  if (value) return { other: WRITE, prefixes: [] };
  // Not writing is reading only for `write`; an open without O_CREAT may still write.
  return field === "file.write" ? { other: READ, prefixes: [] } : TOP;
}

/** Paths under `prefix`, when `fieldExpr` is a path the kernel tests and `prefix` is absolute. */
function pathPrefix(kind: string, fieldExpr: Expr | undefined, prefix: string | undefined): Bound {
  const field = fieldName(fieldExpr);
  if (field === undefined || !KERNEL_PATHS.get(kind)?.includes(field)) return TOP;
  if (prefix === undefined || !prefix.startsWith("/")) return TOP;
  return { other: 0, prefixes: [[kernelPrefix(prefix), ANY]] };
}

function membership(kind: string, a: Expr | undefined, b: Expr | undefined, lists: Lists): Bound {
  let values: readonly unknown[] | undefined;
  const list = b && pathOf(b);
  if (list?.length === 2 && list[0] === "lists") values = lists.get(list[1] ?? "");
  else if (b?.exprKind.case === "listExpr") values = b.exprKind.value.elements.map(constant);
  if (!values) return TOP;
  return values
    .map((v) => (typeof v === "string" ? pathPrefix(kind, a, v) : TOP))
    .reduce((acc, x) => or(acc, x), BOTTOM);
}

/** The first PREFIX_BYTES bytes of a prefix, cut on a character: a shorter prefix sends more. */
function kernelPrefix(prefix: string): string {
  if (Buffer.byteLength(prefix) <= PREFIX_BYTES) return prefix;
  let out = "";
  for (const ch of prefix) {
    if (Buffer.byteLength(out + ch) > PREFIX_BYTES) break;
    out += ch;
  }
  return out;
}

const REGEX_SPECIAL = new Set([..."\\.+*?()|[]{}^$"]);

/**
 * The literal text every match of an RE2 pattern starts with, when the pattern is anchored with
 * `^` and has no alternation; undefined otherwise. A character made optional by the quantifier
 * after it is not part of it.
 */
export function literalStart(pattern: string | undefined): string | undefined {
  if (pattern === undefined || !pattern.startsWith("^") || pattern.includes("|")) return undefined;
  let out = "";
  for (let i = 1; i < pattern.length; i++) {
    let ch = pattern[i] as string;
    let width = 1;
    if (ch === "\\") {
      const next = pattern[i + 1];
      // An escaped punctuation character is itself; \d, \w, \Q and the like are not literals.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break;
      ch = next;
      width = 2;
    } else if (REGEX_SPECIAL.has(ch)) {
      break;
    }
    const after = pattern[i + width];
    if (after === "*" || after === "?" || after === "{") break;
    out += ch;
    i += width - 1;
    if (after === "+") break;
  }
  return out === "" ? undefined : out;
}

function stringConstant(e: Expr | undefined): string | undefined {
  const c = constant(e);
  return typeof c === "string" ? c : undefined;
}

/** `file.path` for a select chain from a name; undefined for anything else. */
function fieldName(e: Expr | undefined): string | undefined {
  return e && pathOf(e)?.join(".");
}

/** The conjuncts of a condition, `a && b && c` as [a, b, c]. */
function conjuncts(e: Expr): Expr[] {
  if (e.exprKind.case === "callExpr" && e.exprKind.value.function === "_&&_") {
    return e.exprKind.value.args.flatMap(conjuncts);
  }
  return [e];
}

/**
 * The conjuncts user space still decides. The kernel decides a conjunct exactly only when it
 * tests the same value the event carries: file.open's access, and a prefix of the one path of
 * a kind that does not follow symlinks. Everything else, equality included (the kernel's test
 * is a prefix), is left to cel-es.
 */
function remainder(expr: Expr, kind: string): string[] {
  const exact = (e: Expr): boolean => {
    if (kind === "file.open") {
      const field = fieldName(e) ?? (isNot(e) ? fieldName(notOperand(e)) : undefined);
      return field === "file.write";
    }
    const paths = KERNEL_PATHS.get(kind);
    if (paths?.length !== 1 || e.exprKind.case !== "callExpr") return false;
    const { function: fn, target, args } = e.exprKind.value;
    const prefix = stringConstant(args[0]);
    return (
      fn === "startsWith" &&
      fieldName(target) === paths[0] &&
      prefix?.startsWith("/") === true &&
      Buffer.byteLength(prefix) <= PREFIX_BYTES
    );
  };
  return conjuncts(expr)
    .filter((e) => !exact(e))
    .map(text);
}

/** CEL text of a node; cel-es cannot print the comprehensions that exists() and the like expand to. */
function text(e: Expr): string {
  try {
    return unparse(e);
  } catch {
    return "(a comprehension: exists, all, map or filter)";
  }
}

const isNot = (e: Expr): boolean => e.exprKind.case === "callExpr" && e.exprKind.value.function === "!_";
const notOperand = (e: Expr): Expr | undefined =>
  e.exprKind.case === "callExpr" ? e.exprKind.value.args[0] : undefined;
