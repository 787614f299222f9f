import { existsSync, mkdirSync } from "node:fs";
import { type MountEntry, readMounts } from "../host/index.js";
import type { KernelBridge } from "./bridge.js";

const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;

/** Pseudo filesystems the sensor needs: tracepoint ids (tracefs), pinning (bpffs), LSM facts (securityfs). */
export const REQUIRED_FILESYSTEMS = [
  { fsType: "tracefs", target: "/sys/kernel/tracing" },
  { fsType: "bpf", target: "/sys/fs/bpf" },
  { fsType: "securityfs", target: "/sys/kernel/security" },
] as const;

export interface MountOutcome {
  fsType: string;
  target: string;
  /** "present": was mounted; "mounted": the sensor mounted it now; "failed": could not. */
  state: "present" | "mounted" | "failed";
  error?: string;
}

/** Mounts whichever of the required filesystems is missing, and says what it did. */
export function ensureFilesystems(bridge: KernelBridge, mounts: MountEntry[] = readMounts()): MountOutcome[] {
  return REQUIRED_FILESYSTEMS.map(({ fsType, target }) => {
    const present = mounts.find((m) => m.fsType === fsType);
    if (present) return { fsType, target: present.mountPoint, state: "present" };
    try {
      if (!existsSync(target)) mkdirSync(target, { recursive: true });
      bridge.mount(fsType === "bpf" ? "bpffs" : fsType, target, fsType, MS_NOSUID | MS_NODEV | MS_NOEXEC, null);
      return { fsType, target, state: "mounted" };
    } catch (err) {
      return { fsType, target, state: "failed", error: (err as Error).message };
    }
  });
}
