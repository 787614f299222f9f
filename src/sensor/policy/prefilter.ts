import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
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

/** A field of `kind` below no field that may be null; undefined for anything else. */
function fieldAt(kind: string, path: readonly string[]): ValueType | undefined {
  let t: ValueType | undefined = EVENT_TYPES.get(kind);
  for (const key of path) {
    if (t?.type !== "object" || t.nullable) return undefined;
    t = t.fields.get(key);
  }
  return t;
}

/** A field of `kind` that is a scalar and never null, nor below a field that may be. */
function plainField(
  kind: string,
  path: readonly string[],
): { type: Scalar; read: (e: VigilEvent) => unknown } | undefined {
  const t = fieldAt(kind, path);
  if (!t || t.nullable || (t.type !== "string" && t.type !== "int" && t.type !== "bool")) return undefined;
  return { type: t.type, read: reader(path) };
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
  const guard = (e: Expr): Guard | undefined => {
    const path = pathOf(e);
    if (path) {
      const field = plainField(kind, path);
      if (field?.type !== "bool") return undefined;
      return { test: (ev) => field.read(ev) === true, exact: true };
    }
    if (e.exprKind.case !== "callExpr") return undefined;
    const { function: fn, args, target } = e.exprKind.value;
    const [a, b] = args;
    switch (fn) {
      case "_&&_": {
        const l = a && guard(a);
        const r = b && guard(b);
        if (l && r) return { test: (ev) => l.test(ev) && r.test(ev), exact: l.exact && r.exact };
        const one = l ?? r;
        return one && { test: one.test, exact: false };
      }
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
        const path = pathOf(target);
        const field = path && plainField(kind, path);
        const text = constant(a);
        if (field?.type !== "string" || typeof text !== "string") return undefined;
        const test: Prefilter =
          fn === "startsWith"
            ? (ev) => (field.read(ev) as string).startsWith(text)
            : fn === "endsWith"
              ? (ev) => (field.read(ev) as string).endsWith(text)
              : (ev) => (field.read(ev) as string).includes(text);
        return { test, exact: true };
      }
      case "@in":
        return membership(a, b);
      default:
        return comparison(fn, a, b);
    }
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
    if (value === null && path && fieldAt(kind, path) && (op === "_==_" || op === "_!=_")) {
      // `net.remote != null`: the field may be null, those above it may not.
      const read = reader(path);
      return op === "_==_"
        ? { test: (ev) => read(ev) === null, exact: true }
        : { test: (ev) => read(ev) !== null, exact: true };
    }
    const field = path && plainField(kind, path);
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
    const field = path && plainField(kind, path);
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
