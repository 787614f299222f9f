import type { ProcessContext, VigilEvent } from "../../events/schema.js";
import type { KernelRecord } from "../kernel/decode.js";
import type { Actor, ProcessTable } from "../state/index.js";
import type { WallClock } from "./clock.js";

export { WallClock } from "./clock.js";

/** wait(2) status: low 7 bits the signal, 0x80 a core dump, bits 8-15 the exit code. */
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null; core_dumped: boolean } {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null, core_dumped: false };
  return { code: null, signal, core_dumped: (status & 0x80) !== 0 };
}

/** Builds the wire events: the record's own facts plus what the process table knows. */
export class Enricher {
  constructor(
    private readonly processes: ProcessTable,
    private readonly clock: WallClock,
  ) {}

  process(record: KernelRecord, actor: Actor): ProcessContext {
    const t = record.task;
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
      ancestry: this.processes.ancestry(t.pid),
    };
  }

  event(record: KernelRecord, actor: Actor): VigilEvent {
    const time = this.clock.fromMonotonic(record.ktime);
    const process = this.process(record, actor);
    switch (record.op) {
      case "process.exec":
        return {
          kind: "process.exec",
          time,
          mono_time: record.ktime,
          process,
          exec: { old_tid: record.oldPid, inode: record.exeIno, dev: record.exeDev },
        };
      case "process.fork":
        return { kind: "process.fork", time, mono_time: record.ktime, process };
      case "process.exit":
        return { kind: "process.exit", time, mono_time: record.ktime, process, exit: decodeWaitStatus(record.status) };
    }
  }
}
