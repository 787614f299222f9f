import type { z } from "zod";
import { didYouMean } from "./fields.js";
import type { DocumentPath } from "./source.js";

/**
 * zod's issues in the words of a policy author: the field by its path, an unknown key or value
 * with the nearest known one, and for a union (`on` is a kind or a list of kinds) the branch
 * whose shape the input has, instead of every branch's complaint.
 */

export interface StructureProblem {
  path: DocumentPath;
  /** Point at the key rather than the value (unknown and missing fields). */
  key?: boolean;
  message: string;
}

type Issue = z.core.$ZodIssue;
type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
};

/** The keys an object at `path` may have. */
function knownKeys(schema: z.ZodType, path: DocumentPath): string[] {
  let candidates: z.ZodType[] = [schema];
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const def = s._zod.def as unknown as Def;
    if (def.innerType) return unwrap(def.innerType);
    if (def.in) return unwrap(def.in);
    if (def.options) return def.options.flatMap(unwrap);
    return [s];
  };
  for (const step of path) {
    candidates = candidates.flatMap(unwrap).flatMap((s) => {
      const def = s._zod.def as unknown as Def;
      if (def.type === "object" && typeof step === "string" && def.shape?.[step]) return [def.shape[step]];
      if (def.type === "array" && typeof step === "number" && def.element) return [def.element];
      if (def.type === "record" && def.valueType) return [def.valueType];
      return [];
    });
  }
  return candidates.flatMap(unwrap).flatMap((s) => Object.keys((s._zod.def as unknown as Def).shape ?? {}));
}

function received(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "an object";
  return `${typeof input} ${JSON.stringify(input)}`;
}

const EXPECTED: Record<string, string> = { array: "a list", object: "an object", record: "an object" };

/** An issue on the input's own type, not on what is inside it. */
const typeMismatch = (i: Issue): boolean =>
  i.path.length === 0 &&
  (i.code === "invalid_type" || (i.code === "invalid_value" && !i.values.some((v) => typeof v === typeof i.input)));

const expectedType = (i: Issue): string =>
  i.code === "invalid_type" ? i.expected : i.code === "invalid_value" ? typeof i.values[0] : "";

const score = (branch: readonly Issue[]): number =>
  Math.max(0, ...branch.map((i) => i.path.length)) * 2 + (branch.every(typeMismatch) ? 0 : 1);

/** The index of the rule a path is inside (errors there are named by the rule, paths relative to it). */
export function ruleOf(path: DocumentPath): number | undefined {
  return path[0] === "spec" && path[1] === "rules" && typeof path[2] === "number" && path.length > 3
    ? path[2]
    : undefined;
}

/** A path as text, relative to the rule it is in. */
const relativeText = (path: DocumentPath): string => pathText(path.slice(ruleOf(path) === undefined ? 0 : 3));

/** `a.b[0].c` */
export function pathText(path: DocumentPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Readable problems for zod's issues on `data` validated against `schema`. */
export function structureProblems(schema: z.ZodType, issues: readonly Issue[], base: DocumentPath = []) {
  const out: StructureProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    const where = relativeText(path);
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          out.push({
            path: [...path, key],
            key: true,
            message: `unknown field '${relativeText([...path, key])}'${didYouMean(key, knownKeys(schema, path))}`,
          });
        }
        break;
      case "invalid_union": {
        // The branch that got furthest into the input, and not one that failed on its type.
        const best = issue.errors.reduce((a, b) => (score(b) > score(a) ? b : a), issue.errors[0] ?? []);
        if (!best.every(typeMismatch)) out.push(...structureProblems(schema, best, path));
        else {
          const expected = issue.errors.flatMap((b) => b.map(expectedType));
          out.push({
            path,
            message: `${where}: expected ${expected.map((e) => EXPECTED[e] ?? `a ${e}`).join(" or ")}, got ${received(issue.input)}`,
          });
        }
        break;
      }
      case "invalid_type":
        if (issue.input === undefined) {
          out.push({ path, key: true, message: `missing required field '${where}'` });
        } else {
          const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
          out.push({ path, message: `${where}: expected ${expected}, got ${received(issue.input)}` });
        }
        break;
      case "invalid_value": {
        const input = String(issue.input);
        const values = issue.values.map(String);
        const isKind = path.includes("on");
        out.push({
          path,
          message: isKind
            ? `${where}: unknown event kind '${input}'${didYouMean(input, values)}`
            : `${where}: '${input}' is not one of ${values.join(", ")}${didYouMean(input, values)}`,
        });
        break;
      }
      case "invalid_key":
        out.push({
          path,
          key: true,
          message: `${where}: name '${String(path[path.length - 1])}' ${issue.issues[0]?.message ?? "is not valid"}`,
        });
        break;
      case "too_small":
        out.push({
          path,
          message:
            Number(issue.minimum) > 1 ? `${where}: needs at least ${issue.minimum}` : `${where}: must not be empty`,
        });
        break;
      case "too_big":
        out.push({ path, message: `${where}: has more than ${issue.maximum}` });
        break;
      case "invalid_format":
        out.push({ path, message: `${where}: '${String(issue.input)}' ${issue.message}` });
        break;
      default:
        out.push({ path, message: `${where}: ${issue.message}` });
    }
  }
  return out;
}
