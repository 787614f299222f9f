import type { KernelDomainRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

export const kernelBuilders: Builders<KernelDomainRecord> = {};
