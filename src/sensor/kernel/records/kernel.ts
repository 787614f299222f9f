import type { Handler } from "./common.js";

/** Records of the kernel domain (module loads, bpf, namespaces, mounts) (bpf/records/kernel.h). */
export type KernelRecord = never;

export const kernelHandlers = new Map<number, Handler<KernelRecord>>();
