import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { EVENT_TYPES } from "./fields.js";
import { constant, pathOf, patternShape } from "./prefilter.js";

/**
 * The strings a field must start with for a condition to be true, and a table that finds, for
 * a field's value, the rules that can then match.
 *
 * Most rules on file events name the paths they watch (`file.path.startsWith('/etc/')`,
 * `file.path in lists.shadow_files`, `lists.dirs.exists(d, file.path.startsWith(d))`): an
 * open of /usr/lib/x86_64-linux-gnu/libc.so.6 can only match the few rules that watch below
 * /usr/lib/. Looked up in a sorted table of every prefix the rules of a kind name, the path
 * gives those rules at once, and the others are not tried.
 */

/** For each string field of the event (`file.path`), the strings one of which it must start with. */
export type Prefixes = ReadonlyMap<string, readonly string[]>;

const NONE: Prefixes = new Map();

/** Above this many prefixes a field's requirement is not kept: the rule is tried on every value. */
const MAX_PREFIXES = 4096;

/**
 * What a condition on `kind` requires of the event's string fields to be true: a rule can only
 * match when each such field starts with one of its strings. Read from `&&` (either side's),
 * `||` (both sides', joined), `==`, `startsWith`, `in` a list, `matches` with a literal start,
 * and `exists` over a list of constants whose body requires it for every element. Only what
 * true implies is read: a negation requires nothing.
 */
export function requiredPrefixes(
  expr: Expr,
  kind: string,
  lists: ReadonlyMap<string, readonly (string | number)[]>,
): Prefixes {
  const type = EVENT_TYPES.get(kind);
  /** The comprehension variables around the node, bound to the element being read ahead. */
  const elements = new Map<string, string>();
  /** An event field of type string, by its dotted path; undefined for anything else. */
  const field = (e: Expr | undefined): string | undefined => {
    const path = pathOf(e);
    if (!path || elements.has(path[0] ?? "") || path[0] === "lists") return undefined;
    let t = type as Parameters<typeof fieldType>[0];
    for (const step of path) t = fieldType(t, step);
    return t?.type === "string" ? path.join(".") : undefined;
  };
  /** A constant string, or one made of constants and bound elements with `+`. */
  const text = (e: Expr | undefined): string | undefined => {
    const c = constant(e);
    if (typeof c === "string") return c;
    const path = pathOf(e);
    if (path?.length === 1) return elements.get(path[0] as string);
    if (e?.exprKind.case === "callExpr" && e.exprKind.value.function === "_+_" && !e.exprKind.value.target) {
      const [a, b] = e.exprKind.value.args;
      const l = text(a);
      const r = text(b);
      return l !== undefined && r !== undefined ? l + r : undefined;
    }
    return undefined;
  };
  const one = (name: string | undefined, values: readonly string[]): Prefixes =>
    name === undefined ? NONE : new Map([[name, values]]);
  const strings = (b: Expr | undefined): string[] | undefined => {
    const listPath = pathOf(b);
    if (listPath?.length === 2 && listPath[0] === "lists") {
      const list = lists.get(listPath[1] ?? "");
      return list?.every((v) => typeof v === "string") ? (list as string[]) : undefined;
    }
    if (b?.exprKind.case === "listExpr") {
      const items = b.exprKind.value.elements.map(text);
      return items.every((v) => v !== undefined) ? (items as string[]) : undefined;
    }
    return undefined;
  };

  const read = (e: Expr): Prefixes => {
    if (e.exprKind.case === "comprehensionExpr") return exists(e);
    if (e.exprKind.case !== "callExpr") return NONE;
    const { function: fn, args, target } = e.exprKind.value;
    const [a, b] = args;
    switch (fn) {
      case "_&&_":
        return both(a ? read(a) : NONE, b ? read(b) : NONE);
      case "_||_":
        return either(a ? read(a) : NONE, b ? read(b) : NONE);
      case "_==_": {
        const l = field(a);
        const r = text(b);
        if (l !== undefined && r !== undefined) return one(l, [r]);
        const l2 = field(b);
        const r2 = text(a);
        return l2 !== undefined && r2 !== undefined ? one(l2, [r2]) : NONE;
      }
      case "startsWith": {
        const prefix = text(a);
        return prefix === undefined ? NONE : one(field(target), [prefix]);
      }
      case "matches": {
        const pattern = text(a);
        const first = pattern === undefined ? undefined : patternShape(pattern)?.[0];
        return typeof first === "string" ? one(field(target), [first]) : NONE;
      }
      case "@in": {
        const values = strings(b);
        return values === undefined ? NONE : one(field(a), values);
      }
      default:
        return NONE;
    }
  };

  /** `exists` over constants: what the body requires whatever the element, for all elements joined. */
  const exists = (e: Expr): Prefixes => {
    if (e.exprKind.case !== "comprehensionExpr") return NONE;
    const c = e.exprKind.value;
    const step = c.loopStep;
    if (c.iterVar2 !== "" || constant(c.accuInit) !== false || pathOf(c.result)?.join(".") !== c.accuVar) return NONE;
    if (step?.exprKind.case !== "callExpr" || step.exprKind.value.function !== "_||_") return NONE;
    const [first, body] = step.exprKind.value.args;
    if (pathOf(first)?.join(".") !== c.accuVar || !body) return NONE;
    const values = strings(c.iterRange);
    if (values === undefined || c.iterVar === c.accuVar) return NONE;
    const outer = elements.get(c.iterVar);
    let joined: Prefixes | undefined;
    for (const value of new Set(values)) {
      elements.set(c.iterVar, value);
      const each = read(body);
      joined = joined === undefined ? each : either(joined, each);
      if (joined.size === 0) break;
    }
    if (outer === undefined) elements.delete(c.iterVar);
    else elements.set(c.iterVar, outer);
    // No element: the exists is false, and nothing matches whatever the fields are.
    return joined ?? NONE;
  };

  return read(expr);
}

type FieldType = { type: string; fields?: ReadonlyMap<string, FieldType> } | undefined;
const fieldType = (t: FieldType, step: string): FieldType => (t?.type === "object" ? t.fields?.get(step) : undefined);

/** True needs both: each field's requirement from either side (the one with fewer strings when both have one). */
function both(a: Prefixes, b: Prefixes): Prefixes {
  if (a.size === 0) return b;
  if (b.size === 0) return a;
  const out = new Map(a);
  for (const [name, values] of b) {
    const there = out.get(name);
    if (there === undefined || values.length < there.length) out.set(name, values);
  }
  return out;
}

/** True needs one: the fields both sides require, each with the strings of both. */
function either(a: Prefixes, b: Prefixes): Prefixes {
  const out = new Map<string, readonly string[]>();
  for (const [name, values] of a) {
    const other = b.get(name);
    if (other !== undefined && values.length + other.length <= MAX_PREFIXES) out.set(name, [...values, ...other]);
  }
  return out;
}

/**
 * Items (rules, in their order) by the prefixes of one field: `candidates(value)` gives, in
 * order, the items that require nothing of the field and those that require a prefix the value
 * has. A binary search finds the greatest prefix not above the value; every prefix the value
 * has is that one or one of the prefixes it extends, each of which links to the next shorter.
 */
export class PrefixTable<T> {
  private readonly prefixes: string[];
  /** For each prefix, the index of the longest other prefix it starts with, or -1. */
  private readonly shorter: Int32Array;
  /** For each prefix, the items a value with it (and with every shorter one it extends) can match. */
  private readonly lists: (readonly T[])[];
  /** The items that require nothing of the field. */
  private readonly anywhere: readonly T[];

  /** `requires(item)`: the prefixes an item requires, or undefined when it requires none. */
  constructor(items: readonly T[], requires: (item: T) => readonly string[] | undefined) {
    const all = new Set<string>();
    for (const item of items) for (const p of requires(item) ?? []) all.add(p);
    this.prefixes = [...all].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const at = new Map(this.prefixes.map((p, i) => [p, i]));
    this.shorter = new Int32Array(this.prefixes.length).fill(-1);
    const open: number[] = [];
    this.prefixes.forEach((p, i) => {
      // The prefixes of p come before it in order; the stack holds the chain of the last one.
      while (open.length > 0 && !p.startsWith(this.prefixes[open[open.length - 1] as number] as string)) open.pop();
      this.shorter[i] = open.length > 0 ? (open[open.length - 1] as number) : -1;
      open.push(i);
    });
    const own = this.prefixes.map(() => new Set<T>());
    for (const item of items) for (const p of requires(item) ?? []) own[at.get(p) as number]?.add(item);
    this.anywhere = items.filter((item) => requires(item) === undefined);
    this.lists = this.prefixes.map((_, i) => {
      const wanted = new Set<T>(this.anywhere);
      for (let j = i; j >= 0; j = this.shorter[j] as number) for (const item of own[j] ?? []) wanted.add(item);
      return items.filter((item) => wanted.has(item));
    });
  }

  /** The items a value can match, in their order. */
  candidates(value: string): readonly T[] {
    const { prefixes } = this;
    let lo = 0;
    let hi = prefixes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((prefixes[mid] as string) <= value) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (found >= 0 && !value.startsWith(prefixes[found] as string)) found = this.shorter[found] as number;
    return found < 0 ? this.anywhere : (this.lists[found] as readonly T[]);
  }
}
