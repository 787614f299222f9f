import type { Expr_Comprehension as Comprehension, Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { RE2JS } from "@bufbuild/re2";
import type { VigilEvent } from "../../events/schema.js";
import { reader } from "./bindings.js";
import { EVENT_TYPES, type ValueType } from "./fields.js";

/**
 * A necessary condition of a rule, read from its tree and tested in plain JavaScript before
 * cel-es runs: when it is false, the rule cannot match and its CEL program is not run.
 *
 * A rule's test in cel-es costs from 0.2 µs to tens of µs (each attribute resolved, each value
 * wrapped, each call dispatched through its overloads, every element of an exists tried); most
 * rules begin with a cheap, selective comparison (`file.write && ...`,
 * `file.path.startsWith('/etc/') && ...`, `process.exe in lists.shells`) that decides most events
 * for a few nanoseconds. Only comparisons whose CEL result is known
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

/** A step of an access: a field by name, or an element of a list by a constant index. */
type Step = string | number;

/** `a.b[0].c` of select and index steps from a name; undefined for anything else. */
function accessOf(e: Expr | undefined): Step[] | undefined {
  if (!e) return undefined;
  if (e.exprKind.case === "callExpr" && e.exprKind.value.function === "_[_]" && !e.exprKind.value.target) {
    const [list, at] = e.exprKind.value.args;
    const index = constant(at);
    const operand = accessOf(list);
    return operand && typeof index === "bigint" && index >= 0n && index < 1024n
      ? [...operand, Number(index)]
      : undefined;
  }
  if (e.exprKind.case === "selectExpr") {
    if (e.exprKind.value.testOnly) return undefined;
    const operand = accessOf(e.exprKind.value.operand);
    return operand && [...operand, e.exprKind.value.field];
  }
  return e.exprKind.case === "identExpr" ? [e.exprKind.value.name] : undefined;
}

const keyOf = (steps: readonly Step[]): string => steps.join(".");

type Scalar = "string" | "int" | "bool";

/** An element of a path pattern: literal text, a run of characters other than '/' (`[^/]+`, `[^/]*`), or the end. */
type Piece = string | { segment: "+" | "*" } | { end: true };

const SEGMENT = /^\[\^\/\]([+*])/;

/**
 * What every match of an RE2 pattern anchored with `^` must be, read as far as it is plain:
 * literal text, path segments (`[^/]+` where a '/' or the end follows) and the end (`$`), in
 * order. Reading stops at the first other construct, so the pieces are a necessary condition,
 * not the whole pattern. Undefined when the pattern is not anchored or has an alternation.
 */
export function patternShape(pattern: string): Piece[] | undefined {
  if (!pattern.startsWith("^") || pattern.includes("|")) return undefined;
  const pieces: Piece[] = [];
  let text = "";
  let i = 1;
  const flush = () => {
    if (text !== "") pieces.push(text);
    text = "";
  };
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    const segment = SEGMENT.exec(pattern.slice(i, i + 5));
    if (segment) {
      // The run ends where the text ends or at a '/' the pattern names next: nothing else can follow it here.
      const after = pattern.slice(i + 5);
      if (!(after === "$" || after.startsWith("/") || after.startsWith("\\/"))) break;
      flush();
      pieces.push({ segment: segment[1] as "+" | "*" });
      i += 5;
      continue;
    }
    if (ch === "$" && i === pattern.length - 1) {
      flush();
      pieces.push({ end: true });
      return pieces;
    }
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
    text += lit;
    i += width;
  }
  flush();
  return pieces;
}

/** A test that a string has the pieces of a pattern, in order, from its start. */
function shapeTest(pieces: readonly Piece[]): (s: string) => boolean {
  return (s) => {
    let at = 0;
    for (const piece of pieces) {
      if (typeof piece === "string") {
        if (!s.startsWith(piece, at)) return false;
        at += piece.length;
      } else if ("segment" in piece) {
        const slash = s.indexOf("/", at);
        const end = slash < 0 ? s.length : slash;
        if (piece.segment === "+" && end === at) return false;
        at = end;
      } else return at === s.length;
    }
    return true;
  };
}

/**
 * A necessary condition of `s.matches(pattern)`, for a pattern RE2 accepts: the pattern's
 * pieces when it is anchored, else its leading literal text somewhere in `s`; null when nothing
 * can be said.
 */
export function matchNeeds(pattern: string): ((s: string) => boolean) | null {
  const shape = patternShape(pattern);
  if (shape) return shape.length > 0 ? shapeTest(shape) : null;
  const lead = pattern.includes("|") ? undefined : patternShape(`^${pattern}`)?.[0];
  return typeof lead === "string" && lead !== "" ? (s) => s.includes(lead) : null;
}

/** Tests of patterns met at run time (a pattern built from a comprehension's element), by pattern. */
const runTimeTests = new Map<string, ((s: string) => boolean) | null>();
const MAX_RUN_TIME_TESTS = 1024;

/**
 * matchNeeds of a pattern known only as the event is tested; null for a pattern RE2 refuses,
 * whose error is cel-es's to report, and past the patterns the cache holds.
 */
function runTimeTest(pattern: string): ((s: string) => boolean) | null {
  let test = runTimeTests.get(pattern);
  if (test !== undefined) return test;
  if (runTimeTests.size >= MAX_RUN_TIME_TESTS) return null;
  try {
    RE2JS.compile(pattern);
    test = matchNeeds(pattern);
  } catch {
    test = null;
  }
  runTimeTests.set(pattern, test);
  return test;
}

const fits = (type: Scalar, c: Constant): boolean =>
  (type === "string" && typeof c === "string") ||
  (type === "int" && typeof c === "bigint") ||
  (type === "bool" && typeof c === "boolean");

type Int = number | bigint;

/**
 * An int as one value per number: a number when it is exact as a double, else a bigint. Equal
 * ints are then `===` and `Set`-equal whichever way the event carries them, and `<` between a
 * number and a bigint compares exactly.
 */
const int = (v: unknown): Int => {
  if (typeof v === "bigint") return v >= -SAFE && v <= SAFE ? Number(v) : v;
  return v as number;
};
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const COMPARE: Record<string, (a: Int, b: Int) => boolean> = {
  "_==_": (a, b) => a === b,
  "_!=_": (a, b) => a !== b,
  "_<_": (a, b) => a < b,
  "_<=_": (a, b) => a <= b,
  "_>_": (a, b) => a > b,
  "_>=_": (a, b) => a >= b,
};

/** cel-es's lowerAscii: A–Z lowered, every other character as it is. */
const lowerAscii = (s: string): string => (/[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s);

/** The event, as what a term reads besides comprehension variables. */
const EVENT = "";

/**
 * A value computed from an event: `reads` names the comprehension variables it uses, and
 * EVENT when it reads the event itself.
 */
interface Term<T> {
  read: (ev: VigilEvent) => T;
  reads: ReadonlySet<string>;
}

/** A comprehension variable in scope. */
interface Bound {
  type: ValueType;
  /** The element being tried; `index` its place when the range is a list of constants. */
  slot: { value: unknown; index: number };
  /** The range's elements, when they are constants known ahead. */
  values?: readonly unknown[];
}

/**
 * The prefilter of a condition for events of `kind`, or undefined when no part of it can be
 * tested ahead. `lists` are the policy's lists by name.
 */
export function prefilter(
  expr: Expr,
  kind: string,
  lists: ReadonlyMap<string, readonly (string | number)[]>,
): Prefilter | undefined {
  /** Variables bound by the comprehensions (`exists`) around the node being read. */
  const scope = new Map<string, Bound>();
  /** Paths known not to be null where they are read: the `x != null` conjuncts of an `&&`. */
  const nonNull = new Set<string>();
  /** Lists known to have at least so many elements where they are read: the `size(x) > n` conjuncts. */
  const minSize = new Map<string, number>();

  /** The type of an access from the event or from a bound variable, null-safe as it says. */
  const typeAt = (steps: readonly Step[], leafMayBeNull: boolean): ValueType | undefined => {
    const root = steps[0];
    if (typeof root !== "string") return undefined;
    const bound = scope.get(root);
    let t: ValueType | undefined = bound ? bound.type : EVENT_TYPES.get(kind);
    const start = bound ? 1 : 0;
    if (bound && t?.nullable && !nonNull.has(root)) return undefined;
    for (let i = start; i < steps.length; i++) {
      const step = steps[i] as Step;
      if (i > 0 && t?.nullable && !nonNull.has(keyOf(steps.slice(0, i)))) return undefined;
      if (typeof step === "number") {
        if (t?.type !== "list" || (minSize.get(keyOf(steps.slice(0, i))) ?? 0) <= step) return undefined;
        t = t.element;
      } else {
        if (t?.type !== "object") return undefined;
        t = t.fields.get(step);
      }
    }
    if (t?.nullable && !leafMayBeNull && !nonNull.has(keyOf(steps))) return undefined;
    return t;
  };
  const readsOf = (steps: readonly Step[]): Set<string> => {
    const root = steps[0] as string;
    return new Set([scope.has(root) ? root : EVENT]);
  };
  const readerOf = (steps: readonly Step[]): ((e: VigilEvent) => unknown) => {
    const bound = scope.get(steps[0] as string);
    const rest = bound ? steps.slice(1) : steps;
    const read = rest.every((s) => typeof s === "string") ? reader(rest as string[]) : indexedReader(rest);
    if (!bound) return read;
    const { slot } = bound;
    if (rest.length === 0) return () => slot.value;
    return () => read(slot.value as VigilEvent);
  };
  /** A field of `kind` (or of a bound variable) that is a scalar and never null where it is read. */
  const plainField = (steps: readonly Step[]): { type: Scalar; read: (e: VigilEvent) => unknown } | undefined => {
    const t = typeAt(steps, false);
    if (!t || (t.type !== "string" && t.type !== "int" && t.type !== "bool")) return undefined;
    return { type: t.type, read: readerOf(steps) };
  };
  /**
   * A term that depends on nothing but one comprehension variable over constants, read from
   * a table made once: `'/' + n` costs a lookup per element, not a concatenation per event.
   */
  const hoisted = <T>(term: Term<T>): Term<T> => {
    if (term.reads.size !== 1) return term;
    const [name] = term.reads;
    const bound = scope.get(name as string);
    if (!bound?.values) return term;
    const { slot, values } = bound;
    const saved = { ...slot };
    const table = values.map((value, index) => {
      slot.value = value;
      slot.index = index;
      return term.read(undefined as unknown as VigilEvent);
    });
    Object.assign(slot, saved);
    return { read: () => table[slot.index] as T, reads: term.reads };
  };
  const union = (a: ReadonlySet<string>, b: ReadonlySet<string>) => new Set([...a, ...b]);

  /** A string-valued term that is never null: a constant, a plain field, a bound variable, `a + b` of them, `x.lowerAscii()`. */
  const text = (e: Expr | undefined): Term<string> | undefined => {
    if (!e) return undefined;
    const c = constant(e);
    if (typeof c === "string") return { read: () => c, reads: new Set() };
    if (c !== undefined) return undefined;
    const steps = accessOf(e);
    if (steps) {
      const field = plainField(steps);
      return field?.type === "string"
        ? { read: field.read as (ev: VigilEvent) => string, reads: readsOf(steps) }
        : undefined;
    }
    if (e.exprKind.case !== "callExpr") return undefined;
    const { function: fn, args, target } = e.exprKind.value;
    if (fn === "_+_" && !target) {
      const l = text(args[0]);
      const r = text(args[1]);
      return l && r && hoisted({ read: (ev) => l.read(ev) + r.read(ev), reads: union(l.reads, r.reads) });
    }
    if (fn === "lowerAscii" && target && args.length === 0) {
      const subject = text(target);
      return subject && hoisted({ read: (ev) => lowerAscii(subject.read(ev)), reads: subject.reads });
    }
    return undefined;
  };
  /** An int-valued term that is never null: a constant, a plain field, a bound variable, the size of a list. */
  const integer = (e: Expr | undefined): Term<Int> | undefined => {
    if (!e) return undefined;
    const c = constant(e);
    if (typeof c === "bigint") {
      const value = int(c);
      return { read: () => value, reads: new Set() };
    }
    if (c !== undefined) return undefined;
    const steps = accessOf(e);
    if (steps) {
      const field = plainField(steps);
      if (field?.type !== "int") return undefined;
      const read = field.read;
      return { read: (ev) => int(read(ev)), reads: readsOf(steps) };
    }
    if (e.exprKind.case === "callExpr" && e.exprKind.value.function === "size") {
      const { target, args } = e.exprKind.value;
      const list = target ? (args.length === 0 ? target : undefined) : args.length === 1 ? args[0] : undefined;
      const at = accessOf(list);
      if (!at || typeAt(at, false)?.type !== "list") return undefined;
      const read = readerOf(at) as (ev: VigilEvent) => readonly unknown[];
      return { read: (ev) => read(ev).length, reads: readsOf(at) };
    }
    return undefined;
  };

  const guard = (e: Expr): Guard | undefined => {
    const steps = accessOf(e);
    if (steps) {
      const field = plainField(steps);
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
        const s = subject.read;
        if (typeof fixed === "string") {
          const test: Prefilter =
            fn === "startsWith"
              ? (ev) => s(ev).startsWith(fixed)
              : fn === "endsWith"
                ? (ev) => s(ev).endsWith(fixed)
                : (ev) => s(ev).includes(fixed);
          return { test, exact: true };
        }
        const p = part.read;
        const test: Prefilter =
          fn === "startsWith"
            ? (ev) => s(ev).startsWith(p(ev))
            : fn === "endsWith"
              ? (ev) => s(ev).endsWith(p(ev))
              : (ev) => s(ev).includes(p(ev));
        return { test, exact: true };
      }
      case "matches": {
        // Only a string with the pattern's plain pieces can match: `^/home/[^/]+/\.ssh/` needs
        // '/home/', a name, then '/.ssh/'. A necessary condition only, never exact.
        const subject = text(target);
        const pattern = text(a);
        if (!subject || !pattern) return undefined;
        const fixed = constant(a);
        if (typeof fixed === "string") {
          const shape = patternShape(fixed);
          if (!shape || shape.length === 0) return undefined;
          const has = shapeTest(shape);
          return { test: (ev) => has(subject.read(ev)), exact: false };
        }
        return {
          test: (ev) => {
            const has = runTimeTest(pattern.read(ev));
            return has === null || has(subject.read(ev));
          },
          exact: false,
        };
      }
      case "@in":
        return membership(a, b);
      default:
        return comparison(fn, a, b);
    }
  };

  /** `x op y` of two int terms, `x == y` or `x != y` of two string terms, `x == null` or `x != null`. */
  const comparison = (fn: string, a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    const compare = COMPARE[fn];
    if (!compare) return undefined;
    if (fn === "_==_" || fn === "_!=_") {
      const path = constant(b) === null ? accessOf(a) : constant(a) === null ? accessOf(b) : undefined;
      if (path && typeAt(path, true)) {
        // `net.remote != null`: the field may be null, those above it may not.
        const read = readerOf(path);
        const isNull = (ev: VigilEvent) => {
          const v = read(ev);
          return v === null || v === undefined;
        };
        return fn === "_==_" ? { test: isNull, exact: true } : { test: (ev) => !isNull(ev), exact: true };
      }
      const l = text(a);
      const r = text(b);
      if (l && r) {
        const x = l.read;
        const y = r.read;
        return fn === "_==_"
          ? { test: (ev) => x(ev) === y(ev), exact: true }
          : { test: (ev) => x(ev) !== y(ev), exact: true };
      }
      const same = scalarEquality(fn, a, b) ?? scalarEquality(fn, b, a);
      if (same) return same;
    }
    const l = integer(a);
    const r = integer(b);
    if (!l || !r) return undefined;
    const x = l.read;
    const y = r.read;
    return { test: (ev) => compare(x(ev), y(ev)), exact: true };
  };

  /** `flag == true` and the like: a bool field against a constant. */
  const scalarEquality = (fn: string, a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    const steps = accessOf(a);
    const value = constant(b);
    const field = steps && plainField(steps);
    if (field?.type !== "bool" || typeof value !== "boolean") return undefined;
    const read = field.read;
    return fn === "_==_"
      ? { test: (ev) => read(ev) === value, exact: true }
      : { test: (ev) => read(ev) !== value, exact: true };
  };

  /**
   * `a && b && ...`: false when any part is. The parts `x != null` and `size(x) > n` are
   * tested first, and the others read `x` as never null, or `x[i]` for i < n, for when they
   * do not hold the whole is false whatever the others say.
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
    const addedNonNull: string[] = [];
    const addedSize: [string, number | undefined][] = [];
    const rest: Expr[] = [];
    for (const part of parts) {
      const notNull = nullCheck(part);
      const sized = notNull === undefined ? sizeCheck(part) : undefined;
      if (notNull !== undefined || sized !== undefined) {
        const g = guard(part);
        if (g) {
          checks.push(g);
          if (notNull !== undefined && !nonNull.has(notNull)) {
            nonNull.add(notNull);
            addedNonNull.push(notNull);
          }
          if (sized !== undefined && (minSize.get(sized.list) ?? 0) < sized.atLeast) {
            addedSize.push([sized.list, minSize.get(sized.list)]);
            minSize.set(sized.list, sized.atLeast);
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
    for (const p of addedNonNull) nonNull.delete(p);
    for (const [list, before] of addedSize.reverse()) {
      if (before === undefined) minSize.delete(list);
      else minSize.set(list, before);
    }
    if (checks.length === 0) return undefined;
    const tests = checks.map((g) => g.test);
    if (tests.length === 1) return { test: tests[0] as Prefilter, exact };
    if (tests.length === 2) {
      const [x, y] = tests as [Prefilter, Prefilter];
      return { test: (ev) => x(ev) && y(ev), exact };
    }
    return {
      test: (ev) => {
        for (let i = 0; i < tests.length; i++) if (!(tests[i] as Prefilter)(ev)) return false;
        return true;
      },
      exact,
    };
  };

  /** The path of `x != null` (or `null != x`), if that is what `e` is. */
  const nullCheck = (e: Expr): string | undefined => {
    if (e.exprKind.case !== "callExpr" || e.exprKind.value.function !== "_!=_") return undefined;
    const [a, b] = e.exprKind.value.args;
    const path = constant(b) === null ? accessOf(a) : constant(a) === null ? accessOf(b) : undefined;
    return path && keyOf(path);
  };

  /** The list of `size(x) > n` (`>=`, `!=` 0, `==` n, either order) and the size it then has at least. */
  const sizeCheck = (e: Expr): { list: string; atLeast: number } | undefined => {
    if (e.exprKind.case !== "callExpr") return undefined;
    const { function: fn, args } = e.exprKind.value;
    const listOf = (x: Expr | undefined): Step[] | undefined => {
      if (x?.exprKind.case !== "callExpr" || x.exprKind.value.function !== "size") return undefined;
      const { target, args: a } = x.exprKind.value;
      return accessOf(target ? (a.length === 0 ? target : undefined) : a.length === 1 ? a[0] : undefined);
    };
    let list = listOf(args[0]);
    let n = constant(args[1]);
    let op = fn;
    if (!list) {
      list = listOf(args[1]);
      n = constant(args[0]);
      op = { "_<_": "_>_", "_<=_": "_>=_", "_==_": "_==_", "_!=_": "_!=_" }[fn] ?? "";
    }
    if (!list || typeof n !== "bigint" || n < 0n || n > 1024n) return undefined;
    const count = Number(n);
    const atLeast =
      op === "_>_" ? count + 1 : op === "_>=_" ? count : op === "_==_" ? count : op === "_!=_" && count === 0 ? 1 : 0;
    return atLeast > 0 ? { list: keyOf(list), atLeast } : undefined;
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
    const rangePath = accessOf(range);
    if (rangePath?.length === 2 && rangePath[0] === "lists" && !scope.has("lists")) {
      const list = lists.get(String(rangePath[1]));
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
      items = readerOf(rangePath) as (ev: VigilEvent) => readonly unknown[];
    } else if (range?.exprKind.case === "listExpr") {
      const consts = range.exprKind.value.elements.map(constant);
      if (!consts.every((v) => typeof v === "string")) return undefined;
      element = { type: "string" };
      values = consts;
    }
    if (!element || c.iterVar === accu) return undefined;
    const bound: Bound = { type: element, slot: { value: undefined, index: -1 }, ...(values && { values }) };
    const outer = scope.get(c.iterVar);
    scope.set(c.iterVar, bound);
    const inner = values ? overConstants(c.iterVar, body, values) : guard(body);
    if (outer) scope.set(c.iterVar, outer);
    else scope.delete(c.iterVar);
    if (!inner) return undefined;
    if ("whole" in inner) return inner.whole;
    const test = inner.test;
    const { slot } = bound;
    if (values) {
      const fixed = values;
      return {
        test: (ev) => {
          for (let i = 0; i < fixed.length; i++) {
            slot.value = fixed[i];
            slot.index = i;
            if (test(ev)) return true;
          }
          return false;
        },
        exact: inner.exact,
      };
    }
    const read = items as (ev: VigilEvent) => readonly unknown[];
    return {
      test: (ev) => {
        const list = read(ev);
        for (let i = 0; i < list.length; i++) {
          slot.value = list[i];
          if (test(ev)) return true;
        }
        return false;
      },
      exact: inner.exact,
    };
  };

  /**
   * The body of an exists over constants `values`, bound to `name`. Where the body compares a
   * term of the event with a term of the element alone (`x == v`, `x.endsWith('/' + v)`), the
   * element's side is made once for every element, and the whole exists becomes a lookup or a
   * scan of strings (`whole`); an `||` is split, `exists(v, a || b)` being
   * `exists(v, a) || exists(v, b)`. Anything else is the body's guard, tried per element.
   */
  const overConstants = (
    name: string,
    body: Expr,
    values: readonly unknown[],
  ): { whole: Guard } | Guard | undefined => {
    if (body.exprKind.case === "callExpr" && body.exprKind.value.function === "_||_") {
      const [a, b] = body.exprKind.value.args;
      const l = a && overConstants(name, a, values);
      const r = b && overConstants(name, b, values);
      if (l && r && "whole" in l && "whole" in r) {
        const x = l.whole.test;
        const y = r.whole.test;
        return { whole: { test: (ev) => x(ev) || y(ev), exact: l.whole.exact && r.whole.exact } };
      }
      if (l && r) {
        // Tried per element: a part that is whole gives the same answer for each.
        const x = "whole" in l ? l.whole : l;
        const y = "whole" in r ? r.whole : r;
        return { test: (ev) => x.test(ev) || y.test(ev), exact: x.exact && y.exact };
      }
      return undefined;
    }
    return lookup(name, body, values) ?? guard(body);
  };

  /** `exists(v, x == v)`, `exists(v, x.endsWith('/' + v))` and the like, with the element's side made once. */
  const lookup = (name: string, body: Expr, values: readonly unknown[]): { whole: Guard } | undefined => {
    if (body.exprKind.case !== "callExpr") return undefined;
    const { function: fn, args, target } = body.exprKind.value;
    const bound = scope.get(name) as Bound;
    const elementOnly = (t: Term<unknown>) => t.reads.size === 1 && t.reads.has(name);
    const free = (t: Term<unknown>) => !t.reads.has(name);
    /** The element side's value for each element. */
    const table = <T>(t: Term<T>): T[] => {
      const { slot } = bound;
      const saved = { ...slot };
      const out = values.map((value, index) => {
        slot.value = value;
        slot.index = index;
        return t.read(undefined as unknown as VigilEvent);
      });
      Object.assign(slot, saved);
      return out;
    };
    if (fn === "_==_") {
      const [a, b] = args;
      const pair = (x: Expr | undefined, y: Expr | undefined) => {
        const s = text(x);
        const v = text(y);
        if (s && v && free(s) && elementOnly(v)) return { subject: s, set: new Set<unknown>(table(v)) };
        const si = integer(x);
        const vi = integer(y);
        if (si && vi && free(si) && elementOnly(vi)) return { subject: si, set: new Set<unknown>(table(vi)) };
        return undefined;
      };
      const found = pair(a, b) ?? pair(b, a);
      if (!found) return undefined;
      const { subject, set } = found;
      const read = subject.read as (ev: VigilEvent) => unknown;
      return { whole: { test: (ev) => set.has(read(ev)), exact: true } };
    }
    if (fn !== "startsWith" && fn !== "endsWith" && fn !== "contains") return undefined;
    const subject = text(target);
    const part = text(args[0]);
    if (!subject || !part || !free(subject) || !elementOnly(part)) return undefined;
    const parts = [...new Set(table(part))];
    const s = subject.read;
    if (fn === "endsWith" && parts.every((p) => p.length > 1 && p.lastIndexOf("/") === 0)) {
      // Every part is '/' and a name: a string ends with one when what follows its last '/' is one.
      const names = new Set(parts);
      return {
        whole: {
          test: (ev) => {
            const value = s(ev);
            const slash = value.lastIndexOf("/");
            return slash >= 0 && names.has(value.slice(slash));
          },
          exact: true,
        },
      };
    }
    const has =
      fn === "startsWith"
        ? (value: string, p: string) => value.startsWith(p)
        : fn === "endsWith"
          ? (value: string, p: string) => value.endsWith(p)
          : (value: string, p: string) => value.includes(p);
    return {
      whole: {
        test: (ev) => {
          const value = s(ev);
          for (let i = 0; i < parts.length; i++) if (has(value, parts[i] as string)) return true;
          return false;
        },
        exact: true,
      },
    };
  };

  const membership = (a: Expr | undefined, b: Expr | undefined): Guard | undefined => {
    const steps = accessOf(a);
    const field = steps && plainField(steps);
    if (!field || field.type === "bool" || !b) return undefined;
    let values: readonly unknown[] | undefined;
    const listPath = pathOf(b);
    if (listPath?.length === 2 && listPath[0] === "lists" && !scope.has("lists")) values = lists.get(listPath[1] ?? "");
    else if (b.exprKind.case === "listExpr") {
      const items = b.exprKind.value.elements.map(constant);
      if (items.every((c) => c !== undefined && fits(field.type, c))) values = items;
    }
    if (!values) return undefined;
    const read = field.read;
    if (field.type === "string") {
      const set = new Set(values.filter((v) => typeof v === "string"));
      return { test: (ev) => set.has(read(ev) as string), exact: true };
    }
    const set = new Set(values.filter((v) => typeof v !== "string").map(int));
    return { test: (ev) => set.has(int(read(ev))), exact: true };
  };

  return guard(expr)?.test;
}

/** Reads an access with list indexes from a value; null when a step on the way is null or missing. */
function indexedReader(steps: readonly Step[]): (value: VigilEvent) => unknown {
  return (value) => {
    let v: unknown = value;
    for (const step of steps) {
      if (v === null || v === undefined) return null;
      v = (v as Record<string | number, unknown>)[step];
    }
    return v === undefined ? null : v;
  };
}
