import { readFileSync } from "node:fs";

/** Capability numbers from linux/capability.h that the sensor cares about. */
export const CAP = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  KILL: 5,
  NET_ADMIN: 12,
  SYS_PTRACE: 19,
  SYS_ADMIN: 21,
  SYS_RESOURCE: 24,
  PERFMON: 38,
  BPF: 39,
} as const;
export type CapName = keyof typeof CAP;

/** The effective capability set of a process, from the CapEff line of /proc/<pid>/status. */
export function effectiveCapabilities(status: string = readFileSync("/proc/self/status", "utf8")): Set<CapName> {
  const hex = /^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? "0";
  const mask = BigInt(`0x${hex}`);
  const caps = new Set<CapName>();
  for (const [name, bit] of Object.entries(CAP) as [CapName, number][]) {
    if (mask & (1n << BigInt(bit))) caps.add(name);
  }
  return caps;
}
