import type { ProcessRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

/** wait(2) status: low 7 bits the signal, 0x80 a core dump, bits 8-15 the exit code. */
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null; core_dumped: boolean } {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null, core_dumped: false };
  return { code: null, signal, core_dumped: (status & 0x80) !== 0 };
}

export const processBuilders: Builders<ProcessRecord> = {
  "process.exec": (r, base, emit) => {
    const exec = { old_tid: r.oldPid, inode: r.exeIno, dev: r.exeDev, fileless: r.fileless };
    emit({ kind: "process.exec", ...base, exec });
    if (r.fileless) emit({ kind: "mem.memfd_exec", ...base, exec });
  },
  "process.fork": (_r, base, emit) => emit({ kind: "process.fork", ...base }),
  "process.exit": (r, base, emit) => emit({ kind: "process.exit", ...base, exit: decodeWaitStatus(r.status) }),
};
