export { type BpfObject, type KernelBridge, kernelBridge } from "./bridge.js";
export { type DecodeStats, type KernelRecord, RecordDecoder } from "./decode.js";
export { ensureFilesystems } from "./mounts.js";
export { type Check, type EnforcementPath, type PreflightReport, preflight } from "./preflight.js";
export { DEFAULT_SOURCE_OPTIONS, KernelSource, type KernelSourceOptions } from "./source.js";
