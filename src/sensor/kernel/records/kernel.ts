import type { Handler } from "./common.js";

/** Records of the credentials and the kernel domain (bpf/records/kernel.h). */
export type KernelRecord = never;

export const kernelHandlers = new Map<number, Handler<KernelRecord>>();
