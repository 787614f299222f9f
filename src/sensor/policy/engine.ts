import { isCelError } from "@bufbuild/cel";
import type { Alert, Outcome } from "../../events/alert.js";
import type { VigilEvent } from "../../events/schema.js";
import { type RuleBindings, reader } from "./bindings.js";
import type { CompiledPolicy, CompiledRule, CompiledSequence, Program } from "./compile.js";
import type { Action, Mode } from "./format.js";
import type { Prefilter } from "./prefilter.js";
import { PrefixTable } from "./prefixes.js";
import { SEQUENCE_LIMITS, type SequenceBudget, type SequenceLimits, SequenceMatcher } from "./sequence.js";

/**
 * The policy stage: each event is tested against the rules on its kind, and a rule that
 * matches (and that no exception exempts) raises one alert. Where the rules on a kind name the
 * paths they watch, an event is tried only on those its path can match (prefixes.ts).
 */

/** How a policy file fared at the last load. */
export interface PolicyFileStatus {
  file: string;
  /** The policy it holds, when it could be read. */
  policy?: string;
  /** loaded; rejected (not in force); stale (rejected now, its last good version stays in force). */
  status: "loaded" | "rejected" | "stale";
  errors: number;
}

/** The compiled policies in force. Never changed once built: a reload builds a new one. */
export class PolicySet {
  static readonly empty = new PolicySet([], []);

  constructor(
    readonly policies: readonly CompiledPolicy[],
    readonly files: readonly PolicyFileStatus[],
  ) {}

  get rules(): CompiledRule[] {
    return this.policies.flatMap((p) => p.rules);
  }
}

export interface RuleStatistics {
  policy: string;
  rule: string;
  kinds: readonly string[];
  action: Action;
  enabled: boolean;
  /** Events the rule was tested against. */
  tested: number;
  matched: number;
  /** Matched, but an exception exempted them. */
  exempted: number;
  /** Evaluations that failed (a null where a value was needed, an int overflow, ...). */
  errors: number;
  /**
   * Time spent testing, estimated from every 64th test it was given. Events that the index
   * by path prefix passes by (they cannot match the rule) are counted in `tested` but cost the
   * rule nothing of its own.
   */
  timeNs: number;
  lastError?: string;
  /** A sequence rule's partial matches: held now, dropped when their window passed, evicted for room. */
  sequence?: { partial: number; expired: number; evicted: number };
}

export interface PolicyStatistics {
  /** The mode rules run in. */
  mode: Mode;
  policies: number;
  rules: number;
  alerts: number;
  /** Times a new set was put in force after the first. */
  reloads: number;
  /** When the set in force was put in force, ISO 8601. */
  loadedAt: string;
  files: PolicyFileStatus[];
  /** Partial matches of all sequence rules, against their limits; what was dropped, in all. */
  sequences: { partial: number; limits: SequenceLimits; expired: number; evicted: number };
  perRule: RuleStatistics[];
}

interface Counters {
  /** Events tested against the rule in sets no longer in force; those of the set in force are its kinds' counts. */
  tested: number;
  /** Tests the rule was given (after the index by prefix), for its time. */
  tests: number;
  matched: number;
  exempted: number;
  errors: number;
  sampledNs: number;
  samples: number;
  lastError?: string;
  expired: number;
  evicted: number;
}

/** A condition as tested on one kind. */
interface KindCondition {
  when: Program;
  bindings: RuleBindings;
  prefilter: Prefilter | undefined;
}

interface IndexedException {
  name: string;
  when: Program;
  prefilter: Prefilter | undefined;
}

/** A rule as the index holds it for one kind. */
interface IndexedRule extends KindCondition {
  rule: CompiledRule;
  exceptions: readonly IndexedException[];
  counters: Counters;
  outcome: Outcome;
  /** Set for a sequence rule: its partial matches. */
  sequence?: SequenceMatcher;
  /** A sequence rule's steps on this kind, by index; undefined for a step on other kinds. */
  steps: readonly (KindCondition | undefined)[];
}

/** The rules on one kind. */
interface KindRules {
  /** Events of the kind tested against the set, for each rule's `tested`. */
  events: number;
  rules: readonly IndexedRule[];
  /** When rules require prefixes of a field: the field, and the rules a value of it can match. */
  byPrefix?: { read: (event: VigilEvent) => unknown; table: PrefixTable<IndexedRule> };
}

// Reading a clock costs about 60 ns here, as much as a third of a simple rule: time one test in 64.
const SAMPLE_MASK = 63;

export interface PolicyEngineOptions {
  /** Nanoseconds since the epoch, for alert times. */
  clock?: () => bigint;
  /** Bounds of the state sequence rules hold; SEQUENCE_LIMITS unless given. */
  sequenceLimits?: SequenceLimits;
}

const wallClock = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

/**
 * The outcome of a rule's alerts on a kind, as enforcement decides it; undefined when the
 * engine must not test the rule on that kind (the kernel decides it and raises its alerts).
 */
export type OutcomeResolver = (rule: CompiledRule, kind: string) => Outcome | undefined;

/** Told around each swap: what a set needs from the kernel must be there before it is in force. */
export interface SwapListener {
  /** The set about to be put in force; the current one is still in force. */
  before?(next: PolicySet): void;
  /** The set just put in force. */
  after?(current: PolicySet): void;
}

export class PolicyEngine {
  private set = PolicySet.empty;
  private readonly listeners: SwapListener[] = [];
  private resolve: OutcomeResolver = (rule) => outcomeOf(rule.action);
  private index = new Map<string, KindRules>();
  private counters = new Map<string, Counters>();
  /** For each rule's counters, the kinds it is indexed on in the set in force. */
  private kindsOf = new Map<Counters, KindRules[]>();
  private alerts = 0;
  private reloads = -1;
  private loadedAt = new Date();
  private readonly clock: () => bigint;
  private budget: SequenceBudget;
  private matchers = new Map<CompiledSequence, SequenceMatcher>();
  /** The time of the latest event tested, for dropping expired partial matches in statistics(). */
  private lastTime = 0n;

  constructor(options: PolicyEngineOptions = {}) {
    this.clock = options.clock ?? wallClock;
    this.budget = { limits: { ...(options.sequenceLimits ?? SEQUENCE_LIMITS) }, held: 0 };
  }

  /**
   * Puts a new set in force. An event is tested against one set from its first rule to its
   * last: evaluate() reads the index once per event, and a swap replaces the index whole.
   * A rule that stays (same policy and id) keeps its counters; a sequence rule keeps its partial
   * matches only when it was not recompiled (a stale file's last good version).
   */
  swap(set: PolicySet): void {
    this.install(set);
    this.reloads++;
    this.loadedAt = new Date();
  }

  /**
   * Decides outcomes with `resolve` from now on, and indexes the set in force again with it
   * (its listeners are told, as for a swap, but it is no reload).
   */
  decideOutcomes(resolve: OutcomeResolver): void {
    this.resolve = resolve;
    this.install(this.set);
  }

  private install(set: PolicySet): void {
    for (const l of this.listeners) l.before?.(set);
    for (const [c, kinds] of this.kindsOf) for (const k of kinds) c.tested += k.events;
    const byKind = new Map<string, IndexedRule[]>();
    const counters = new Map<string, Counters>();
    const matchers = new Map<CompiledSequence, SequenceMatcher>();
    for (const policy of set.policies) {
      for (const rule of policy.rules) {
        const key = `${rule.policy}\0${rule.id}`;
        const kept = this.counters.get(key) ?? {
          tested: 0,
          tests: 0,
          matched: 0,
          exempted: 0,
          errors: 0,
          sampledNs: 0,
          samples: 0,
          expired: 0,
          evicted: 0,
        };
        counters.set(key, kept);
        if (!rule.enabled) continue;
        let sequence: SequenceMatcher | undefined;
        if (rule.sequence) {
          sequence = this.matchers.get(rule.sequence) ?? new SequenceMatcher(rule.sequence, this.budget, kept);
          matchers.set(rule.sequence, sequence);
        }
        for (const kind of rule.kinds) {
          const bindings = rule.bindings.get(kind);
          const outcome = this.resolve(rule, kind);
          if (!bindings || outcome === undefined) continue;
          const list = byKind.get(kind) ?? [];
          list.push({
            rule,
            when: rule.when,
            bindings,
            prefilter: rule.prefilters.get(kind),
            exceptions: rule.exceptions.map((e) => ({ name: e.name, when: e.when, prefilter: e.prefilters.get(kind) })),
            counters: kept,
            outcome,
            sequence,
            steps: (rule.sequence?.steps ?? []).map((step) => {
              const stepBindings = step.bindings.get(kind);
              return stepBindings && { when: step.when, bindings: stepBindings, prefilter: step.prefilters.get(kind) };
            }),
          });
          byKind.set(kind, list);
        }
      }
    }
    const index = new Map<string, KindRules>();
    const kindsOf = new Map<Counters, KindRules[]>();
    for (const [kind, rules] of byKind) {
      const entry = kindRules(kind, rules);
      index.set(kind, entry);
      for (const r of rules) kindsOf.set(r.counters, [...(kindsOf.get(r.counters) ?? []), entry]);
    }
    for (const [compiled, matcher] of this.matchers) if (!matchers.has(compiled)) matcher.clear();
    this.matchers = matchers;
    this.set = set;
    this.index = index;
    this.kindsOf = kindsOf;
    this.counters = counters;
    for (const l of this.listeners) l.after?.(set);
  }

  onSwap(listener: SwapListener): void {
    this.listeners.push(listener);
  }

  get current(): PolicySet {
    return this.set;
  }

  /** Tests an event; `emit` gets one alert per matching rule. Never throws for a rule's sake. */
  evaluate(event: VigilEvent, emit: (alert: Alert) => void): void {
    const kind = this.index.get(event.kind);
    if (kind === undefined) return;
    kind.events++;
    this.lastTime = event.time;
    const rules = kind.byPrefix ? candidates(kind.byPrefix, event, kind.rules) : kind.rules;
    for (let i = 0; i < rules.length; i++) {
      const entry = rules[i] as IndexedRule;
      const counters = entry.counters;
      if ((++counters.tests & SAMPLE_MASK) === 0) {
        const start = performance.now();
        this.testOne(entry, event, emit);
        counters.sampledNs += (performance.now() - start) * 1e6;
        counters.samples++;
      } else {
        this.testOne(entry, event, emit);
      }
    }
  }

  private testOne(entry: IndexedRule, event: VigilEvent, emit: (alert: Alert) => void): void {
    if (entry.sequence) this.offer(entry, entry.sequence, event, emit);
    else if (holds(entry, entry.exceptions, entry.bindings, event, entry.counters)) this.raise(entry, [event], emit);
  }

  /** Offers an event to a sequence rule, testing only the steps its partial matches could use. */
  private offer(entry: IndexedRule, matcher: SequenceMatcher, event: VigilEvent, emit: (alert: Alert) => void): void {
    const { steps, counters } = entry;
    // Nothing held, and the event cannot start a partial match: it has nothing to carry on.
    if (matcher.held === 0 && steps[0] === undefined) return;
    const known: (boolean | undefined)[] = [];
    const matches = (step: number): boolean => {
      let result = known[step];
      if (result === undefined) {
        const condition = steps[step];
        result = condition !== undefined && holds(condition, entry.exceptions, entry.bindings, event, counters);
        known[step] = result;
      }
      return result;
    };
    matcher.offer(event, matches, (events) => this.raise(entry, events, emit));
  }

  private raise(entry: IndexedRule, events: VigilEvent[], emit: (alert: Alert) => void): void {
    entry.counters.matched++;
    this.alerts++;
    emit(this.alert(entry, events));
  }

  private alert(entry: IndexedRule, events: VigilEvent[]): Alert {
    const { rule } = entry;
    const last = events[events.length - 1] as VigilEvent;
    return {
      kind: "alert",
      time: this.clock(),
      rule: { id: rule.id, policy: rule.policy, severity: rule.severity, tags: [...rule.tags] },
      message: rule.message(last),
      action: rule.action,
      outcome: entry.outcome,
      container: last.container,
      k8s: last.k8s,
      events,
    };
  }

  statistics(): PolicyStatistics {
    for (const matcher of this.matchers.values()) matcher.sweep(this.lastTime);
    const perRule: RuleStatistics[] = [];
    for (const rule of this.set.rules) {
      const c = this.counters.get(`${rule.policy}\0${rule.id}`);
      if (!c) continue;
      perRule.push({
        policy: rule.policy,
        rule: rule.id,
        kinds: rule.kinds,
        action: rule.action,
        enabled: rule.enabled,
        tested: (this.kindsOf.get(c) ?? []).reduce((n, k) => n + k.events, c.tested),
        matched: c.matched,
        exempted: c.exempted,
        errors: c.errors,
        timeNs: c.samples > 0 ? Math.round((c.sampledNs / c.samples) * c.tests) : 0,
        ...(c.lastError !== undefined && { lastError: c.lastError }),
        ...(rule.sequence && {
          sequence: { partial: this.matchers.get(rule.sequence)?.held ?? 0, expired: c.expired, evicted: c.evicted },
        }),
      });
    }
    const sequences = perRule.flatMap((r) => (r.sequence ? [r.sequence] : []));
    return {
      mode: "audit",
      policies: this.set.policies.length,
      rules: perRule.length,
      alerts: this.alerts,
      reloads: Math.max(0, this.reloads),
      loadedAt: this.loadedAt.toISOString(),
      files: this.set.files.map((f) => ({ ...f })),
      sequences: {
        partial: this.budget.held,
        limits: { ...this.budget.limits },
        expired: sequences.reduce((n, s) => n + s.expired, 0),
        evicted: sequences.reduce((n, s) => n + s.evicted, 0),
      },
      perRule,
    };
  }
}

/**
 * What is done when a rule matches, until enforcement decides (decideOutcomes): every rule runs
 * in audit mode, and the outcome says what enforcement would have done.
 */
function outcomeOf(action: Action): Outcome {
  switch (action) {
    case "deny":
      return "would_deny";
    case "kill":
      return "would_kill";
    default:
      return "alerted";
  }
}

/**
 * The rules on a kind, with a table of them by the prefixes of the field most of them require
 * prefixes of (when two or more do). Sequence rules are tried on every event: their partial
 * matches are carried on by events their first step would not match.
 */
function kindRules(kind: string, rules: readonly IndexedRule[]): KindRules {
  const requires = (r: IndexedRule, field: string) => (r.sequence ? undefined : r.rule.prefixes.get(kind)?.get(field));
  const counts = new Map<string, number>();
  for (const r of rules) {
    if (r.sequence) continue;
    for (const field of r.rule.prefixes.get(kind)?.keys() ?? []) counts.set(field, (counts.get(field) ?? 0) + 1);
  }
  let field: string | undefined;
  for (const [name, count] of counts) if (count >= 2 && count > (field ? (counts.get(field) ?? 0) : 0)) field = name;
  if (field === undefined) return { events: 0, rules };
  const chosen = field;
  const table = new PrefixTable(rules, (r) => requires(r, chosen));
  return { events: 0, rules, byPrefix: { read: reader(chosen.split(".")), table } };
}

/** The rules an event can match by its indexed field; all of them when the field is not a string. */
function candidates(
  byPrefix: NonNullable<KindRules["byPrefix"]>,
  event: VigilEvent,
  all: readonly IndexedRule[],
): readonly IndexedRule[] {
  const value = byPrefix.read(event);
  return typeof value === "string" ? byPrefix.table.candidates(value) : all;
}

/**
 * A prefilter, a condition, then the exceptions (in their own bindings, which may be the
 * condition's; each only when its prefilter passes). An exception that fails does not exempt.
 */
function holds(
  condition: KindCondition,
  exceptions: readonly IndexedException[],
  exceptionBindings: RuleBindings,
  event: VigilEvent,
  counters: Counters,
): boolean {
  if (condition.prefilter !== undefined && !passes(condition.prefilter, event)) return false;
  const { bindings } = condition;
  bindings.event = event;
  const result = condition.when(bindings);
  if (result !== true) {
    if (result !== false) failed(counters, result);
    return false;
  }
  exceptionBindings.event = event;
  for (const exception of exceptions) {
    if (exception.prefilter !== undefined && !passes(exception.prefilter, event)) continue;
    const exempt = exception.when(exceptionBindings);
    if (exempt === true) {
      counters.exempted++;
      return false;
    }
    if (exempt !== false) failed(counters, exempt, `exception '${exception.name}': `);
  }
  return true;
}

/**
 * A prefilter's answer; true (cel-es decides) if it throws, which it can only do on an event
 * that is not shaped as its kind says.
 */
function passes(prefilter: Prefilter, event: VigilEvent): boolean {
  try {
    return prefilter(event);
  } catch {
    return true;
  }
}

function failed(counters: Counters, result: unknown, prefix = ""): void {
  counters.errors++;
  counters.lastError = isCelError(result)
    ? `${prefix}${result.message}`
    : `${prefix}yielded ${String(result)}, not bool`;
}
