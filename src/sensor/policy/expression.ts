import { parse } from "@bufbuild/cel";
import { type Expr, ExprSchema } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { create } from "@bufbuild/protobuf";
import type { DocumentPath } from "./source.js";

/**
 * CEL text parsed into cel-es's tree, with macros spliced in. Every node remembers which text
 * it came from (the rule's `when`, an exception, a macro) and its offset there, so that a
 * problem found in the spliced tree is reported where the author wrote it.
 */

/** A piece of CEL text in a policy document. */
export interface ExpressionText {
  /** How messages name it: "when", "exception 'pkg'", "macro 'shells'". */
  label: string;
  /** Where its string is in the document. */
  path: DocumentPath;
  text: string;
}

export interface ParsedText extends ExpressionText {
  expr: Expr;
  /** Offset in the text of each node, by id. */
  positions: Record<string, number>;
}

/** Where a node came from. */
export interface Location {
  source: ExpressionText;
  offset: number;
}

export class ExpressionError extends Error {
  constructor(
    readonly location: Location,
    message: string,
  ) {
    super(message);
  }
}

/** Parses CEL text; a syntax error is thrown as an ExpressionError with its offset. */
export function parseText(source: ExpressionText): ParsedText {
  try {
    const parsed = parse(source.text);
    if (!parsed.expr) throw new Error("empty expression");
    return { ...source, expr: parsed.expr, positions: parsed.sourceInfo?.positions ?? {} };
  } catch (err) {
    const e = err as Error & { rawMessage?: string; location?: { start?: { offset?: number } } };
    const offset = e.location?.start?.offset ?? 0;
    throw new ExpressionError({ source, offset }, `syntax error: ${e.rawMessage ?? e.message}`);
  }
}

/** An expression tree with the location of each node. */
export interface SplicedExpression {
  expr: Expr;
  locate(id: bigint): Location;
}

/**
 * The tree of `root` with each free identifier that names a macro replaced by the macro's own
 * tree (recursively; a cycle is an error). Identifiers bound by a comprehension (`x` in
 * `list.exists(x, ...)`) are left alone.
 */
export function splice(root: ParsedText, macros: ReadonlyMap<string, ParsedText>): SplicedExpression {
  const locations = new Map<bigint, Location>();
  let nextId = 0n;
  const visitIds = (e: Expr | undefined) => {
    forEachNode(e, (n) => {
      if (n.id >= nextId) nextId = n.id + 1n;
    });
  };
  visitIds(root.expr);

  const copy = (e: Expr, from: ParsedText, bound: ReadonlySet<string>, using: readonly string[], at: number): Expr => {
    const offset = from.positions[String(e.id)] ?? at;
    const kind = e.exprKind;
    if (kind.case === "identExpr" && !bound.has(kind.value.name)) {
      const macro = macros.get(kind.value.name);
      if (macro) {
        if (using.includes(macro.label)) {
          throw new ExpressionError(
            { source: from, offset },
            `${[...using, macro.label].join(" uses ")}: a macro cannot use itself`,
          );
        }
        return copy(macro.expr, macro, new Set(), [...using, macro.label], 0);
      }
    }
    const id = from === root ? e.id : nextId++;
    locations.set(id, { source: from, offset });
    const sub = (child: Expr | undefined, names: ReadonlySet<string> = bound) =>
      child === undefined ? undefined : copy(child, from, names, using, offset);
    switch (kind.case) {
      case "selectExpr":
        return node(id, { case: "selectExpr", value: { ...kind.value, operand: sub(kind.value.operand) } });
      case "callExpr":
        return node(id, {
          case: "callExpr",
          value: { ...kind.value, target: sub(kind.value.target), args: kind.value.args.map((a) => sub(a) as Expr) },
        });
      case "listExpr":
        return node(id, {
          case: "listExpr",
          value: { ...kind.value, elements: kind.value.elements.map((a) => sub(a) as Expr) },
        });
      case "structExpr":
        return node(id, {
          case: "structExpr",
          value: {
            ...kind.value,
            entries: kind.value.entries.map((entry) => ({
              ...entry,
              keyKind:
                entry.keyKind.case === "mapKey"
                  ? { case: "mapKey", value: sub(entry.keyKind.value) as Expr }
                  : entry.keyKind,
              value: sub(entry.value),
            })),
          },
        });
      case "comprehensionExpr": {
        const c = kind.value;
        const inner = new Set([...bound, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
        return node(id, {
          case: "comprehensionExpr",
          value: {
            ...c,
            iterRange: sub(c.iterRange),
            accuInit: sub(c.accuInit),
            loopCondition: sub(c.loopCondition, inner),
            loopStep: sub(c.loopStep, inner),
            result: sub(c.result, inner),
          },
        });
      }
      default:
        return node(id, kind);
    }
  };

  const expr = copy(root.expr, root, new Set(), [], 0);
  return {
    expr,
    locate: (id) => locations.get(id) ?? { source: root, offset: 0 },
  };
}

function node(id: bigint, exprKind: Expr["exprKind"]): Expr {
  return create(ExprSchema, { id, exprKind });
}

/** Calls `visit` on every node of a tree. */
export function forEachNode(e: Expr | undefined, visit: (e: Expr) => void): void {
  if (!e) return;
  visit(e);
  const kind = e.exprKind;
  switch (kind.case) {
    case "selectExpr":
      forEachNode(kind.value.operand, visit);
      break;
    case "callExpr":
      forEachNode(kind.value.target, visit);
      for (const a of kind.value.args) forEachNode(a, visit);
      break;
    case "listExpr":
      for (const a of kind.value.elements) forEachNode(a, visit);
      break;
    case "structExpr":
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === "mapKey") forEachNode(entry.keyKind.value, visit);
        forEachNode(entry.value, visit);
      }
      break;
    case "comprehensionExpr": {
      const c = kind.value;
      for (const child of [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result]) forEachNode(child, visit);
      break;
    }
  }
}
