import { type CelMap, type CelResult, celEnv, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { RE2JS } from "@bufbuild/re2";
import { listValue, type RuleBindings, ruleBindings } from "./bindings.js";
import { checkExpression, functionTable } from "./check.js";
import {
  ExpressionError,
  type ExpressionText,
  forEachNode,
  type Location,
  type ParsedText,
  parseText,
  splice,
} from "./expression.js";
import { DYN, EVENT_TYPES, isEventKind, typeName, type ValueType } from "./fields.js";
import {
  type Action,
  API_VERSION,
  type Mode,
  type PolicyDocument,
  PolicySchema,
  RuleSchema,
  type Severity,
} from "./format.js";
import { ruleOf, structureProblems } from "./issues.js";
import { type KernelPart, kernelParts } from "./kernel-part.js";
import { type Prefilter, prefilter } from "./prefilter.js";
import { byPosition, type DocumentPath, type PolicyError, PolicySource } from "./source.js";
import { checkTemplate, compileTemplate, type Render } from "./template.js";

/** A compiled condition: true, false, or an error value; it never throws. */
export type Program = (bindings: RuleBindings) => CelResult;

export interface CompiledException {
  name: string;
  when: Program;
}

export interface CompiledRule {
  policy: string;
  id: string;
  kinds: readonly string[];
  action: Action;
  severity: Severity;
  tags: readonly string[];
  enabled: boolean;
  when: Program;
  exceptions: readonly CompiledException[];
  message: Render;
  /** The variables of this rule for events of each of its kinds. */
  bindings: ReadonlyMap<string, RuleBindings>;
  /** For each kind that has one, a test that is false when the rule cannot match. */
  prefilters: ReadonlyMap<string, Prefilter>;
  /** What the kernel must send for the rule to see every event it can match (kernel-part.ts). */
  kernel: readonly KernelPart[];
}

export interface CompiledPolicy {
  name: string;
  file: string;
  mode: Mode;
  rules: readonly CompiledRule[];
}

export type CompileResult = { policy: CompiledPolicy; errors: [] } | { policy?: undefined; errors: PolicyError[] };

// Patterns are compiled once: cel-es compiles the pattern of `matches` on every call (6 µs).
const matchers = new Map<string, RE2JS>();
const MAX_MATCHERS = 4096;
function matcher(pattern: string): RE2JS {
  let m = matchers.get(pattern);
  if (!m) {
    m = RE2JS.compile(pattern);
    if (matchers.size < MAX_MATCHERS) matchers.set(pattern, m);
  }
  return m;
}

/** The CEL environment of every policy: the standard library and the strings extension. */
const environment = celEnv({ funcs: strings, re2: { compile: matcher } });
const functions = functionTable(environment.funcs);

/** Every name an event of some kind has at its top (`process`, `file`, `net`, ...). */
const EVENT_PARTS = new Set([...EVENT_TYPES.values()].flatMap((t) => [...t.fields.keys()]));

// The CEL specification reserves these; the parser refuses them as identifiers.
const CEL_RESERVED = new Set(
  "as break const continue else false for function if import in let loop namespace null package return true var void while".split(
    " ",
  ),
);

/**
 * Compiles one policy file; any error rejects the whole file, and every error is reported, in
 * the order of their positions.
 */
export function compilePolicyFile(file: string, text: string): CompileResult {
  const result = compileDocument(file, text);
  result.errors.sort(byPosition);
  return result;
}

function compileDocument(file: string, text: string): CompileResult {
  const source = new PolicySource(file, text);
  if (source.errors.length > 0) return { errors: source.errors };
  const parsed = PolicySchema.safeParse(source.data, { reportInput: true });
  const ruleLabel = (path: DocumentPath): string | undefined => {
    const index = ruleOf(path);
    if (index === undefined) return undefined;
    const id = (source.data as { spec?: { rules?: { id?: unknown }[] } })?.spec?.rules?.[index]?.id;
    return typeof id === "string" ? id : `rules[${index}]`;
  };
  if (!parsed.success) {
    const errors = structureProblems(PolicySchema, parsed.error.issues).map((p) =>
      source.error(p.path, p.message, { key: p.key, rule: ruleLabel(p.path) }),
    );
    // The rules whose structure is sound are checked too, so that one pass reports all it can.
    const sound = soundParts(source.data);
    if (sound) errors.push(...new PolicyCompiler(source, sound.doc, sound.indexes).compile().errors);
    return { errors };
  }
  return new PolicyCompiler(source, parsed.data).compile();
}

/**
 * The lists, macros and well-formed rules of a document that failed its structural check,
 * with each rule's index in the file; undefined when the lists or macros themselves are bad
 * (every rule would then report names it cannot find).
 */
function soundParts(data: unknown): { doc: PolicyDocument; indexes: number[] } | undefined {
  const spec = (data as { spec?: Record<string, unknown> } | null)?.spec;
  if (!spec || typeof spec !== "object") return undefined;
  const { lists, macros } = PolicySchema.shape.spec.shape;
  const parsedLists = lists.safeParse(spec.lists);
  const parsedMacros = macros.safeParse(spec.macros);
  if (!parsedLists.success || !parsedMacros.success || !Array.isArray(spec.rules)) return undefined;
  const rules: PolicyDocument["spec"]["rules"] = [];
  const indexes: number[] = [];
  spec.rules.forEach((rule, index) => {
    let parsed = RuleSchema.safeParse(rule);
    if (!parsed.success && rule && typeof rule === "object") {
      // Checked as far as it can be: against the kinds in `on` that exist, without the
      // optional fields that are wrong (they are reported already).
      const salvaged: Record<string, unknown> = { ...(rule as Record<string, unknown>) };
      const on = salvaged.on;
      salvaged.on = (Array.isArray(on) ? on : [on]).filter((k) => typeof k === "string" && isEventKind(k));
      for (const issue of parsed.error.issues) {
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [String(issue.path[0])];
        for (const key of keys) if (key !== "id" && key !== "on" && key !== "when") delete salvaged[key];
      }
      parsed = RuleSchema.safeParse(salvaged);
    }
    if (parsed.success) {
      rules.push(parsed.data);
      indexes.push(index);
    }
  });
  const doc: PolicyDocument = {
    apiVersion: API_VERSION,
    kind: "Policy",
    metadata: { name: "-" },
    spec: { mode: "audit", lists: parsedLists.data, macros: parsedMacros.data, rules },
  };
  return { doc, indexes };
}

class PolicyCompiler {
  private readonly errors: PolicyError[] = [];
  private readonly lists = new Map<string, CelMap>();
  private readonly listValues = new Map<string, readonly (string | number)[]>();
  private readonly listTypes = new Map<string, ValueType>();
  private readonly macros = new Map<string, ParsedText>();

  /** `indexes`: each rule's index in the file, when `doc` holds only some of its rules. */
  constructor(
    private readonly source: PolicySource,
    private readonly doc: PolicyDocument,
    private readonly indexes?: readonly number[],
  ) {}

  compile(): CompileResult {
    const { spec } = this.doc;
    for (const [name, values] of Object.entries(spec.lists)) {
      this.lists.set(name, listValue(values));
      this.listValues.set(name, values);
      const element: ValueType = values.length === 0 ? DYN : { type: typeof values[0] === "number" ? "int" : "string" };
      this.listTypes.set(name, { type: "map", key: element, value: { type: "bool" } });
    }
    for (const [name, text] of Object.entries(spec.macros)) {
      const path = ["spec", "macros", name];
      if (EVENT_PARTS.has(name) || name === "lists" || CEL_RESERVED.has(name)) {
        const why = CEL_RESERVED.has(name) ? "is a reserved word in CEL" : `would hide the event's own '${name}'`;
        this.errors.push(this.source.error(path, `macro name '${name}' ${why}`, { key: true }));
        continue;
      }
      const parsed = this.parse({ label: `macro '${name}'`, path, text });
      if (parsed) this.macros.set(name, parsed);
    }
    const seen = new Set<string>();
    const rules: CompiledRule[] = [];
    spec.rules.forEach((rule, i) => {
      const path = ["spec", "rules", this.indexes?.[i] ?? i];
      if (seen.has(rule.id)) {
        this.errors.push(this.source.error([...path, "id"], `rule id '${rule.id}' is used twice`, { rule: rule.id }));
      }
      seen.add(rule.id);
      const compiled = this.compileRule(rule, path);
      if (compiled) rules.push(compiled);
    });
    if (this.errors.length > 0) return { errors: this.errors };
    return {
      policy: { name: this.doc.metadata.name, file: this.source.file, mode: spec.mode, rules },
      errors: [],
    };
  }

  private compileRule(rule: PolicyDocument["spec"]["rules"][number], path: DocumentPath): CompiledRule | undefined {
    const kinds = [...new Set(typeof rule.on === "string" ? [rule.on] : rule.on)];
    const before = this.errors.length;
    const when = this.condition({ label: "when", path: [...path, "when"], text: rule.when }, kinds, rule.id);
    const prefilters = new Map<string, Prefilter>();
    for (const kind of kinds) {
      const test = when && prefilter(when.expr, kind, this.listValues);
      if (test) prefilters.set(kind, test);
    }
    const exceptions: CompiledException[] = [];
    const names = new Set<string>();
    rule.exceptions.forEach((exception, i) => {
      const at = [...path, "exceptions", i];
      if (names.has(exception.name)) {
        this.errors.push(
          this.source.error([...at, "name"], `exception '${exception.name}' is named twice`, { rule: rule.id }),
        );
      }
      names.add(exception.name);
      const program = this.condition(
        { label: `exception '${exception.name}'`, path: [...at, "when"], text: exception.when },
        kinds,
        rule.id,
      );
      if (program) exceptions.push({ name: exception.name, when: program.program });
    });
    this.perKind(kinds, (kind) => checkTemplate(rule.message, kind)).forEach((p) => {
      this.errors.push(
        this.source.error([...path, "message"], `message (offset ${p.offset}): ${p.message}`, {
          rule: rule.id,
          index: p.offset,
        }),
      );
    });
    if (!when || this.errors.length > before) return undefined;
    return {
      policy: this.doc.metadata.name,
      id: rule.id,
      kinds,
      action: rule.action,
      severity: rule.severity,
      tags: rule.tags,
      enabled: rule.enabled,
      when: when.program,
      exceptions,
      message: compileTemplate(rule.message),
      bindings: new Map(kinds.map((kind) => [kind, ruleBindings(kind, this.lists)])),
      prefilters,
      kernel: kernelParts(when.expr, kinds, this.listValues),
    };
  }

  private parse(text: ExpressionText, rule?: string): ParsedText | undefined {
    try {
      return parseText(text);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.report(err.location, err.message, rule);
      return undefined;
    }
  }

  private report(location: Location, message: string, rule?: string): void {
    const { source, offset } = location;
    this.errors.push(
      this.source.error(source.path, `${source.label} (offset ${offset}): ${message}`, { rule, index: offset }),
    );
  }

  /** Parses, splices macros into, checks for every kind, and plans one condition. */
  private condition(
    text: ExpressionText,
    kinds: readonly string[],
    rule: string,
  ): { program: Program; expr: Expr } | undefined {
    const parsed = this.parse(text, rule);
    if (!parsed) return undefined;
    let spliced: ReturnType<typeof splice>;
    try {
      spliced = splice(parsed, this.macros);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.report(err.location, err.message, rule);
      return undefined;
    }
    const problems = this.perKind(kinds, (kind) => {
      const roots = new Map(EVENT_TYPES.get(kind)?.fields);
      roots.set("lists", { type: "object", name: "lists", fields: this.listTypes });
      const checked = checkExpression(spliced.expr, roots, functions, {
        elsewhere: EVENT_PARTS,
        suggest: this.macros.keys(),
      });
      const out = checked.problems.map((p) => ({ offset: p.id, message: p.message }));
      if (checked.type.type !== "bool" && checked.type.type !== "dyn") {
        out.push({ offset: spliced.expr.id, message: `the condition yields ${typeName(checked.type)}, not bool` });
      }
      return out;
    });
    problems.push(...badPatterns(spliced.expr));
    for (const p of problems) this.report(spliced.locate(p.offset), p.message, rule);
    if (problems.length > 0) return undefined;
    return { program: plan(environment, spliced.expr) as unknown as Program, expr: spliced.expr };
  }

  /**
   * Problems found for each kind, once each: a problem that only some kinds have (a field
   * that file.rename lacks) says which.
   */
  private perKind<P extends { offset: number | bigint; message: string }>(
    kinds: readonly string[],
    find: (kind: string) => P[],
  ): P[] {
    const found = new Map<string, { problem: P; kinds: string[] }>();
    for (const kind of kinds) {
      for (const problem of find(kind)) {
        const key = `${problem.offset}\0${problem.message}`;
        const entry = found.get(key);
        if (entry) entry.kinds.push(kind);
        else found.set(key, { problem, kinds: [kind] });
      }
    }
    return [...found.values()].map(({ problem, kinds: where }) =>
      where.length === kinds.length
        ? problem
        : { ...problem, message: `${problem.message} (in ${where.join(", ")} events)` },
    );
  }
}

/** `matches` with a constant pattern that RE2 refuses: found now rather than per event. */
function badPatterns(expr: Expr): { offset: bigint; message: string }[] {
  const out: { offset: bigint; message: string }[] = [];
  forEachNode(expr, (e) => {
    if (e.exprKind.case !== "callExpr" || e.exprKind.value.function !== "matches") return;
    const pattern = e.exprKind.value.args[0];
    if (pattern?.exprKind.case !== "constExpr" || pattern.exprKind.value.constantKind.case !== "stringValue") return;
    try {
      matcher(pattern.exprKind.value.constantKind.value);
    } catch (err) {
      out.push({ offset: pattern.id, message: `bad pattern: ${(err as Error).message}` });
    }
  });
  return out;
}
