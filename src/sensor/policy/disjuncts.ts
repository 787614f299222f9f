import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { parseCidr } from "./cidr.js";
import type { Lists } from "./kernel-part.js";
import { constant, pathOf } from "./prefilter.js";

/**
 * A condition the kernel decides (enforceable.ts checked that it is in the subset), as the
 * kernel holds it: an OR of disjuncts, each an AND of literals, each a test of one field (an
 * atom) or its negation. `when && !exception...` becomes this by De Morgan and distribution;
 * each disjunct is one slot of the hook that enforces the rule (src/sensor/enforce).
 */

/**
 * How an atom tests its field: exact strings, string prefixes and suffixes, integers (ids,
 * ports), and address ranges (a single address is a range of one).
 */
export type AtomTest = "exact" | "prefix" | "suffix" | "value" | "cidr";

export interface Atom {
  /** The event field, as rules name it (`process.exe`). */
  field: string;
  test: AtomTest;
  /** The atom holds when the field passes the test for one of these, sorted. */
  values: readonly (string | number)[];
}

export interface Literal {
  atom: Atom;
  negated: boolean;
}

export type Disjunct = readonly Literal[];

/** One rule's disjuncts are slots of one hook, which has 64. */
export const MAX_DISJUNCTS = 64;

/**
 * Bytes of a string the kernel compares (VG_ENFORCE_STR - 1): a prefix is matched on this many
 * bytes; an exact string needs one more for its NUL; a suffix, one fewer than VG_ENFORCE_STR.
 */
export const STRING_BYTES = { exact: 250, prefix: 251, suffix: 252 } as const;

const ADDRESS_FIELDS = new Set(["net.remote.address", "net.local.address"]);
const ID_FIELDS = new Map([
  ["process.uid", 0xffffffff],
  ["process.euid", 0xffffffff],
  ["process.gid", 0xffffffff],
  ["net.remote.port", 0xffff],
  ["net.local.port", 0xffff],
]);

/** A part of a condition that the kernel's tables cannot hold, and why. */
export interface DisjunctProblem {
  /** 0: the condition; i + 1: exception i. */
  index: number;
  node: Expr;
  why: string;
}

class Unfit extends Error {
  constructor(
    readonly node: Expr,
    readonly why: string,
  ) {
    super(why);
  }
}

/**
 * The disjuncts of `when && !exceptions[0] && ...`, or the first part that does not fit. The
 * trees must be in the kernel subset (outsideKernel found nothing in them).
 */
export function toDisjuncts(
  when: Expr,
  exceptions: readonly Expr[],
  lists: Lists,
): { disjuncts: Disjunct[] } | { problem: DisjunctProblem } {
  const trees = [when, ...exceptions];
  let out: Disjunct[] = [[]];
  for (let index = 0; index < trees.length; index++) {
    try {
      const tree = trees[index] as Expr;
      out = and(out, dnf(tree, index > 0, lists), tree);
    } catch (err) {
      if (!(err instanceof Unfit)) throw err;
      return { problem: { index, node: err.node, why: err.why } };
    }
  }
  return { disjuncts: out };
}

/** The atom's identity: two atoms with the same key are one bit in the kernel. */
export function atomKey(atom: Atom): string {
  return JSON.stringify([atom.field, atom.test, atom.values]);
}

function limit(result: Disjunct[], at: Expr): Disjunct[] {
  if (result.length > MAX_DISJUNCTS) {
    throw new Unfit(
      at,
      `the condition has ${result.length} alternatives once its ORs are spread out, more than the ${MAX_DISJUNCTS} one rule can have in the kernel; split the rule or use lists`,
    );
  }
  return result;
}

function or(a: Disjunct[], b: Disjunct[], at: Expr): Disjunct[] {
  const seen = new Set<string>();
  const out: Disjunct[] = [];
  for (const d of [...a, ...b]) {
    const key = d
      .map((l) => `${l.negated ? "!" : ""}${atomKey(l.atom)}`)
      .sort()
      .join("&");
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return limit(out, at);
}

function and(a: Disjunct[], b: Disjunct[], at: Expr): Disjunct[] {
  const out: Disjunct[] = [];
  for (const x of a) {
    for (const y of b) {
      const literals = new Map<string, Literal>();
      let contradiction = false;
      for (const l of [...x, ...y]) {
        const key = atomKey(l.atom);
        const before = literals.get(key);
        if (before && before.negated !== l.negated) contradiction = true;
        literals.set(key, l);
      }
      if (!contradiction) out.push([...literals.values()]);
    }
    if (out.length > MAX_DISJUNCTS * MAX_DISJUNCTS) break;
  }
  return or(out, [], at);
}

const TRUE: Disjunct[] = [[]];
const FALSE: Disjunct[] = [];

/** The disjuncts of `e`, or of `!e` when negated. */
function dnf(e: Expr, negated: boolean, lists: Lists): Disjunct[] {
  const c = constant(e);
  if (typeof c === "boolean") return c !== negated ? TRUE : FALSE;
  if (e.exprKind.case !== "callExpr") throw new Unfit(e, "not a test the kernel makes");
  const { function: fn, args, target } = e.exprKind.value;
  const [a, b, c3] = args as [Expr, Expr, Expr];
  switch (fn) {
    case "_&&_":
      return negated
        ? or(dnf(a, true, lists), dnf(b, true, lists), e)
        : and(dnf(a, false, lists), dnf(b, false, lists), e);
    case "_||_":
      return negated
        ? and(dnf(a, true, lists), dnf(b, true, lists), e)
        : or(dnf(a, false, lists), dnf(b, false, lists), e);
    case "!_":
      return dnf(a, !negated, lists);
    case "_?_:_":
      // c ? x : y is (c && x) || (!c && y); its negation (c && !x) || (!c && !y).
      return or(
        and(dnf(a, false, lists), dnf(b, negated, lists), e),
        and(dnf(a, true, lists), dnf(c3, negated, lists), e),
        e,
      );
    case "_==_":
    case "_!=_": {
      const fieldFirst = pathOf(a) !== undefined && constant(a) === undefined;
      const [f, v] = fieldFirst ? [a, b] : [b, a];
      return literal(equality(e, field(f), [constant(v)], v), negated !== (fn === "_!=_"));
    }
    case "@in":
      return literal(equality(e, field(a), listValues(b, lists), b), negated);
    case "startsWith":
    case "endsWith": {
      const name = field(target);
      const value = constant(a);
      if (typeof value !== "string") throw new Unfit(a, "compare with a string constant");
      const test = fn === "startsWith" ? "prefix" : "suffix";
      checkBytes(a, test, value);
      return literal({ field: name, test, values: [value] }, negated);
    }
    case "inCidr": {
      const name = field(target);
      const ranges = a.exprKind.case === "constExpr" ? [constant(a)] : listValues(a, lists);
      return literal({ field: name, test: "cidr", values: cidrs(a, ranges) }, negated);
    }
    default:
      throw new Unfit(e, `${fn}() is not a test the kernel makes`);
  }
}

function literal(atom: Atom | undefined, negated: boolean): Disjunct[] {
  // An atom that can never hold (an empty list, an id out of range) is false.
  if (!atom) return negated ? TRUE : FALSE;
  return [[{ atom, negated }]];
}

function field(e: Expr | undefined): string {
  const path = e && pathOf(e);
  if (!path || !e) throw new Error("a field was expected: the subset check lets no other shape through");
  return path.join(".");
}

function listValues(e: Expr, lists: Lists): unknown[] {
  const path = pathOf(e);
  if (path?.[0] === "lists" && path.length === 2) return [...(lists.get(path[1] as string) ?? [])];
  if (e.exprKind.case === "listExpr") return e.exprKind.value.elements.map((x) => constant(x));
  throw new Unfit(e, "a list of constants or lists.NAME was expected");
}

/** The atom of `field == one of values`; undefined when no value can ever be equal. */
function equality(at: Expr, name: string, values: unknown[], valueNode: Expr): Atom | undefined {
  if (ADDRESS_FIELDS.has(name)) return { field: name, test: "cidr", values: cidrs(valueNode, values) };
  const max = ID_FIELDS.get(name);
  if (max !== undefined) {
    const ids = values.filter(
      (v): v is number | bigint =>
        (typeof v === "number" || typeof v === "bigint") &&
        Number(v) >= 0 &&
        Number(v) <= max &&
        Number.isInteger(Number(v)),
    );
    if (ids.length === 0) return undefined;
    return { field: name, test: "value", values: sorted(ids.map(Number)) };
  }
  const strings = values.filter((v): v is string => typeof v === "string");
  for (const s of strings) checkBytes(valueNode, "exact", s);
  if (strings.length === 0) return undefined;
  void at;
  return { field: name, test: "exact", values: sorted(strings) };
}

function cidrs(at: Expr, values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const parsed = typeof v === "string" ? parseCidr(v) : `${String(v)} is not an IP address or a CIDR range`;
    if (typeof parsed === "string") throw new Unfit(at, parsed);
    out.push(parsed.text);
  }
  return sorted(out);
}

function checkBytes(at: Expr, test: keyof typeof STRING_BYTES, value: string): void {
  const bytes = Buffer.byteLength(value);
  if (bytes > STRING_BYTES[test]) {
    const what = { exact: "an exact string", prefix: "a prefix", suffix: "a suffix" }[test];
    throw new Unfit(at, `the kernel compares ${what} of at most ${STRING_BYTES[test]} bytes; this one has ${bytes}`);
  }
}

function sorted<T extends string | number>(values: T[]): T[] {
  return [...new Set(values)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
