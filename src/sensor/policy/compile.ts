import { type CelMap, type CelResult, celEnv, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { RE2JS } from "@bufbuild/re2";
import { completeEvent, eventSchemaOf, unknownFields } from "../../events/samples.js";
import type { EventKind, VigilEvent } from "../../events/schema.js";
import { listValue, type RuleBindings, ruleBindings } from "./bindings.js";
import { checkExpression, functionTable } from "./check.js";
import { CIDR_FUNCS } from "./cidr.js";
import { type Disjunct, toDisjuncts } from "./disjuncts.js";
import { notDeniable, outsideKernel } from "./enforceable.js";
import {
  ExpressionError,
  type ExpressionText,
  forEachNode,
  type Location,
  nodeText,
  type ParsedText,
  parseText,
  type SplicedExpression,
  splice,
} from "./expression.js";
import { DYN, didYouMean, EVENT_TYPES, isEventKind, typeName, type ValueType } from "./fields.js";
import {
  type Action,
  API_VERSION,
  durationNs,
  MAX_WINDOW,
  type Mode,
  type PolicyDocument,
  PolicySchema,
  type RuleDocument,
  RuleSchema,
  type SequenceDocument,
  type SequenceKey,
  type Severity,
} from "./format.js";
import { pathText, ruleOf, structureProblems } from "./issues.js";
import { type KernelPart, kernelParts } from "./kernel-part.js";
import { matchNeeds, type Prefilter, prefilter } from "./prefilter.js";
import { type Prefixes, requiredPrefixes } from "./prefixes.js";
import { byPosition, type DocumentPath, type PolicyError, PolicySource } from "./source.js";
import { checkTemplate, compileTemplate, type Render } from "./template.js";

/** A compiled condition: true, false, or an error value; it never throws. */
export type Program = (bindings: RuleBindings) => CelResult;

export interface CompiledException {
  name: string;
  when: Program;
  /** For each kind that has one, a test that is false when the exception cannot hold. */
  prefilters: ReadonlyMap<string, Prefilter>;
  /** Its tree, macros spliced in. */
  expr: Expr;
}

/** A condition on events of some kinds, ready for each of them. */
export interface CompiledCondition {
  kinds: readonly string[];
  when: Program;
  /** Its tree, macros spliced in; undefined for a sequence rule's own (always true) condition. */
  expr?: Expr;
  /** The variables of the condition for events of each of its kinds. */
  bindings: ReadonlyMap<string, RuleBindings>;
  /** For each kind that has one, a test that is false when the condition cannot hold. */
  prefilters: ReadonlyMap<string, Prefilter>;
  /** For each kind, the prefixes the event's string fields must have for the condition to hold. */
  prefixes: ReadonlyMap<string, Prefixes>;
  /**
   * What the kernel must send for the condition to see every event it can match
   * (kernel-part.ts); a sequence rule's are its steps'.
   */
  kernel: readonly KernelPart[];
}

export interface CompiledSequence {
  /** Nanoseconds from the first step's event to the last's. */
  within: bigint;
  by: SequenceKey;
  steps: readonly CompiledCondition[];
}

export interface CompiledRule extends CompiledCondition {
  policy: string;
  id: string;
  action: Action;
  severity: Severity;
  tags: readonly string[];
  enabled: boolean;
  exceptions: readonly CompiledException[];
  /** Rendered from the event that completed the match. */
  message: Render;
  /**
   * Set for a sequence rule. Its conditions are its steps': the rule's own `when` is then
   * true, and its `kinds` and `bindings` are those of all its steps (for its exceptions).
   */
  sequence?: CompiledSequence;
  /** Events that must raise an alert and look-alikes that must not: one list per example, in order. */
  examples?: { match: VigilEvent[][]; ignore: VigilEvent[][] };
  /**
   * Whether the kernel can decide the rule exactly: its condition and exceptions are in the
   * subset of enforceable.ts. A deny rule always can (else it is rejected); `why` says what
   * keeps any other rule out, as `when (offset 24): \`...\`: why`.
   */
  enforceable: { kernel: boolean; why?: string };
  /**
   * When the kernel can decide the rule: the condition with its exceptions (`when && !e1 &&
   * ...`) as disjuncts, each a conjunction of tests the kernel makes (disjuncts.ts).
   */
  disjuncts?: readonly Disjunct[];
}

/** A part of a condition the kernel cannot decide, where it is written. */
interface KernelProblem {
  location: Location;
  message: string;
}

/** Why a sequence rule is never decided in the kernel. */
const SEQUENCE_IN_USER_SPACE = "a sequence's earlier steps are state kept in user space, which the kernel does not see";

export interface CompiledPolicy {
  name: string;
  file: string;
  mode: Mode;
  rules: readonly CompiledRule[];
}

export type CompileResult = { policy: CompiledPolicy; errors: [] } | { policy?: undefined; errors: PolicyError[] };

/** What cel-es asks of a compiled pattern. */
interface Matcher {
  test(input: string): boolean;
}

// Patterns are compiled once: cel-es compiles the pattern of `matches` on every call (80 µs).
// RE2 then costs 5–10 µs a test even on a short path; a string without the literal text every
// match must have (matchNeeds) is refused before it runs.
const matchers = new Map<string, Matcher>();
const MAX_MATCHERS = 4096;
function matcher(pattern: string): Matcher {
  let m = matchers.get(pattern);
  if (!m) {
    const re2 = RE2JS.compile(pattern);
    const needs = matchNeeds(pattern);
    m = needs === null ? re2 : { test: (input) => needs(input) && re2.test(input) };
    if (matchers.size < MAX_MATCHERS) matchers.set(pattern, m);
  }
  return m;
}

const kindsOf = (on: string | readonly string[]): string[] => [...new Set(typeof on === "string" ? [on] : on)];

/** The condition of a sequence rule as a whole: its steps hold the real ones. */
const always: Program = () => true;

/** The CEL environment of every policy: the standard library and the strings extension. */
const environment = celEnv({ funcs: [...strings, ...CIDR_FUNCS], re2: { compile: matcher } });
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
      if (on !== undefined) {
        salvaged.on = (Array.isArray(on) ? on : [on]).filter((k) => typeof k === "string" && isEventKind(k));
      }
      for (const issue of parsed.error.issues) {
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [String(issue.path[0])];
        for (const key of keys) if (key !== "id" && key !== "on" && key !== "when") delete salvaged[key];
      }
      // A sequence with a fault is left out whole (its fault is reported), and its rule with it.
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

  private compileRule(rule: RuleDocument, path: DocumentPath): CompiledRule | undefined {
    const before = this.errors.length;
    let sequence: CompiledSequence | undefined;
    let single: CompiledCondition | undefined;
    const outside: KernelProblem[] = [];
    /** The trees of the condition and of each exception, in that order. */
    const trees: SplicedExpression[] = [];
    if (rule.sequence) sequence = this.compileSequence(rule.sequence, [...path, "sequence"], rule.id);
    else if (rule.on !== undefined && rule.when !== undefined) {
      const compiled = this.compileCondition(
        kindsOf(rule.on),
        { label: "when", path: [...path, "when"], text: rule.when },
        rule.id,
      );
      single = compiled?.condition;
      if (compiled) {
        outside.push(...compiled.outside);
        trees.push(compiled.spliced);
      }
    }
    const steps = sequence?.steps ?? [];
    const kinds = single?.kinds ?? [...new Set(steps.flatMap((s) => s.kinds))];
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
      if (program) {
        const prefilters = this.prefilters(program.expr, kinds);
        exceptions.push({ name: exception.name, when: program.program, prefilters, expr: program.expr });
        trees.push(program.spliced);
        if (single) outside.push(...this.outsideKernel(program.spliced, kinds));
      }
    });
    if (rule.action === "deny") this.checkDeny(rule, path, kinds, outside);
    const disjuncts =
      single && outside.length === 0 && this.errors.length === before && rule.action !== "alert"
        ? this.disjuncts(rule, trees)
        : undefined;
    // The message is rendered from the event that completes the match.
    const lastStep = rule.sequence?.steps[rule.sequence.steps.length - 1];
    const last = single?.kinds ?? (lastStep ? kindsOf(lastStep.on) : []);
    this.perKind(last, (kind) => checkTemplate(rule.message, kind)).forEach((p) => {
      this.errors.push(
        this.source.error([...path, "message"], `message (offset ${p.offset}): ${p.message}`, {
          rule: rule.id,
          index: p.offset,
        }),
      );
    });
    const examples = rule.examples && this.compileExamples(rule, [...path, "examples"]);
    if ((!single && !sequence) || this.errors.length > before) return undefined;
    return {
      policy: this.doc.metadata.name,
      id: rule.id,
      action: rule.action,
      severity: rule.severity,
      tags: rule.tags,
      enabled: rule.enabled,
      ...(single ?? {
        kinds,
        when: always,
        bindings: new Map(kinds.map((kind) => [kind, ruleBindings(kind, this.lists)])),
        prefilters: new Map(),
        prefixes: new Map(),
        kernel: steps.flatMap((step) => step.kernel),
      }),
      exceptions,
      message: compileTemplate(rule.message),
      ...(sequence && { sequence }),
      ...(examples && { examples }),
      enforceable: sequence
        ? { kernel: false, why: SEQUENCE_IN_USER_SPACE }
        : outside.length === 0 && (disjuncts !== undefined || rule.action === "alert")
          ? { kernel: true }
          : { kernel: false, why: outside[0] ? describeProblem(outside[0]) : this.lastDisjunctProblem },
      ...(disjuncts && { disjuncts }),
    };
  }

  /**
   * A deny rule is decided where the operation is stopped: on a kind that can be stopped
   * before it happens, by a condition and exceptions the kernel decides exactly, and never
   * by a sequence, whose earlier steps the kernel does not see.
   */
  private checkDeny(rule: RuleDocument, path: DocumentPath, kinds: readonly string[], outside: KernelProblem[]) {
    const at = [...path, "action"];
    if (rule.sequence) {
      this.errors.push(
        this.source.error(at, `deny: a sequence rule cannot deny: ${SEQUENCE_IN_USER_SPACE}; use kill`, {
          rule: rule.id,
        }),
      );
      return;
    }
    for (const kind of kinds) {
      const why = notDeniable(kind);
      if (why) this.errors.push(this.source.error(at, `deny: ${why}`, { rule: rule.id }));
    }
    for (const problem of outside) this.report(problem.location, `deny: ${problem.message}`, rule.id);
  }

  /** Why the last rule's condition could not be put in disjuncts, for its `enforceable.why`. */
  private lastDisjunctProblem: string | undefined;

  /**
   * The disjuncts of a rule the kernel can decide: a deny rule whose condition has too many is
   * an error where the condition is; a kill rule is then decided in user space.
   */
  private disjuncts(rule: RuleDocument, trees: readonly SplicedExpression[]): Disjunct[] | undefined {
    const [when, ...exceptions] = trees;
    if (!when) return undefined;
    const result = toDisjuncts(
      when.expr,
      exceptions.map((e) => e.expr),
      this.listValues,
    );
    if (!("problem" in result)) return result.disjuncts;
    const { index, node, why } = result.problem;
    const { location, text } = nodeText(trees[index] ?? when, node);
    const message = `\`${text}\`: ${why}`;
    this.lastDisjunctProblem = `${location.source.label} (offset ${location.offset}): ${message}`;
    if (rule.action === "deny") this.report(location, `deny: ${message}`, rule.id);
    return undefined;
  }

  /** The parts of a condition the kernel cannot decide, each once, saying for which kinds if not all. */
  private outsideKernel(spliced: SplicedExpression, kinds: readonly string[]): KernelProblem[] {
    const nodes = new Map<bigint, Expr>();
    const problems = this.perKind(kinds, (kind) =>
      outsideKernel(spliced.expr, kind, this.listValues).map(({ node, why }) => {
        nodes.set(node.id, node);
        return { offset: node.id, message: why };
      }),
    );
    return problems.map((p) => {
      const { location, text } = nodeText(spliced, nodes.get(BigInt(p.offset)) as Expr);
      return { location, message: `\`${text}\`: ${p.message}` };
    });
  }

  /**
   * A condition with its bindings and prefilters for each of its kinds, and the parts of it
   * the kernel cannot decide.
   */
  private compileCondition(
    kinds: string[],
    text: ExpressionText,
    rule: string,
  ): { condition: CompiledCondition; outside: KernelProblem[]; spliced: SplicedExpression } | undefined {
    const when = this.condition(text, kinds, rule);
    if (!when) return undefined;
    const prefilters = this.prefilters(when.expr, kinds);
    const prefixes = new Map(kinds.map((kind) => [kind, requiredPrefixes(when.expr, kind, this.listValues)]));
    const bindings = new Map(kinds.map((kind) => [kind, ruleBindings(kind, this.lists)]));
    const kernel = kernelParts(when.expr, kinds, this.listValues, text.label);
    const condition = { kinds, when: when.program, expr: when.expr, bindings, prefilters, prefixes, kernel };
    return { condition, outside: this.outsideKernel(when.spliced, kinds), spliced: when.spliced };
  }

  private prefilters(expr: Expr, kinds: readonly string[]): Map<string, Prefilter> {
    const prefilters = new Map<string, Prefilter>();
    for (const kind of kinds) {
      const test = prefilter(expr, kind, this.listValues);
      if (test) prefilters.set(kind, test);
    }
    return prefilters;
  }

  private compileSequence(doc: SequenceDocument, path: DocumentPath, rule: string): CompiledSequence | undefined {
    const within = durationNs(doc.within);
    if (within > durationNs(MAX_WINDOW)) {
      this.errors.push(
        this.source.error(
          [...path, "within"],
          `sequence.within: ${doc.within} is longer than the longest window, ${MAX_WINDOW}`,
          {
            rule,
          },
        ),
      );
    }
    const steps = doc.steps.map((step, i) =>
      this.compileCondition(
        kindsOf(step.on),
        { label: `sequence.steps[${i}].when`, path: [...path, "steps", i, "when"], text: step.when },
        rule,
      ),
    );
    if (!steps.every((s) => s !== undefined)) return undefined;
    return { within, by: doc.by, steps: steps.map((s) => s.condition) };
  }

  /**
   * Each example's events, completed from sample defaults and checked against their kind's
   * schema. An event's kind may be left out where only one is possible: the rule's, or the
   * kind of the step at the event's place in a sequence.
   */
  private compileExamples(rule: RuleDocument, path: DocumentPath) {
    const steps = rule.sequence?.steps.map((s) => kindsOf(s.on)) ?? [];
    const own = rule.on !== undefined ? kindsOf(rule.on) : [];
    const out = { match: [] as VigilEvent[][], ignore: [] as VigilEvent[][] };
    for (const set of ["match", "ignore"] as const) {
      rule.examples?.[set].forEach((example, i) => {
        const at = [...path, set, i];
        const isList = Array.isArray(example);
        if (isList !== (rule.sequence !== undefined)) {
          const message = rule.sequence
            ? "an example of a sequence rule is a list of events, in order"
            : "an example of a rule on single events is one event, not a list";
          this.errors.push(this.source.error(at, `examples.${set}[${i}]: ${message}`, { rule: rule.id }));
          return;
        }
        const parts = isList ? example : [example];
        const events: VigilEvent[] = [];
        parts.forEach((part, j) => {
          const where = isList ? [...at, j] : at;
          const choices = isList ? (steps[j] ?? []) : own;
          const kind = part.kind ?? (choices.length === 1 ? choices[0] : undefined);
          if (kind === undefined) {
            const why = isList && j >= steps.length ? "the sequence has no step here" : "the rule is on several kinds";
            this.errors.push(
              this.source.error(where, `${pathText(where.slice(3))}: give its 'kind': ${why}`, { rule: rule.id }),
            );
            return;
          }
          this.exampleEvent(String(kind), part, where, rule.id, events);
        });
        out[set].push(events);
      });
    }
    return out;
  }

  /** One event of an example, completed, or its problems reported at their places. */
  private exampleEvent(kind: string, part: Record<string, unknown>, at: DocumentPath, rule: string, out: VigilEvent[]) {
    const error = (path: DocumentPath, message: string, key?: boolean) =>
      this.errors.push(this.source.error(path, message, { rule, key }));
    if (!isEventKind(kind)) {
      const where = [...at, "kind"];
      error(where, `${pathText(where.slice(3))}: unknown event kind '${kind}'${didYouMean(kind, EVENT_TYPES.keys())}`);
      return;
    }
    const unknown = unknownFields(kind as EventKind, part);
    for (const u of unknown) {
      const where = [...at, ...u.path];
      error(where, `unknown field '${pathText(where.slice(3))}'${didYouMean(String(u.path.at(-1)), u.known)}`, true);
    }
    if (unknown.length > 0) return;
    const completed = completeEvent(kind as EventKind, part);
    if (completed.success) out.push(completed.data);
    else {
      for (const p of structureProblems(eventSchemaOf(kind as EventKind), completed.error.issues, at)) {
        error(p.path, p.message, p.key);
      }
    }
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
  ): { program: Program; expr: Expr; spliced: SplicedExpression } | undefined {
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
    return { program: plan(environment, spliced.expr) as unknown as Program, expr: spliced.expr, spliced };
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

/** `when (offset 24): \`...\`: why`, as a rule's `enforceable.why`. */
function describeProblem(p: KernelProblem): string {
  return `${p.location.source.label} (offset ${p.location.offset}): ${p.message}`;
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
