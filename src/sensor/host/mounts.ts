import { readFileSync } from "node:fs";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

// mountinfo escapes space, tab, newline and backslash as octal.
const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Parses /proc/<pid>/mountinfo: "id parent maj:min root mountpoint options [optional...] - fstype source superopts". */
export function parseMountInfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fsType, source] = right.split(" ");
    const mountPoint = fields[4];
    if (!mountPoint || !fsType) continue;
    mounts.push({ mountPoint: unescapeOctal(mountPoint), fsType, source: unescapeOctal(source ?? "") });
  }
  return mounts;
}

export function readMounts(pid: number | "self" = "self"): MountEntry[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, "utf8"));
}

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
export function cgroup2MountPoint(mounts: MountEntry[] = readMounts()): string | undefined {
  return mounts.find((m) => m.fsType === "cgroup2")?.mountPoint;
}
