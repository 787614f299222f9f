import type { Handler } from "./common.js";

/** Records of the memory domain (bpf/records/mem.h). */
export type MemRecord = never;

export const memHandlers = new Map<number, Handler<MemRecord>>();
