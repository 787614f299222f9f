import type { VigilEvent } from "../../events/schema.js";
import type { CompiledSequence } from "./compile.js";

/**
 * Sequence rules: ordered steps within a time window, the steps' events sharing a key.
 *
 * A partial match is a run of the first steps' events. It starts on an event that matches step
 * 1, and each later event that matches its next step and shares its key carries it one step on;
 * the event that matches the last step completes it (one alert, with every step's event). Events
 * count in the order they are delivered; the window is measured on their times: every step's
 * event within `within` of the first step's. A partial match whose window has passed, by the time
 * of the event being tested, is dropped (counted as expired).
 *
 * Keys (what the steps' events must share):
 * - process: the first step's process, by pid and start time (an exec keeps both);
 * - tree: the first step's process or any process that has it in its ancestry (its pid among
 *   the ancestors' and a start time no earlier than its own, since ancestry carries no start
 *   times);
 * - session: the process's cgroup. Events carry no session id yet; under systemd each login
 *   session and each service is a cgroup of its own, so the cgroup stands for the session;
 * - container: the container id, so that processes a container starts in cgroups of its own
 *   (systemd inside it, `exec` with another cgroup) share one; the cgroup where the process runs
 *   on the host or its container is not known.
 *
 * State is bounded. Per key there is at most one partial match per step reached: a newer one
 * replaces the older (it started later, so its window ends later). Beyond that, a rule holds at
 * most `perRule` partial matches and all rules together `total`; to make room, the rule's least
 * recently advanced partial match is dropped, counted as evicted.
 */

export interface SequenceLimits {
  /** Partial matches one rule may hold. */
  perRule: number;
  /** Partial matches all sequence rules together may hold. */
  total: number;
}

export const SEQUENCE_LIMITS: Readonly<SequenceLimits> = { perRule: 1024, total: 16_384 };

/** What sequence rules hold and have dropped, shared by the rules of one engine. */
export interface SequenceBudget {
  readonly limits: SequenceLimits;
  held: number;
}

export interface SequenceCounters {
  expired: number;
  evicted: number;
}

type Key = number | bigint | string;

interface Partial {
  key: Key;
  /** Steps matched so far; the next step's index. */
  level: number;
  /** The first step's event time. */
  start: bigint;
  /** The last time its window is open: start + within. */
  deadline: bigint;
  pid: number;
  startTime: bigint;
  events: VigilEvent[];
  /** Its neighbours in the order of last change; `held` while it is in the order. */
  older?: Partial;
  newer?: Partial;
  held: boolean;
}

/**
 * Partial matches, least recently started or advanced first: a list through the partial
 * matches themselves, since a Set used as a queue (oldest deleted at the front) leaves
 * deleted entries that every walk from the front steps over until the table is rebuilt.
 */
class Order {
  private oldest: Partial | undefined;
  private newest: Partial | undefined;
  size = 0;

  get first(): Partial | undefined {
    return this.oldest;
  }

  add(p: Partial): void {
    p.older = this.newest;
    p.newer = undefined;
    if (this.newest) this.newest.newer = p;
    else this.oldest = p;
    this.newest = p;
    p.held = true;
    this.size++;
  }

  /** Takes a partial match out; false when it was not in. */
  delete(p: Partial): boolean {
    if (!p.held) return false;
    if (p.older) p.older.newer = p.newer;
    else this.oldest = p.newer;
    if (p.newer) p.newer.older = p.older;
    else this.newest = p.older;
    p.older = undefined;
    p.newer = undefined;
    p.held = false;
    this.size--;
    return true;
  }

  /** Every partial match, oldest first; a copy, so the walk may drop them. */
  all(): Partial[] {
    const out: Partial[] = [];
    for (let p = this.oldest; p; p = p.newer) out.push(p);
    return out;
  }
}

export class SequenceMatcher {
  private readonly byKey = new Map<Key, (Partial | undefined)[]>();
  /** Every partial match, least recently started or advanced first. */
  private readonly order = new Order();

  constructor(
    private readonly sequence: CompiledSequence,
    private readonly budget: SequenceBudget,
    private readonly counters: SequenceCounters,
  ) {}

  /** Partial matches held. */
  get held(): number {
    return this.order.size;
  }

  /**
   * Offers an event; `matches(step)` says whether it satisfies a step of this rule (asked only
   * for the steps that could use it). `complete` gets the events of each match completed.
   */
  offer(event: VigilEvent, matches: (step: number) => boolean, complete: (events: VigilEvent[]) => void): void {
    const now = event.time;
    // With nothing held there is nothing to expire or carry on: only a first step to try.
    if (this.order.size > 0) {
      this.expire(now);
      const { process } = event;
      const { by } = this.sequence;
      // The keys under which partial matches this event may carry on are held.
      if (by === "process" || by === "tree") this.carry(process.pid, event, now, matches, complete);
      else this.carry(this.anchorOf(event), event, now, matches, complete);
      if (by === "tree") for (const a of process.ancestry) this.carry(a.pid, event, now, matches, complete);
    }
    if (matches(0)) {
      const { pid, start_time } = event.process;
      const key = this.anchorOf(event);
      this.place({
        key,
        level: 1,
        start: now,
        deadline: now + this.sequence.within,
        pid,
        startTime: start_time,
        events: [event],
        held: false,
      });
    }
  }

  /** Carries on the partial matches held under `key` that the event continues. */
  private carry(
    key: Key,
    event: VigilEvent,
    now: bigint,
    matches: (step: number) => boolean,
    complete: (events: VigilEvent[]) => void,
  ): void {
    const slots = this.byKey.get(key);
    if (slots === undefined) return;
    const last = this.sequence.steps.length;
    // From the furthest step down, so that one event carries a partial match one step only.
    for (let level = last - 1; level >= 1; level--) {
      const partial = slots[level];
      if (partial === undefined) continue;
      if (this.expired(partial, now)) {
        this.drop(partial);
        this.counters.expired++;
        continue;
      }
      if (!this.belongs(partial, event) || !matches(level)) continue;
      this.drop(partial);
      const events = [...partial.events, event];
      if (level + 1 === last) complete(events);
      else this.place({ ...partial, level: level + 1, events, held: false });
    }
  }

  /** Drops every partial match whose window has passed at `now`. */
  sweep(now: bigint): void {
    for (const partial of this.order.all()) {
      if (this.expired(partial, now)) {
        this.drop(partial);
        this.counters.expired++;
      }
    }
  }

  /** Drops every partial match (the rule left the set in force). */
  clear(): void {
    for (const partial of this.order.all()) this.drop(partial);
  }

  private expired(partial: Partial, now: bigint): boolean {
    return now > partial.deadline;
  }

  /** Drops expired partial matches from the front; most expire in the order they started. */
  private expire(now: bigint): void {
    for (let partial = this.order.first; partial !== undefined; partial = this.order.first) {
      if (!this.expired(partial, now)) return;
      this.drop(partial);
      this.counters.expired++;
    }
  }
  private place(partial: Partial): void {
    const there = this.byKey.get(partial.key)?.[partial.level];
    if (there !== undefined) {
      // Of two partial matches at the same step, the one that started later can still finish later.
      if (there.start > partial.start) return;
      this.drop(there);
    } else {
      this.makeRoom();
      if (this.budget.held >= this.budget.limits.total) {
        this.counters.evicted++;
        return;
      }
    }
    let slots = this.byKey.get(partial.key);
    if (slots === undefined) {
      slots = [];
      this.byKey.set(partial.key, slots);
    }
    slots[partial.level] = partial;
    this.order.add(partial);
    this.budget.held++;
  }

  /** Evicts this rule's least recently advanced partial match when a limit is reached. */
  private makeRoom(): void {
    const full = this.order.size >= this.budget.limits.perRule || this.budget.held >= this.budget.limits.total;
    if (!full) return;
    const oldest = this.order.first;
    if (oldest === undefined) return;
    this.drop(oldest);
    this.counters.evicted++;
  }

  private drop(partial: Partial): void {
    if (!this.order.delete(partial)) return;
    this.budget.held--;
    const slots = this.byKey.get(partial.key);
    if (slots?.[partial.level] !== partial) return;
    slots[partial.level] = undefined;
    if (slots.every((s) => s === undefined)) this.byKey.delete(partial.key);
  }

  /** The key a partial match started by this event is held under. */
  private anchorOf(event: VigilEvent): Key {
    switch (this.sequence.by) {
      case "process":
      case "tree":
        return event.process.pid;
      case "container":
        return event.container?.id ?? event.process.cgroup_id;
      default:
        return event.process.cgroup_id;
    }
  }

  /** Whether the event's process is the partial match's (a key can be a reused pid). */
  private belongs(partial: Partial, event: VigilEvent): boolean {
    const { pid, start_time } = event.process;
    switch (this.sequence.by) {
      case "process":
        return pid === partial.pid && start_time === partial.startTime;
      case "tree":
        return pid === partial.pid ? start_time === partial.startTime : start_time >= partial.startTime;
      default:
        return true;
    }
  }
}
