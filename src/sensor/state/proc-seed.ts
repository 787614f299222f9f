import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Actor } from "./process-table.js";

/**
 * USER_HZ, the unit of /proc/<pid>/stat times. Linux fixes it at 100 on every architecture the
 * sensor supports, and Node offers no sysconf(_SC_CLK_TCK) to ask.
 */
const NS_PER_TICK = 10_000_000n;

export interface ProcSource {
  /** The proc mount to read (a fixture tree in tests). */
  procRoot: string;
  /** The cgroup v2 mount, to turn a cgroup path into the cgroup id the kernel reports. */
  cgroupRoot: string | undefined;
}

/** Parses /proc/<pid>/stat; comm may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): { comm: string; ppid: number; startTicks: bigint } | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(" ");
  const ppid = Number(rest[1]);
  const start = rest[19];
  if (!Number.isInteger(ppid) || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { comm: text.slice(open + 1, close), ppid, startTicks: BigInt(start) };
}

function ids(status: string, key: "Uid" | "Gid"): [number, number] {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+(\\d+)`, "m").exec(status);
  return m ? [Number(m[1]), Number(m[2])] : [-1, -1];
}

function cgroupPath(text: string): string | undefined {
  return /^0::(.*)$/m.exec(text)?.[1];
}

const tryRead = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};
const tryLink = (path: string) => {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
};

/** Reads one process; undefined when it vanished meanwhile or is not a process directory. */
export function readProcess(src: ProcSource, pid: number): Actor | undefined {
  const dir = join(src.procRoot, String(pid));
  const statText = tryRead(join(dir, "stat"));
  const stat = statText && parseStat(statText);
  if (!stat) return undefined;
  const status = tryRead(join(dir, "status")) ?? "";
  const [uid, euid] = ids(status, "Uid");
  const [gid] = ids(status, "Gid");
  const cmdline = tryRead(join(dir, "cmdline")) ?? "";
  const args = Object.freeze(cmdline ? cmdline.replace(/\0$/, "").split("\0") : []);
  let cgroupId = 0n;
  const cgPath = cgroupPath(tryRead(join(dir, "cgroup")) ?? "");
  if (src.cgroupRoot && cgPath !== undefined) {
    try {
      cgroupId = statSync(join(src.cgroupRoot, cgPath), { bigint: true }).ino;
    } catch {
      // The cgroup went away with the process.
    }
  }
  return {
    pid,
    ppid: stat.ppid,
    uid,
    gid,
    euid,
    comm: stat.comm,
    exe: tryLink(join(dir, "exe")),
    args,
    argsTruncated: false,
    cwd: tryLink(join(dir, "cwd")),
    cgroupId,
    startBoottime: stat.startTicks * NS_PER_TICK,
  };
}

/** Every process visible in procRoot, so that processes older than the sensor are known. */
export function seedFromProc(src: ProcSource): Actor[] {
  const actors: Actor[] = [];
  for (const name of readdirSync(src.procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const actor = readProcess(src, Number(name));
    if (actor) actors.push(actor);
  }
  return actors;
}
