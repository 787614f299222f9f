import type { Handler } from "./common.js";

/** Records of processes acting on credentials and other processes (bpf/records/proc.h). */
export type ProcRecord = never;

export const procHandlers = new Map<number, Handler<ProcRecord>>();
