import type { Expr_Comprehension as Comprehension, Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import type { VigilEvent } from "../../events/schema.js";
import { reader } from "./bindings.js";
import { EVENT_TYPES, type ValueType } from "./fields.js";

/**
 * A necessary condition of a rule, read from its tree and tested in plain JavaScript before
 * cel-es runs: when it is false, the rule cannot match and its CEL program is not run.
 *
 * A rule's test in cel-es costs 0.2–5 µs (each attribute resolved, each value wrapped, each
 * call dispatched through its overloads); most rules begin with a cheap, selective comparison
 * (`file.write && ...`, `file.path.startsWith('/etc/') && ...`, `process.exe in lists.shells`)
 * that decides most events for a few nanoseconds. Only comparisons whose CEL result is known
 * exactly are taken: a field that is never null (nor below a field that may be) against a
 * constant or a list. CEL remains the judge of every event that passes: a prefilter only ever
 * answers "cannot match". The same reading of a condition is where a kernel prefilter starts.
 */
export type Prefilter = (event: VigilEvent) => boolean;

interface Guard {
  test: Prefilter;
  /** The test is the expression's value, not only implied by it (so its negation holds too). */
  exact: boolean;
}

export type Constant = string | bigint | boolean | null;

/** The value of a constant node (string, int, bool or null); undefined for anything else. */
export function constant(e: Expr | undefined): Constant | undefined {
  if (e?.exprKind.case !== "constExpr") return undefined;
  const c = e.exprKind.value.constantKind;
  if (c.case === "nullValue") return null;
  return c.case === "stringValue" || c.case === "int64Value" || c.case === "boolValue" ? c.value : undefined;
}

/** `a.b.c` of a select chain from a name; undefined for anything else. */
export function pathOf(e: Expr | undefined): string[] | undefined {
  if (!e) return undefined;
  if (e.exprKind.case === "identExpr") return [e.exprKind.value.name];
  if (e.exprKind.case !== "selectExpr" || e.exprKind.value.testOnly) return undefined;
  const operand = pathOf(e.exprKind.value.operand);
  return operand && [...operand, e.exprKind.value.field];
}

type Scalar = "string" | "int" | "bool";

/**
 * The literal text every match of an RE2 pattern anchored with `^` begins with ('' when none);
 * undefined when the pattern is not anchored or has an alternation.
 */
export function literalPrefix(pattern: string): string | undefined {
  if (!pattern.startsWith("^") || pattern.includes("|")) return undefined;
  let out = "";
  for (let i = 1; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    let lit: string | undefined;
    let width = 1;
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!/[./\-_^$*+?()[\]{}|\\]/.test(next)) break;
      lit = next;
      width = 2;
    } else if (/[A-Za-z0-9/_\-:=@,%~ ]/.test(ch)) lit = ch;
    else break;
    const after = pattern[i + width] ?? "";
    // A quantifier after it: the character may be absent or repeated, so it ends the prefix.
    if (after === "?" || after === "*" || after === "{" || after === "+") break;
    out += lit;
    i += width - 1;
  }
  return out;
}

const fits = (type: Scalar, c: Constant): boolean =>
  (type === "string" && typeof c === "string") ||
  (type === "int" && typeof c === "bigint") ||
  (type === "bool" && typeof c === "boolean");

/** An int field is a number or a bigint on the event; constants are bigint. */
const number = (v: unknown): number => (typeof v === "bigint" ? Number(v) : (v as number));

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  "_==_": (a, b) => a === b,
  "_!=_": (a, b) => a !== b,
  "_<_": (a, b) => a < b,
  "_<=_": (a, b) => a <= b,
  "_>_": (a, b) => a > b,
  "_>=_": (a, b) => a >= b,
};
const MIRROR: Record<string, string> = {
  "_==_": "_==_",
  "_!=_": "_!=_",
  "_<_": "_>_",
  "_<=_": "_>=_",
  "_>_": "_<_",
  "_>=_": "_<=_",
};

/**
 * The prefilter of a condition for events of `kind`, or undefined when no part of it can be
 * tested ahead. `lists` are the policy's lists by name.
 */
export function prefilter(
  expr: Expr,
  kind: string,
  lists: ReadonlyMap<string, readonly (string | number)[]>,
): Prefilter | undefined {
  /**
   * Variables bound by the comprehensions (`exists`) around the node being read: each has the
   * type of its values and a slot that the test fills with the element being tried.
   */
  const scope = new Map<string, { type: ValueType; slot: { value: unknown } }>();
  /** Paths known not to be null where they are read: the `x != null` conjuncts of an `&&`. */
  const nonNull = new Set<string>();

  /** The type of a dotted path from the event or from a bound variable, null-safe as it says. */
  const typeAt = (path: readonly string[], leafMayBeNull: boolean): ValueType | undefined => {
    const [root = "", ...rest] = path;
    let t: ValueType | undefined = scope.get(root)?.type ?? (scope.has(root) ? undefined : EVENT_TYPES.get(kind));
    const walk = scope.has(root) ? rest : path;
    const start = scope.has(root) ? 1 : 0;
    if (scope.has(root) && t?.nullable && !nonNull.has(root)) return undefined;
    for (let i = 0; i < walk.length; i++) {
      if (t?.type !== "object") return undefined;
      if (t.nullable && !nonNull.has(path.slice(0, start + i).join("."))) return undefined;
      t = t.fields.get(walk[i] as string);
    }
    if (t?.nullable && !leafMayBeNull && !nonNull.has(path.join("."))) return undefined;
    return t;
  };
  const readerOf = (path: readonly string[]): ((e: VigilEvent) => unknown) => {
    const bound = scope.get(path[0] ?? "");
    if (!bound) return reader(path);
    const { slot } = bound;
    if (path.length === 1) return () => slot.value;
    const rest = reader(path.slice(1));
    return () => rest(slot.value as VigilEvent);
  };
  /** A field of `kind` (or of a bound variable) that is a scalar and never null where it is read. */
  const plainField = (path: readonly string[]): { type: Scalar; read: (e: VigilEvent) => unknown } | undefined => {
    const t = typeAt(path, false);
    if (!t || (t.type !== "string" && t.type !== "int" && t.type !== "bool")) return undefined;
    return { type: t.type, read: readerOf(path) };
  };
  /** A string-valued term that is never null: a constant, a plain field, a bound variable, `a + b` of them. */
  const text = (e: Expr | undefined): ((ev: VigilEvent) => string) | undefined => {
    if (!e) return undefined;
    const c = constant(e);
    if (typeof c === "string") return () => c;
    if (c !== undefined) return undefined;
    const path = pathOf(e);
    if (path) {
      const field = plainField(path);
      return field?.type === "string" ? (field.read as (ev: VigilEvent) => string) : undefined;
    }
    if (e.exprKind.case === "callExpr" && e.exprKind.value.function === "_+_" && !e.exprKind.value.target) {
      const [a, b] = e.exprKind.value.args;
      const l = text(a);
      const r = text(b);
      return l && r && ((ev) => l(ev) + r(ev));
    }
    return undefined;
  };

  const guard = (e: Expr): Guard | undefined => {
    const path = pathOf(e);
    if (path) {
      const field = plainField(path);
      if (field?.type !== "bool") return undefined;
      return { test: (ev) => field.read(ev) === true, exact: true };
    }
    if (e.exprKind.case === "comprehensionExpr") return exists(e.exprKind.value);
    if (e.exprKind.case !== "callExpr") return undefined;
    const { function: fn, args, target } = e.exprKind.value;
    const [a, b] = args;
    switch (fn) {
      case "_&&_":
        return conjunction(e);
      case "_||_": {
        const l = a && guard(a);
        const r = b && guard(b);
        return l && r ? { test: (ev) => l.test(ev) || r.test(ev), exact: l.exact && r.exact } : undefined;
      }
      case "!_": {
        const inner = a && guard(a);
        return inner?.exact ? { test: (ev) => !inner.test(ev), exact: true } : undefined;
      }
      case "startsWith":
      case "endsWith":
      case "contains": {
        const subject = text(target);
        const part = text(a);
        if (!subject || !part) return undefined;
        const fixed = constant(a);
        if (typeof fixed === "string") {
          const test: Prefilter =
            fn === "startsWith"
              ? (ev) => subject(ev).startsWith(fixed)
              : fn === "endsWith"
                ? (ev) => subject(ev).endsWith(fixed)
                : (ev) => subject(ev).includes(fixed);
          return { test, exact: true };
        }
        const test: Prefilter =
          fn === "startsWith"
            ? (ev) => subject(ev).startsWith(part(ev))
            : fn === "endsWith"
              ? (ev) => subject(ev).endsWith(part(ev))
              : (ev) => subject(ev).includes(part(ev));
        return { test, exact: true };
      }
      case "matches": {
        // `x.matches(r'^/lit/eral...')`: only a string beginning with the literal can match.
        const subject = text(target);
        const pattern = constant(a);
        const prefix = typeof pattern === "string" ? literalPrefix(pattern) : undefined;
        if (!subject || prefix === undefined) return undefined;
        return { test: (ev) => subject(ev).startsWith(prefix), exact: false };
      }
      case "@in":
        return membership(a, b);
      default:
        return comparison(fn, a, b) ?? equality(fn, a, b);
    }
  };

  /** `x == y` or `x != y` of two string terms (`dns.name == d` in an exists over a list). */
  const equality = (fn: string, a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    if (fn !== "_==_" && fn !== "_!=_") return undefined;
    const l = text(a);
    const r = text(b);
    if (!l || !r) return undefined;
    return fn === "_==_"
      ? { test: (ev) => l(ev) === r(ev), exact: true }
      : { test: (ev) => l(ev) !== r(ev), exact: true };
  };

  /**
   * `a && b && ...`: false when any part is. The parts `x != null` are tested first, and the
   * others read `x` as never null, for when it is null the whole is false whatever they say.
   */
  const conjunction = (e: Expr): Guard | undefined => {
    const parts: Expr[] = [];
    const flatten = (x: Expr) => {
      if (x.exprKind.case === "callExpr" && x.exprKind.value.function === "_&&_") {
        for (const arg of x.exprKind.value.args) flatten(arg);
      } else parts.push(x);
    };
    flatten(e);
    const checks: Guard[] = [];
    const added: string[] = [];
    const rest: Expr[] = [];
    for (const part of parts) {
      const notNull = nullCheck(part);
      if (notNull) {
        const g = guard(part);
        if (g) {
          checks.push(g);
          if (!nonNull.has(notNull)) {
            nonNull.add(notNull);
            added.push(notNull);
          }
          continue;
        }
      }
      rest.push(part);
    }
    let exact = rest.length + checks.length === parts.length;
    for (const part of rest) {
      const g = guard(part);
      if (g) {
        checks.push(g);
        exact &&= g.exact;
      } else exact = false;
    }
    for (const p of added) nonNull.delete(p);
    if (checks.length === 0) return undefined;
    const tests = checks.map((g) => g.test);
    return { test: (ev) => tests.every((t) => t(ev)), exact };
  };

  /** The path of `x != null` (or `null != x`), if that is what `e` is. */
  const nullCheck = (e: Expr): string | undefined => {
    if (e.exprKind.case !== "callExpr" || e.exprKind.value.function !== "_!=_") return undefined;
    const [a, b] = e.exprKind.value.args;
    const path = constant(b) === null ? pathOf(a) : constant(a) === null ? pathOf(b) : undefined;
    return path?.join(".");
  };

  /**
   * `range.exists(v, body)`, over a list of the policy, a literal list or a list field: true
   * when the body holds for one element, tried in plain JavaScript with `v` bound to it.
   */
  const exists = (c: Comprehension): Guard | undefined => {
    const accu = c.accuVar;
    if (c.iterVar2 !== "" || constant(c.accuInit) !== false || pathOf(c.result)?.join(".") !== accu) return undefined;
    const step = c.loopStep;
    if (step?.exprKind.case !== "callExpr" || step.exprKind.value.function !== "_||_") return undefined;
    const [first, body] = step.exprKind.value.args;
    if (pathOf(first)?.join(".") !== accu || !body) return undefined;
    const range = c.iterRange;
    let values: readonly unknown[] | undefined;
    let items: ((ev: VigilEvent) => readonly unknown[]) | undefined;
    let element: ValueType | undefined;
    const rangePath = pathOf(range);
    if (rangePath?.length === 2 && rangePath[0] === "lists" && !scope.has("lists")) {
      const list = lists.get(rangePath[1] ?? "");
      if (!list) return undefined;
      if (list.every((v) => typeof v === "string")) element = { type: "string" };
      else if (list.every((v) => typeof v === "number")) element = { type: "int" };
      else return undefined;
      // A list is a map to CEL (bindings.ts): its keys, each value once.
      values = [...new Set<string | number>(list)].map((v) => (typeof v === "number" ? BigInt(v) : v));
    } else if (rangePath) {
      const t = typeAt(rangePath, false);
      if (t?.type !== "list" || t.element.nullable) return undefined;
      element = t.element;
      const read = readerOf(rangePath);
      items = read as (ev: VigilEvent) => readonly unknown[];
    } else if (range?.exprKind.case === "listExpr") {
      const consts = range.exprKind.value.elements.map(constant);
      if (!consts.every((v) => typeof v === "string")) return undefined;
      element = { type: "string" };
      values = consts;
    }
    if (!element || c.iterVar === accu) return undefined;
    const slot = { value: undefined as unknown };
    const outer = scope.get(c.iterVar);
    scope.set(c.iterVar, { type: element, slot });
    const inner = guard(body);
    if (outer) scope.set(c.iterVar, outer);
    else scope.delete(c.iterVar);
    if (!inner) return undefined;
    const test = inner.test;
    const any = (list: readonly unknown[], ev: VigilEvent): boolean => {
      const saved = slot.value;
      try {
        for (const v of list) {
          slot.value = v;
          if (test(ev)) return true;
        }
        return false;
      } finally {
        slot.value = saved;
      }
    };
    if (values) {
      const fixed = values;
      return { test: (ev) => any(fixed, ev), exact: inner.exact };
    }
    const read = items as (ev: VigilEvent) => readonly unknown[];
    return { test: (ev) => any(read(ev), ev), exact: inner.exact };
  };

  const comparison = (fn: string, a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    const compare = COMPARE[fn];
    if (!compare) return undefined;
    let path = pathOf(a);
    let value = constant(b);
    let op = fn;
    if (!path) {
      path = pathOf(b);
      value = constant(a);
      op = MIRROR[fn] ?? fn;
    }
    if (value === null && path && typeAt(path, true) && (op === "_==_" || op === "_!=_")) {
      // `net.remote != null`: the field may be null, those above it may not.
      const read = readerOf(path);
      return op === "_==_"
        ? { test: (ev) => read(ev) === null, exact: true }
        : { test: (ev) => read(ev) !== null, exact: true };
    }
    const field = path && plainField(path);
    if (!field || value === undefined || value === null || !fits(field.type, value)) return undefined;
    if (field.type === "int") {
      const c = Number(value);
      const cmp = COMPARE[op] as (x: number, y: number) => boolean;
      return { test: (ev) => cmp(number(field.read(ev)), c), exact: true };
    }
    if (op === "_==_") return { test: (ev) => field.read(ev) === value, exact: true };
    if (op === "_!=_") return { test: (ev) => field.read(ev) !== value, exact: true };
    return undefined;
  };

  const membership = (a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    const path = pathOf(a);
    const field = path && plainField(path);
    if (!field || field.type === "bool" || !b) return undefined;
    let values: readonly unknown[] | undefined;
    const listPath = pathOf(b);
    if (listPath?.length === 2 && listPath[0] === "lists") values = lists.get(listPath[1] ?? "");
    else if (b.exprKind.case === "listExpr") {
      const items = b.exprKind.value.elements.map(constant);
      if (items.every((c) => c !== undefined && fits(field.type, c))) values = items;
    }
    if (!values) return undefined;
    if (field.type === "string") {
      const set = new Set(values.filter((v) => typeof v === "string"));
      return { test: (ev) => set.has(field.read(ev) as string), exact: true };
    }
    const set = new Set(values.filter((v) => typeof v !== "string").map(number));
    return { test: (ev) => set.has(number(field.read(ev))), exact: true };
  };

  return guard(expr)?.test;
}
