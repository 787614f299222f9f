import type { CelFunc, CelType } from "@bufbuild/cel";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { DYN, didYouMean, typeName, type ValueType } from "./fields.js";

/**
 * A type checker for rule expressions. cel-es 0.6 parses, plans and evaluates, but its checker
 * only types constants and identifiers (and is not exported), so the checks a policy author
 * needs are made here over the parsed tree: every field named exists in the event kinds the
 * rule is on, operands fit the overloads cel-es declares for each function and operator, and
 * the condition yields bool. What cannot be known before an event arrives is `dyn` and passes.
 */

export interface TypeProblem {
  /** The node the problem is at. */
  id: bigint;
  message: string;
}

/** The functions and operators of an environment, by name. */
export type FunctionTable = ReadonlyMap<string, readonly CelFunc[]>;

export function functionTable(funcs: Iterable<CelFunc>): FunctionTable {
  const table = new Map<string, CelFunc[]>();
  for (const f of funcs) table.set(f.name, [...(table.get(f.name) ?? []), f]);
  return table;
}

const SCALARS = new Set(["int", "uint", "double", "bool", "string", "bytes", "dyn", "type"]);

/** A cel-es declared type as the checker's type; messages and timestamps are dyn here. */
function fromCel(t: CelType): ValueType {
  switch (t.kind) {
    case "list":
      return { type: "list", element: fromCel(t.element) };
    case "map":
      return { type: "map", key: fromCel(t.key), value: fromCel(t.value) };
    case "scalar":
      if (t.name === "null_type") return { type: "null" };
      return SCALARS.has(t.name) ? ({ type: t.name } as ValueType) : DYN;
    default:
      // Timestamps, durations and messages: matched by name, never taken for a map or a string.
      return { type: "object", name: t.name, fields: new Map() };
  }
}

const NUMERIC = new Set(["int", "uint", "double"]);
const isDyn = (t: ValueType) => t.type === "dyn";
const isMapLike = (t: ValueType) => t.type === "map" || t.type === "object";

/** An argument of type `arg` fits a declared parameter (event parts are maps to CEL). */
function fits(arg: ValueType, param: ValueType): boolean {
  if (isDyn(param) || isDyn(arg)) return true;
  if (arg.type === "null") return param.type === "null";
  if (param.type === "object") return arg.type === "object" && arg.name === param.name;
  if (param.type === "map") return isMapLike(arg);
  if (param.type === "list") return arg.type === "list" && fits(arg.element, param.element);
  return arg.type === param.type;
}

/** Values of these types can be equal: == between others is always false, so a mistake. */
function comparable(a: ValueType, b: ValueType): boolean {
  if (isDyn(a) || isDyn(b) || a.type === "null" || b.type === "null") return true;
  if (NUMERIC.has(a.type) && NUMERIC.has(b.type)) return true;
  if (isMapLike(a) && isMapLike(b)) return true;
  return a.type === b.type;
}

const OPERATORS: Record<string, string> = {
  "_+_": "+",
  "_-_": "-",
  "_*_": "*",
  "_/_": "/",
  "_%_": "%",
  "_<_": "<",
  "_<=_": "<=",
  "_>_": ">",
  "_>=_": ">=",
  "-_": "-",
  "!_": "!",
  "@in": "in",
};

/** The text of a select chain (`file.path`), or undefined when it does not start at a name. */
function chainText(e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  if (e.exprKind.case === "identExpr") return e.exprKind.value.name;
  if (e.exprKind.case === "selectExpr") {
    const operand = chainText(e.exprKind.value.operand);
    return operand === undefined ? undefined : `${operand}.${e.exprKind.value.field}`;
  }
  return undefined;
}

/** The node a select chain starts at (`file` of `file.pth`): problems with a field are shown there. */
function chainStart(e: Expr): Expr {
  let at = e;
  while (at.exprKind.case === "selectExpr" && at.exprKind.value.operand) at = at.exprKind.value.operand;
  return at.exprKind.case === "identExpr" ? at : e;
}

const BOOL: ValueType = { type: "bool" };

/**
 * Checks `expr` with `roots` as its free names (the event's parts and `lists`); returns the
 * type it yields and every problem found. `elsewhere` names what other kinds of events have
 * (`file` in a rule on process.exec), to say so instead of guessing a spelling; `suggest` adds
 * names worth suggesting for a misspelt one (the policy's macros).
 */
export function checkExpression(
  expr: Expr,
  roots: ReadonlyMap<string, ValueType>,
  functions: FunctionTable,
  options: { elsewhere?: ReadonlySet<string>; suggest?: Iterable<string> } = {},
): { type: ValueType; problems: TypeProblem[] } {
  const problems: TypeProblem[] = [];
  const problem = (e: Expr, message: string): ValueType => {
    problems.push({ id: chainStart(e).id, message });
    return DYN;
  };

  const wantBool = (e: Expr, t: ValueType, what: string) => {
    if (!isDyn(t) && t.type !== "bool") problem(e, `${what} must be bool, not ${typeName(t)}`);
  };

  const visit = (e: Expr | undefined, scope: ReadonlyMap<string, ValueType>): ValueType => {
    if (!e) return DYN;
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr":
        switch (kind.value.constantKind.case) {
          case "nullValue":
            return { type: "null" };
          case "boolValue":
            return BOOL;
          case "int64Value":
            return { type: "int" };
          case "uint64Value":
            return { type: "uint" };
          case "doubleValue":
            return { type: "double" };
          case "stringValue":
            return { type: "string" };
          case "bytesValue":
            return { type: "bytes" };
          default:
            return DYN;
        }
      case "identExpr": {
        const name = kind.value.name;
        const t = scope.get(name) ?? roots.get(name);
        if (t) return t;
        if (options.elsewhere?.has(name)) return problem(e, `these events have no '${name}'`);
        const known = [...scope.keys(), ...roots.keys(), ...(options.suggest ?? [])];
        return problem(e, `unknown name '${name}'${didYouMean(name, known)}`);
      }
      case "selectExpr": {
        const { field, testOnly } = kind.value;
        const operand = visit(kind.value.operand, scope);
        let t: ValueType;
        if (operand.type === "object") {
          const found = operand.fields.get(field);
          if (found) t = operand.nullable ? { ...found, nullable: true } : found;
          else {
            const chain = chainText(kind.value.operand);
            const known = [...operand.fields.keys()].map((k) => (chain ? `${chain}.${k}` : k));
            const name = chain ? `${chain}.${field}` : field;
            t = problem(
              e,
              operand.name === "lists"
                ? `unknown list '${field}'${didYouMean(field, operand.fields.keys())}`
                : `unknown field '${name}'${didYouMean(name, known)}`,
            );
          }
        } else if (operand.type === "map") t = operand.value;
        else if (isDyn(operand)) t = DYN;
        else {
          const chain = chainText(kind.value.operand);
          t = problem(e, `${chain ?? "the operand"} is ${typeName(operand)}; it has no field '${field}'`);
        }
        return testOnly ? BOOL : t;
      }
      case "callExpr":
        return visitCall(e, kind.value, scope);
      case "listExpr": {
        const elements = kind.value.elements.map((x) => visit(x, scope));
        const first = elements[0];
        const same = first && elements.every((t) => t.type === first.type && !isDyn(t));
        return { type: "list", element: same && first.type !== "list" ? { type: first.type } : DYN } as ValueType;
      }
      case "structExpr":
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, scope);
          visit(entry.value, scope);
        }
        return kind.value.messageName ? DYN : { type: "map", key: DYN, value: DYN };
      case "comprehensionExpr": {
        const c = kind.value;
        const range = visit(c.iterRange, scope);
        let element: ValueType = DYN;
        if (range.type === "list") element = range.element;
        else if (range.type === "map") element = range.key;
        else if (range.type === "object") element = { type: "string" };
        else if (!isDyn(range) && c.iterRange) problem(c.iterRange, `cannot iterate over ${typeName(range)}`);
        const inner = new Map(scope);
        inner.set(c.accuVar, visit(c.accuInit, scope));
        inner.set(c.iterVar, element);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        return visit(c.result, inner);
      }
      default:
        return DYN;
    }
  };

  const visitCall = (
    e: Expr,
    call: { target?: Expr; function: string; args: Expr[] },
    scope: ReadonlyMap<string, ValueType>,
  ): ValueType => {
    const fn = call.function;
    const target = call.target ? visit(call.target, scope) : undefined;
    const args = call.args.map((a) => visit(a, scope));
    const [a = DYN, b = DYN, c = DYN] = args;
    switch (fn) {
      case "_&&_":
      case "_||_":
        call.args.forEach((arg, i) => {
          wantBool(arg, args[i] ?? DYN, `an operand of ${fn === "_&&_" ? "&&" : "||"}`);
        });
        return BOOL;
      case "!_":
        wantBool(call.args[0] ?? e, a, "the operand of !");
        return BOOL;
      case "@not_strictly_false":
        return BOOL;
      case "_?_:_":
        wantBool(call.args[0] ?? e, a, "the condition of ?:");
        return b.type === c.type ? b : DYN;
      case "_==_":
      case "_!=_":
        if (!comparable(a, b)) {
          problem(
            e,
            `${fn === "_==_" ? "==" : "!="} between ${typeName(a)} and ${typeName(b)} is always ${fn !== "_==_"}`,
          );
        }
        return BOOL;
      case "_[_]":
        if (a.type === "list") {
          if (!isDyn(b) && b.type !== "int" && b.type !== "uint")
            problem(e, `a list index must be int, not ${typeName(b)}`);
          return a.element;
        }
        if (a.type === "map") return a.value;
        if (a.type === "object") return DYN;
        if (!isDyn(a)) problem(e, `${typeName(a)} cannot be indexed`);
        return DYN;
      case "@in": {
        const member = b.type === "list" ? b.element : b.type === "map" ? b.key : undefined;
        if (member && !comparable(a, member)) {
          return problem(e, `'in' looks for ${typeName(a)} among ${typeName(member)} values; it never matches`);
        }
        break;
      }
    }
    const overloads = functions.get(fn);
    if (!overloads) {
      return problem(e, `unknown function '${fn}'${didYouMean(fn, functions.keys())}`);
    }
    const candidates = overloads.filter(
      (o) => (o.target !== undefined) === (target !== undefined) && o.arguments.length === args.length,
    );
    const matching = candidates.filter(
      (o) =>
        (target === undefined || (o.target !== undefined && fits(target, fromCel(o.target)))) &&
        args.every((t, i) => fits(t, fromCel(o.arguments[i] as CelType))),
    );
    if (matching.length === 0) {
      const shown = args.map(typeName).join(", ");
      const symbol = OPERATORS[fn];
      if (symbol && args.length === 2)
        return problem(e, `'${symbol}' cannot be applied to ${typeName(a)} and ${typeName(b)}`);
      if (symbol) return problem(e, `'${symbol}' cannot be applied to ${shown}`);
      const signature = target ? `${typeName(target)}.${fn}(${shown})` : `${fn}(${shown})`;
      const known = candidates.length > 0 ? candidates : overloads;
      const forms = known.map((o) =>
        o.target
          ? `${typeName(fromCel(o.target))}.${fn}(${o.arguments.map((x) => typeName(fromCel(x))).join(", ")})`
          : `${fn}(${o.arguments.map((x) => typeName(fromCel(x))).join(", ")})`,
      );
      return problem(e, `no overload of '${fn}' takes ${signature}; it takes ${[...new Set(forms)].join(" or ")}`);
    }
    const results = new Set(matching.map((o) => typeName(fromCel(o.result))));
    return results.size === 1 && matching[0] ? fromCel(matching[0].result) : DYN;
  };

  const type = visit(expr, new Map());
  return { type, problems };
}
