import type { Logger } from "../../log.js";
import type { FanotifyGuard, KernelBridge } from "../kernel/bridge.js";
import type { FileIdentity, HookTable } from "./plan.js";

/**
 * The fanotify path: deny rules on exec and open of files named by exact path, decided by the
 * native thread of native/src/fanotify.c on the permission events of the files it marks. This
 * file compiles a plan's fanotify tables into that thread's form and keeps the marks: only the
 * files the rules name are marked (FAN_OPEN_EXEC_PERM and FAN_OPEN_PERM for a program, so that
 * ld.so opening it is seen too; FAN_OPEN_PERM for a file), never a mount or a filesystem.
 */

export const FAN_OPEN_PERM = 0x0001_0000;
export const FAN_OPEN_EXEC_PERM = 0x0004_0000;

/** The thread's hooks (fanotify.c HOOKS): exec first, then open. */
const HOOKS = ["exec", "open"] as const;

/** enum atom_kind of fanotify.c: [exact, prefix, suffix] per field. */
const KINDS: Record<string, [number, number, number]> = {
  "file.path": [1, 2, 3],
  "process.exe": [4, 5, 6],
  "process.comm": [7, 8, 9],
};
const VALUE_KINDS: Record<string, number> = { "process.uid": 10, "process.euid": 11, "process.gid": 12 };

/** Longest an opener waits for the thread before it is let through. */
export const DEFAULT_DEADLINE_MS = 100;

export interface FanotifyRules {
  /** The thread's table (fanotify.c's serialised form). */
  table: Buffer;
  /** Each path to mark, with its mask. */
  marks: Map<string, number>;
}

/**
 * The thread's table and the marks for `hooks`. A file the rules name by exact path is marked
 * when it exists (`identify` finds it); on exec that field is the program exec'd, on open the
 * file opened.
 */
export function fanotifyRules(
  hooks: readonly HookTable[],
  identify: (path: string) => readonly FileIdentity[],
): FanotifyRules {
  const parts: Buffer[] = [u32(1)];
  const marks = new Map<string, number>();
  for (const name of HOOKS) {
    const table = hooks.find((h) => h.hook === name);
    const atoms = table?.atoms ?? [];
    parts.push(u32(atoms.length));
    for (const atom of atoms) {
      const strings: string[] = [];
      const ids: FileIdentity[] = [];
      const ints: number[] = [];
      let kind: number;
      const value = VALUE_KINDS[atom.field];
      const string = KINDS[atom.field];
      if (value !== undefined) {
        kind = value;
        for (const v of atom.values) ints.push(Number(v));
      } else if (string) {
        kind = string[atom.test === "prefix" ? 1 : atom.test === "suffix" ? 2 : 0];
        for (const v of atom.values) strings.push(String(v));
        // The file an exact path names: by identity too, and marked.
        const named = name === "exec" ? "process.exe" : "file.path";
        if (atom.test === "exact" && atom.field === named) {
          for (const path of strings) {
            const found = identify(path);
            ids.push(...found);
            if (found.length > 0) {
              const mask = name === "exec" ? FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM : FAN_OPEN_PERM;
              marks.set(path, (marks.get(path) ?? 0) | mask);
            }
          }
        }
      } else {
        throw new Error(`the fanotify thread has no test for ${atom.field} ${atom.test}`);
      }
      parts.push(u32(kind), u32(strings.length), u32(ids.length), u32(ints.length));
      for (const s of strings) {
        const bytes = Buffer.from(s);
        parts.push(u32(bytes.length), bytes);
      }
      for (const id of ids) {
        const b = Buffer.alloc(16);
        b.writeUInt32LE(id.dev, 0);
        b.writeBigUInt64LE(id.ino, 8);
        parts.push(b);
      }
      for (const i of ints) parts.push(u32(i >>> 0));
    }
    const slots = table?.slots ?? [];
    parts.push(u32(slots.length));
    for (const slot of slots) {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(slot.require, 0);
      b.writeBigUInt64LE(slot.forbid, 8);
      parts.push(b);
    }
  }
  return { table: Buffer.concat(parts), marks };
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** What the thread stopped, or let through past its deadline (slot -1). */
export interface FanotifyDenial {
  pid: number;
  hook: "exec" | "open";
  slot: number;
  dev: number;
  ino: bigint;
  path: string;
}

/** The guard and its marks, following the plan's fanotify tables. */
export class FanotifyEnforcer {
  private readonly guard: FanotifyGuard;
  private marked = new Map<string, number>();
  /** The slots of the table in force, by hook, to name the rule of a denial. */
  slots: Map<string, HookTable["slots"]> = new Map();

  constructor(
    bridge: KernelBridge,
    private readonly logger: Logger,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ) {
    this.guard = bridge.openFanotify(deadlineMs);
  }

  /**
   * Puts `hooks` in force without a moment when a marked file is let through: new marks are
   * added first (an event on them meets the old table, which allows it only if the old rules
   * did), then the table is switched, then marks no rule needs are removed.
   */
  apply(hooks: readonly HookTable[], identify: (path: string) => readonly FileIdentity[]): void {
    const { table, marks } = fanotifyRules(hooks, identify);
    for (const [path, mask] of marks) {
      if ((this.marked.get(path) ?? 0) === mask) continue;
      try {
        this.guard.mark(path, mask);
      } catch (err) {
        this.logger.warn({ path, err: (err as Error).message }, "fanotify could not mark a file a rule names");
        marks.delete(path);
      }
    }
    this.guard.setRules(table);
    this.slots = new Map(hooks.map((h) => [h.hook, h.slots]));
    for (const [path, mask] of this.marked) {
      const keep = marks.get(path) ?? 0;
      if ((mask & ~keep) === 0) continue;
      try {
        this.guard.unmark(path, mask & ~keep);
      } catch {
        // The file was removed or replaced: its mark went with its inode, or costs one lookup.
      }
    }
    this.marked = marks;
  }

  /** What the thread did since the last call. */
  take(): FanotifyDenial[] {
    return this.guard.takeDenials();
  }

  stats(): ReturnType<FanotifyGuard["stats"]> {
    return this.guard.stats();
  }

  /** For tests of the deadline: the thread waits this long before deciding. */
  delayDecisions(ms: number): void {
    this.guard.delayDecisions(ms);
  }

  get marks(): string[] {
    return [...this.marked.keys()];
  }

  close(): void {
    this.guard.close();
  }
}
