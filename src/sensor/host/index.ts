export { CAP, type CapName, effectiveCapabilities } from "./capabilities.js";
export { kernelVersionCode, kernelVersionProblem, MIN_KERNEL_VERSION, parseKernelRelease } from "./kernel-version.js";
export { cgroup2MountPoint, type MountEntry, parseMountInfo, readMounts } from "./mounts.js";
