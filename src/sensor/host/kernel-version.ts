/** KERNEL_VERSION(a,b,c) as the kernel's own headers compute it (c saturates at 255). */
export function kernelVersionCode(major: number, minor: number, patch: number): number {
  return (major << 16) + (minor << 8) + Math.min(patch, 255);
}

/** KERNEL_VERSION(4,18,0): the first kernel with the BPF features the sensor cannot do without. */
export const MIN_KERNEL_VERSION = kernelVersionCode(4, 18, 0);

/** Parses a uname release such as "6.18.44-fc-v657" or "5.4.0-150-generic". */
export function parseKernelRelease(release: string): number | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return undefined;
  return kernelVersionCode(Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
}

/** The refusal the sensor gives on an old kernel, or undefined when the kernel will do. */
export function kernelVersionProblem(release: string): string | undefined {
  const code = parseKernelRelease(release);
  if (code === undefined) return `cannot parse kernel release "${release}"`;
  if (code < MIN_KERNEL_VERSION) return `kernel version smaller than minimum ${MIN_KERNEL_VERSION}`;
  return undefined;
}
