import type { EventBase, ProcessContext } from "../../events/schema.js";
import type { KernelRecord, TaskRecord } from "../kernel/decode.js";
import type { Actor, ProcessTable } from "../state/index.js";
import type { Builders, Emit } from "./builders.js";
import type { WallClock } from "./clock.js";
import { fileBuilders } from "./file.js";
import { kernelBuilders } from "./kernel.js";
import { memBuilders } from "./mem.js";
import { netBuilders } from "./net.js";
import { procBuilders } from "./proc.js";
import { processBuilders } from "./process.js";

export type { Emit } from "./builders.js";
export { WallClock } from "./clock.js";
export { decodeWaitStatus } from "./process.js";

type AnyBuilder = (record: KernelRecord, base: EventBase, emit: Emit) => void;

const builders = new Map<string, AnyBuilder>(
  Object.entries({
    ...processBuilders,
    ...fileBuilders,
    ...netBuilders,
    ...memBuilders,
    ...procBuilders,
    ...kernelBuilders,
    // A denial is no event of its own: the enforcement stage raises its alert (src/sensor/enforce).
    "enforce.denial": () => undefined,
  } satisfies Builders<KernelRecord>) as [string, AnyBuilder][],
);

function sameTask(a: TaskRecord, b: TaskRecord): boolean {
  // The decoder hands out one TaskRecord while a task's bytes repeat: usually the same object.
  return (
    a === b ||
    (a.tid === b.tid &&
      a.ppid === b.ppid &&
      a.uid === b.uid &&
      a.gid === b.gid &&
      a.euid === b.euid &&
      a.comm === b.comm &&
      a.cgroupId === b.cgroupId &&
      a.startBoottime === b.startBoottime)
  );
}

/** Builds the wire events: the record's own facts plus what the process table knows. */
export class Enricher {
  constructor(
    private readonly processes: ProcessTable,
    private readonly clock: WallClock,
  ) {}

  /**
   * The process context of an event. Events share one context object while the task's ids and
   * the table are unchanged: a process opening a million files builds it once. Sinks must not
   * change what they are given.
   */
  process(record: KernelRecord, actor: Actor): ProcessContext {
    const t = record.task;
    const ancestry = this.processes.ancestry(t.pid);
    // ancestry() left actor.derived at the table's current generation.
    const derived = actor.derived;
    if (
      derived?.context &&
      derived.generation === this.processes.generation &&
      sameTask(derived.task as TaskRecord, t)
    ) {
      return derived.context as ProcessContext;
    }
    const context = this.build(t, actor, ancestry);
    if (derived && derived.generation === this.processes.generation) {
      derived.context = context;
      derived.task = t;
    }
    return context;
  }

  /**
   * An event's base for a process known only by its pid, at wall-clock `time` (an operation seen
   * outside the kernel's records: fanotify's).
   */
  baseOf(pid: number, time: bigint) {
    const actor = this.processes.get(pid);
    return {
      time,
      mono_time: 0n,
      process: this.processOf(pid),
      container: actor?.container?.info ?? null,
      k8s: actor?.container?.k8s ?? null,
    };
  }

  /**
   * The context of a process known only by its pid, from the table; a process the table does not
   * know has only its pid.
   */
  processOf(pid: number): ProcessContext {
    const actor = this.processes.get(pid);
    const task: TaskRecord = {
      pid,
      tid: pid,
      ppid: actor?.ppid ?? 0,
      uid: actor?.uid ?? 0,
      gid: actor?.gid ?? 0,
      euid: actor?.euid ?? 0,
      egid: actor?.gid ?? 0,
      cgroupId: actor?.cgroupId ?? 0n,
      startBoottime: actor?.startBoottime ?? 0n,
      comm: actor?.comm ?? "",
    };
    if (!actor) {
      const unknown = { exe: "", args: [], argsTruncated: false, cwd: "" } as unknown as Actor;
      return this.build(task, unknown, []);
    }
    return this.build(task, actor, this.processes.ancestry(pid));
  }

  private build(t: TaskRecord, actor: Actor, ancestry: ProcessContext["ancestry"]): ProcessContext {
    return {
      pid: t.pid,
      tid: t.tid,
      ppid: t.ppid,
      uid: t.uid,
      gid: t.gid,
      euid: t.euid,
      comm: t.comm,
      exe: actor.exe,
      args: actor.args,
      args_truncated: actor.argsTruncated,
      cwd: actor.cwd,
      cgroup_id: t.cgroupId,
      start_time: this.clock.fromBoottime(t.startBoottime),
      ancestry,
    };
  }

  /** What every event of the record carries: times, process, container. */
  base(record: KernelRecord, actor: Actor) {
    return {
      time: this.clock.fromMonotonic(record.ktime),
      mono_time: record.ktime,
      process: this.process(record, actor),
      container: actor.container?.info ?? null,
      k8s: actor.container?.k8s ?? null,
    };
  }

  /** Emits the record's events. */
  enrich(record: KernelRecord, actor: Actor, emit: Emit): void {
    builders.get(record.op)?.(record, this.base(record, actor), emit);
  }
}
