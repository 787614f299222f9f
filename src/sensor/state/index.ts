import type { KernelRecord, TaskRecord } from "../kernel/decode.js";
import { type ProcSource, seedFromProc } from "./proc-seed.js";
import { type Actor, ProcessTable, type ProcessTableLimits } from "./process-table.js";

export { type ProcSource, readProcess, seedFromProc } from "./proc-seed.js";
export { type Actor, ProcessTable } from "./process-table.js";

/** What the sensor knows about the host between events: today, the process table. */
export class HostState {
  readonly processes: ProcessTable;

  constructor(limits: Partial<ProcessTableLimits> = {}) {
    this.processes = new ProcessTable(limits);
  }

  /** Learns every process that runs already, so that their events have a context too. */
  seed(src: ProcSource): number {
    const actors = seedFromProc(src);
    for (const actor of actors) this.processes.upsert(actor);
    return actors.length;
  }

  /**
   * Applies one kernel record; returns the actor it is about, as of after the record, or
   * undefined when the record repeats what is known (a second exit of the same process).
   */
  apply(record: KernelRecord): Actor | undefined {
    const t = record.task;
    switch (record.op) {
      case "process.fork":
        // A child starts as a copy of its parent's image.
        return this.processes.upsert(actorOf(t, this.processes.get(t.ppid) ?? NO_IMAGE));
      case "process.exec":
        return this.processes.upsert(actorOf(t, record));
      case "process.exit": {
        // Threads exiting together may each see the process's last thread go: report it once.
        const gone = !this.processes.isLive(t.pid) && this.processes.get(t.pid);
        if (gone && gone.startBoottime === t.startBoottime) return undefined;
        return this.processes.exit(t.pid, record.ktime) ?? actorOf(t, NO_IMAGE);
      }
      default:
        // Other records change nothing here; a process not seen yet is described by the record alone.
        return this.processes.get(t.pid) ?? actorOf(t, NO_IMAGE);
    }
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
