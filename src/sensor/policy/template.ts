import { toJson } from "../../events/json.js";
import type { VigilEvent } from "../../events/schema.js";
import { didYouMean, fieldPaths, readPath } from "./fields.js";

/**
 * Alert messages: text with `{{field.path}}` placeholders filled from the event. Placeholders
 * are event fields only, checked against every kind the rule is on; a template is not an
 * expression language.
 */

export interface TemplateProblem {
  /** Offset of the placeholder in the template. */
  offset: number;
  message: string;
}

export type Render = (event: VigilEvent) => string;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(" ");
  if (value === undefined) return "null";
  return toJson(value);
}

/** Problems of a template for events of `kind`, each at the offset of its placeholder. */
export function checkTemplate(text: string, kind: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const known = fieldPaths(kind);
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!known.has(name)) {
      problems.push({ offset: match.index, message: `unknown field '${name}'${didYouMean(name, known.keys())}` });
    }
  }
  const open = text.replace(PLACEHOLDER, (m) => " ".repeat(m.length)).indexOf("{{");
  if (open >= 0) problems.push({ offset: open, message: "'{{' without a closing '}}'" });
  return problems;
}

/** A function writing the template for an event. */
export function compileTemplate(text: string): Render {
  const literals: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    literals.push(text.slice(last, match.index));
    paths.push((match[1] ?? "").split("."));
    last = match.index + match[0].length;
  }
  literals.push(text.slice(last));
  return (event) => {
    let out = literals[0] ?? "";
    for (let i = 0; i < paths.length; i++) out += show(readPath(event, paths[i] ?? [])) + (literals[i + 1] ?? "");
    return out;
  };
}
