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

/**
 * Where a node of a spliced tree starts in the text it came from, and its text there: from
 * the first to the last token of its subtree written in that text, with the brackets around
 * them that it needs to balance. Nodes only record where they start, so a message about a
 * sub-expression gets its extent this way.
 */
export function nodeText(spliced: SplicedExpression, e: Expr): { location: Location; text: string } {
  const { source, offset } = spliced.locate(e.id);
  let first = offset;
  let last = offset;
  forEachNode(e, (n) => {
    const at = spliced.locate(n.id);
    if (at.source !== source) return;
    first = Math.min(first, at.offset);
    last = Math.max(last, at.offset);
  });
  const text = source.text;
  let start = first;
  let end = tokenEnd(text, last);
  const { unopened, unclosed } = brackets(text.slice(start, end));
  // A closing bracket without its opening one: the opening one is just before, past spaces.
  for (let n = 0; n < unopened; n++) {
    let at = start - 1;
    while (at >= 0 && /\s/.test(text[at] as string)) at--;
    if (text[at] !== "(") break;
    start = at;
  }
  for (const closer of unclosed) {
    let at = end;
    while (at < text.length && /\s/.test(text[at] as string)) at++;
    if (text[at] !== closer) break;
    end = at + 1;
  }
  return { location: { source, offset: start }, text: text.slice(start, end).replace(/\s+/g, " ") };
}

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** Brackets closed before being opened, and the closers still owed, innermost first. */
function brackets(text: string): { unopened: number; unclosed: string[] } {
  const open: string[] = [];
  let unopened = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"' || ch === "'") i = stringEnd(text, i) - 1;
    else if (CLOSERS[ch]) open.push(CLOSERS[ch]);
    else if (ch === ")" || ch === "]" || ch === "}") {
      if (open.length > 0) open.pop();
      else unopened++;
    }
  }
  return { unopened, unclosed: open.reverse() };
}

/** The end of the token that starts at `at`: a string literal, a name, a number, `.name`. */
function tokenEnd(text: string, at: number): number {
  let i = at;
  while (/[rRbB]/.test(text[i] ?? "") && /[rRbB'"]/.test(text[i + 1] ?? "")) i++;
  if (text[i] === '"' || text[i] === "'") return stringEnd(text, i);
  if (text[i] === ".") i++;
  const word = /^[A-Za-z0-9_]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
  return word ? i + word[0].length : at + 1;
}

/** The end of the quoted string whose opening quote is at `at` (triple quotes too). */
function stringEnd(text: string, at: number): number {
  const quote = text[at] as string;
  const raw = /[rR]/.test(text[at - 1] ?? "") || /[rR]/.test(text[at - 2] ?? "");
  const delimiter = text.startsWith(quote.repeat(3), at) ? quote.repeat(3) : quote;
  let i = at + delimiter.length;
  while (i < text.length && !text.startsWith(delimiter, i)) i += text[i] === "\\" && !raw ? 2 : 1;
  return Math.min(text.length, i + delimiter.length);
}
