import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument, Scalar } from "yaml";

/** A problem in a policy file, placed where a person would look for it. */
export interface PolicyError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The rule the problem is in, when it is in one. */
  rule?: string;
  message: string;
}

/** `file:line:col rule-id: message`, or `file:line:col: message` outside a rule. */
export function formatPolicyError(e: PolicyError): string {
  return `${e.file}:${e.line}:${e.column}${e.rule ? ` ${e.rule}` : ""}: ${e.message}`;
}

export const byPosition = (a: PolicyError, b: PolicyError): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;

export type DocumentPath = readonly (string | number)[];

/**
 * A policy file parsed with the position of every node. JSON is read by the YAML parser too
 * (JSON is YAML), so both formats report the same positions and the same duplicate-key errors.
 */
export class PolicySource {
  private readonly lines = new LineCounter();
  private readonly doc;
  /** The document as plain data; undefined when it could not be parsed. */
  readonly data: unknown;
  readonly errors: PolicyError[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) this.errors.push(this.at(e.pos[0], e.message.split("\n")[0] ?? e.message));
    this.data = this.doc.errors.length === 0 ? this.doc.toJS() : undefined;
  }

  /** An error at a character offset in the file. */
  at(offset: number, message: string, rule?: string): PolicyError {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, ...(rule !== undefined && { rule }), message };
  }

  /**
   * An error at a node: its value, or with `key` the key naming it (for an unknown field).
   * A path that does not reach a node falls back to the deepest node on the way.
   */
  error(path: DocumentPath, message: string, options: { rule?: string; key?: boolean; index?: number } = {}) {
    return this.at(this.offset(path, options), message, options.rule);
  }

  private offset(path: DocumentPath, options: { key?: boolean; index?: number }): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const step = path[i] as string | number;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === step);
        if (!pair) break;
        if (options.key && i === path.length - 1) return rangeStart(pair.key);
        node = pair.value;
      } else if (node && typeof node === "object" && "items" in node && typeof step === "number") {
        node = (node as { items: unknown[] }).items[step];
      } else break;
      if (!node) break;
      offset = rangeStart(node);
    }
    if (options.index !== undefined && isScalar(node) && typeof node.value === "string") {
      return this.characterOffset(node, options.index);
    }
    return offset;
  }

  /** Where character `index` of a string scalar's value is in the file, through its quoting. */
  private characterOffset(node: Scalar, index: number): number {
    const [start = 0, end = 0] = node.range ?? [];
    const src = this.text;
    switch (node.type) {
      case Scalar.QUOTE_DOUBLE: {
        let at = start + 1;
        for (let n = 0; n < index && at < end; n++) at += escapeLength(src, at);
        return at;
      }
      case Scalar.QUOTE_SINGLE: {
        let at = start + 1;
        for (let n = 0; n < index && at < end; n++) at += src.startsWith("''", at) ? 2 : 1;
        return at;
      }
      case Scalar.BLOCK_LITERAL:
      case Scalar.BLOCK_FOLDED: {
        // The value's lines are the source lines after the header, less the block's indentation
        // (that of its first line; deeper lines keep the rest as part of the value).
        const value = String(node.value);
        const row = value.slice(0, index).split("\n").length - 1;
        const column = index - (value.lastIndexOf("\n", index - 1) + 1);
        const first = src.indexOf("\n", start) + 1;
        const indent = /^[ ]*/.exec(src.slice(first))?.[0].length ?? 0;
        let lineStart = first;
        for (let r = 0; r < row; r++) lineStart = src.indexOf("\n", lineStart) + 1;
        return lineStart + indent + column;
      }
      default:
        return start + index;
    }
  }
}

function rangeStart(node: unknown): number {
  return (node as Node | undefined)?.range?.[0] ?? 0;
}

/** Source characters of the double-quoted character at `at` (escapes take more than one). */
function escapeLength(src: string, at: number): number {
  if (src[at] !== "\\") return 1;
  switch (src[at + 1]) {
    case "x":
      return 4;
    case "u":
      return 6;
    case "U":
      return 10;
    default:
      return 2;
  }
}
