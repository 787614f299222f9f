import type { Ancestor } from "../../events/schema.js";
import type { Container } from "../containers/index.js";

/** What the sensor knows about one process (an "actor"). */
export interface Actor {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  comm: string;
  exe: string;
  args: readonly string[];
  argsTruncated: boolean;
  cwd: string;
  cgroupId: bigint;
  /** The container it runs in; null on the host, absent until resolved. */
  container?: Container | null;
  /** CLOCK_BOOTTIME ns of the process start: with pid, the identity that survives pid reuse. */
  startBoottime: bigint;
  /** Boot-time ns when it exited; set while it lingers for late lookups. */
  exitedAt?: bigint;
  /** This process as an ancestry entry, made once: a new image is a new Actor. */
  asAncestor?: Ancestor;
  /**
   * What later stages derived from the table for this process, valid while the table's
   * generation is unchanged. A field rather than a WeakMap: most processes live briefly, and
   * weak tables of short-lived keys cost the garbage collector more than the lookups save.
   */
  derived?: { generation: number; ancestry?: Ancestor[]; context?: unknown; task?: unknown };
}

export interface ProcessTableLimits {
  /** Longest ancestry chain carried on an event. */
  maxAncestry: number;
  /** Exited processes kept so that children and late events still resolve them. */
  maxExited: number;
}

export const DEFAULT_LIMITS: ProcessTableLimits = { maxAncestry: 32, maxExited: 4096 };

/**
 * The live process tree, keyed by pid. Exited processes linger in a bounded FIFO so that an
 * exit event, or a child reparented a moment later, can still name them.
 */
export class ProcessTable {
  private readonly live = new Map<number, Actor>();
  private readonly exited = new Map<number, Actor>();
  /**
   * Bumped whenever a process starts or runs a new program, which is when an ancestry chain
   * can change: what was derived from the table at an older generation must be derived again.
   */
  generation = 0;
  readonly limits: ProcessTableLimits;

  constructor(limits: Partial<ProcessTableLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get size(): number {
    return this.live.size;
  }

  get(pid: number): Actor | undefined {
    return this.live.get(pid) ?? this.exited.get(pid);
  }

  isLive(pid: number): boolean {
    return this.live.has(pid);
  }

  /** Live processes, in no particular order. */
  actors(): IterableIterator<Actor> {
    return this.live.values();
  }

  /** A new process; a pid seen before belongs to a process that is gone. */
  upsert(actor: Actor): Actor {
    this.generation++;
    this.exited.delete(actor.pid);
    this.live.set(actor.pid, actor);
    return actor;
  }

  /** Marks a process exited and keeps it for late lookups. */
  exit(pid: number, at: bigint): Actor | undefined {
    const actor = this.live.get(pid);
    if (!actor) return this.exited.get(pid);
    this.live.delete(pid);
    actor.exitedAt = at;
    this.exited.set(pid, actor);
    if (this.exited.size > this.limits.maxExited) {
      const oldest = this.exited.keys().next();
      if (!oldest.done) this.exited.delete(oldest.value);
    }
    return actor;
  }

  /**
   * Parent first, up to init; stops at an unknown parent, a loop, or the bound. Kept per
   * process until the table changes, so a busy process's events share one chain.
   */
  ancestry(pid: number): Ancestor[] {
    const actor = this.get(pid);
    const derived = actor?.derived;
    if (derived?.ancestry && derived.generation === this.generation) return derived.ancestry;
    const chain = this.walkAncestry(pid);
    if (actor) actor.derived = { generation: this.generation, ancestry: chain };
    return chain;
  }

  private walkAncestry(pid: number): Ancestor[] {
    const chain: Ancestor[] = [];
    let current = this.get(pid);
    const seen = new Set<number>([pid]);
    while (current && current.ppid > 0 && chain.length < this.limits.maxAncestry) {
      const parent = this.get(current.ppid);
      if (!parent || seen.has(parent.pid)) break;
      seen.add(parent.pid);
      parent.asAncestor ??= Object.freeze({ pid: parent.pid, exe: parent.exe });
      chain.push(parent.asAncestor);
      current = parent;
    }
    return chain;
  }
}
