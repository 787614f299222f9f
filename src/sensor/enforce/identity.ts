import { type BigIntStats, readFileSync, realpathSync, statfsSync, statSync } from "node:fs";
import { kernelDev } from "../kernel/interest.js";
import type { FileIdentity } from "./plan.js";

/**
 * The identities under which the kernel's hooks may meet the file at a path: device (kernel
 * encoding) and inode. stat()'s is one. On overlayfs there are others: a name there leads to an
 * overlay inode, on the overlay's own device (the mount's major:minor in mountinfo) with the
 * layer file's inode number, and an open of it also opens the layer's file, on the layer's
 * device. stat() reports the overlay's device only when every layer is on one filesystem; with
 * layers on several, it reports a device of overlayfs' own making that no hook sees. So for a
 * file on overlayfs the overlay's identity is added: the hooks see it for every exec, open,
 * unlink, rename and chmod through the merged name, and a denial there stops the call before the
 * layer's file is reached.
 */

const OVERLAYFS_SUPER_MAGIC = 0x794c7630;

interface Mount {
  point: string;
  dev: number;
  fsType: string;
}

/** /proc/self/mountinfo's mount points with their devices, deepest first. */
export function readMountDevices(text = readFileSync("/proc/self/mountinfo", "utf8")): Mount[] {
  const octal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const parts = line.split(" ");
    const sep = parts.indexOf("-");
    const [major, minor] = (parts[2] ?? "").split(":").map(Number);
    if (sep < 0 || major === undefined || minor === undefined || !parts[4]) continue;
    mounts.push({
      point: octal(parts[4]),
      dev: ((major & 0xfff) << 20) | (minor & 0xfffff),
      fsType: parts[sep + 1] ?? "",
    });
  }
  return mounts.sort((a, b) => b.point.length - a.point.length);
}

/** The mount a path is on: the longest mount point that is a prefix of it. */
function mountOf(path: string, mounts: readonly Mount[]): Mount | undefined {
  return mounts.find((m) => m.point === "/" || path === m.point || path.startsWith(`${m.point}/`));
}

/** The file's identities, stat()'s first; none when there is no file at the path. */
export function fileIdentities(path: string, mounts: () => readonly Mount[] = readMountDevices): FileIdentity[] {
  let st: BigIntStats;
  let real: string;
  try {
    st = statSync(path, { bigint: true });
    real = realpathSync(path);
  } catch {
    return [];
  }
  const out: FileIdentity[] = [{ dev: kernelDev(st.dev), ino: st.ino }];
  let overlay = false;
  try {
    overlay = Number(statfsSync(real).type) === OVERLAYFS_SUPER_MAGIC;
  } catch {
    // A file that cannot be statfs'd is not followed further; stat()'s identity stands.
  }
  if (overlay) {
    const m = mountOf(real, mounts());
    if (m && m.fsType === "overlay" && m.dev !== out[0]?.dev) out.push({ dev: m.dev, ino: st.ino });
  }
  return out;
}
