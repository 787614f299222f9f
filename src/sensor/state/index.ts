import type { Container, ContainerTable } from "../containers/index.js";
import type { KernelRecord, TaskRecord } from "../kernel/decode.js";
import { type ProcSource, seedFromProc } from "./proc-seed.js";
import { type Actor, ProcessTable, type ProcessTableLimits } from "./process-table.js";

export { type ProcSource, readProcess, seedFromProc } from "./proc-seed.js";
export { type Actor, ProcessTable } from "./process-table.js";

/**
 * What the sensor knows about the host between events: the process table, and, when given,
 * the container table that says which container each process runs in.
 */
export class HostState {
  readonly processes: ProcessTable;

  constructor(
    limits: Partial<ProcessTableLimits> = {},
    readonly containers?: ContainerTable,
  ) {
    this.processes = new ProcessTable(limits);
  }

  /** Learns every process that runs already, so that their events have a context too. */
  seed(src: ProcSource): number {
    const actors = seedFromProc(src);
    for (const actor of actors) {
      actor.container = this.containerOf(actor.pid, actor.cgroupId);
      this.processes.upsert(actor);
    }
    return actors.length;
  }

  /** Resolves a process's container (reading only for a cgroup not seen before). */
  private containerOf(pid: number, cgroupId: bigint): Container | null {
    const table = this.containers;
    if (!table) return null;
    const container = table.resolve(pid, cgroupId);
    if (container && table.full) {
      const live = new Set<string>();
      for (const a of this.processes.actors()) if (a.container) live.add(a.container.id);
      live.add(container.id);
      table.prune((id) => live.has(id));
    }
    return container;
  }

  /**
   * Applies one kernel record; returns the actor it is about, as of after the record, or
   * undefined when the record repeats what is known (a second exit of the same process).
   */
  apply(record: KernelRecord): Actor | undefined {
    const t = record.task;
    switch (record.op) {
      case "process.fork": {
        // A child starts as a copy of its parent's image, in its parent's cgroup unless it was cloned into another.
        const parent = this.processes.get(t.ppid);
        const child = actorOf(t, parent ?? NO_IMAGE);
        child.container =
          parent?.container !== undefined && parent.cgroupId === t.cgroupId
            ? parent.container
            : this.containerOf(t.pid, t.cgroupId);
        return this.processes.upsert(child);
      }
      case "process.exec": {
        // A runtime starts a container's process, and `exec` joins one, by an exec in its cgroup.
        const actor = actorOf(t, record);
        actor.container = this.containerOf(t.pid, t.cgroupId);
        return this.processes.upsert(actor);
      }
      case "process.exit": {
        // Threads exiting together may each see the process's last thread go: report it once.
        const gone = !this.processes.isLive(t.pid) && this.processes.get(t.pid);
        if (gone && gone.startBoottime === t.startBoottime) return undefined;
        return this.processes.exit(t.pid, record.ktime) ?? this.stranger(t);
      }
      default:
        // Other records change nothing here; a process not seen yet is described by the record alone.
        return this.processes.get(t.pid) ?? this.stranger(t);
    }
  }

  /** A process the table does not know: its container only if its cgroup's is known already. */
  private stranger(t: TaskRecord): Actor {
    const actor = actorOf(t, NO_IMAGE);
    actor.container = this.containers?.cached(t.cgroupId) ?? null;
    return actor;
  }
}

/** What a process runs: its program, arguments and working directory. */
type Image = Pick<Actor, "exe" | "args" | "argsTruncated" | "cwd">;
const NO_IMAGE: Image = { exe: "", args: Object.freeze([]), argsTruncated: false, cwd: "" };

function actorOf(t: TaskRecord, image: Image): Actor {
  return {
    pid: t.pid,
    ppid: t.ppid,
    uid: t.uid,
    gid: t.gid,
    euid: t.euid,
    comm: t.comm,
    exe: image.exe,
    args: image.args,
    argsTruncated: image.argsTruncated,
    cwd: image.cwd,
    cgroupId: t.cgroupId,
    startBoottime: t.startBoottime,
  };
}
