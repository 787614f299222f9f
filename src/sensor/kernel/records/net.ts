import type { Handler } from "./common.js";

/** Records of the network domain (bpf/records/net.h). */
export type NetRecord = never;

export const netHandlers = new Map<number, Handler<NetRecord>>();
