import { type BigIntStats, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Alert } from "../../events/alert.js";
import type { VigilEvent } from "../../events/schema.js";
import type { BpfObject } from "../kernel/bridge.js";
import { type InterestSpec, kernelDev } from "../kernel/interest.js";
import { structs } from "../kernel/layout.generated.js";
import { fileIdentities } from "./identity.js";
import type { FileIdentity } from "./plan.js";

/**
 * Self-protection: the sensor's processes, files and BPF objects. Where BPF-LSM runs, programs
 * of bpf/enforce.bpf.c refuse other processes' signals, ptrace, writes, removals, renames and
 * chmods of its files, and fds of its maps, programs and links, from the maps written here.
 * Elsewhere nothing can refuse them, and SelfWatch alerts on the attempts that reach the agent as
 * events (a SIGKILL is never seen: the agent is gone before it reads the record).
 */

/** More would not fit vg_protect_files (bpf/enforce.bpf.c). */
const MAX_FILES = 16_384;

/**
 * Every file and directory below the roots, the roots included, with the identities hooks see for
 * it (identity.ts): stat()'s, and on overlayfs the overlay's own device too. One lstat a file,
 * since a start walks thousands of them; .git is not the sensor's.
 */
export function protectedFiles(roots: readonly string[]): { files: FileIdentity[]; count: number; cut: boolean } {
  const files: FileIdentity[] = [];
  let count = 0;
  const walk = (path: string, overlayDev: number | undefined): void => {
    if (count >= MAX_FILES) return;
    let st: BigIntStats;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      return;
    }
    count++;
    const dev = kernelDev(st.dev);
    files.push({ dev, ino: st.ino });
    if (overlayDev !== undefined && overlayDev !== dev) files.push({ dev: overlayDev, ino: st.ino });
    if (!st.isDirectory()) return;
    for (const name of readdirSync(path).sort()) if (name !== ".git") walk(join(path, name), overlayDev);
  };
  for (const root of roots) {
    const ids = fileIdentities(root);
    // A root on overlayfs: its own identities name the overlay's device (the second one).
    walk(root, ids.length > 1 ? ids[1]?.dev : undefined);
  }
  return { files, count, cut: count >= MAX_FILES };
}

const IK = structs.vg_enforce_inode_key;

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/**
 * Writes the protection maps and turns it on: the sensor's process, the identities of its files,
 * and the ids of its object's maps, programs and links.
 */
export function writeProtection(obj: BpfObject, pid: number, files: readonly FileIdentity[]): number {
  obj.mapUpdate("vg_protect_tgids", u32(pid), u32(1));
  const seen = new Set<string>();
  for (const id of files) {
    if (seen.size >= MAX_FILES) break;
    const k = `${id.dev}/${id.ino}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const key = Buffer.alloc(IK.size);
    key.writeBigUInt64LE(id.ino, IK.fields.ino.offset);
    key.writeUInt32LE(id.dev, IK.fields.dev.offset);
    obj.mapUpdate("vg_protect_files", key, u32(1));
  }
  const ids = obj.ids();
  const kinds: [number, { id: number }[]][] = [
    [1, ids.maps],
    [2, ids.programs],
    [3, ids.links],
  ];
  for (const [kind, list] of kinds) {
    for (const { id } of list) {
      const key = Buffer.alloc(structs.vg_protect_id_key.size);
      key.writeUInt32LE(id, structs.vg_protect_id_key.fields.id.offset);
      key.writeUInt32LE(kind, structs.vg_protect_id_key.fields.kind.offset);
      obj.mapUpdate("vg_protect_ids", key, u32(1));
    }
  }
  const config = Buffer.alloc(structs.vg_protect_config.size);
  config.writeUInt32LE(1, structs.vg_protect_config.fields.enabled.offset);
  obj.mapUpdate("vg_protect_config", u32(0), config);
  return seen.size;
}

/** What the agent must see to alert on attempts against it where nothing refuses them. */
export function protectionInterest(roots: readonly string[]): InterestSpec {
  const paths = Object.fromEntries(roots.map((r) => [r.endsWith("/") ? r : `${r}/`, "write" as const]));
  const files = { enabled: true, pathDefault: "none" as const, paths };
  return {
    kinds: {
      "proc.signal": { enabled: true },
      "proc.ptrace": { enabled: true },
      "file.open": files,
      "file.unlink": files,
      "file.rename": files,
      "file.chmod": files,
    },
    ignoreComms: [],
    ignoreExes: [],
  };
}

const RULE = { id: "self-protection", policy: "vigil", severity: "high" as const };
const TAGS = ["attack.T1562.001", "defense-evasion"];

/** Alerts on another process's attempt against the sensor, seen as an event (no BPF-LSM here). */
export class SelfWatch {
  constructor(
    private readonly pid: number,
    private readonly roots: readonly string[],
  ) {}

  private under(path: string | undefined): boolean {
    return !!path && this.roots.some((r) => path === r || path.startsWith(r.endsWith("/") ? r : `${r}/`));
  }

  /** The alert for `event`, if it is an attempt against the sensor by another process. */
  check(event: VigilEvent): Alert | undefined {
    if (event.process.pid === this.pid) return undefined;
    let message: string | undefined;
    const exe = event.process.exe;
    switch (event.kind) {
      case "proc.signal": {
        const s = event.signal;
        if (s.number !== 0 && (s.target_pid === this.pid || s.target_pid === -this.pid))
          message = `${exe} sent ${s.name ?? `signal ${s.number}`} to the sensor (pid ${this.pid})`;
        break;
      }
      case "proc.ptrace":
        if (event.ptrace.target_pid === this.pid)
          message = `${exe} called ptrace ${event.ptrace.request_name} on the sensor (pid ${this.pid})`;
        break;
      case "file.open":
        if (event.file.write && this.under(event.file.path))
          message = `${exe} opened the sensor's ${event.file.path} for writing`;
        break;
      case "file.unlink":
      case "file.chmod":
        if (this.under(event.file.path)) message = `${exe} changed the sensor's ${event.file.path} (${event.kind})`;
        break;
      case "file.rename":
        if (this.under(event.file.old_path) || this.under(event.file.new_path))
          message = `${exe} renamed ${event.file.old_path} to ${event.file.new_path} in the sensor's files`;
        break;
      default:
        break;
    }
    if (!message) return undefined;
    return {
      kind: "alert",
      time: event.time,
      rule: { ...RULE, tags: [...TAGS] },
      message,
      action: "alert",
      outcome: "alerted",
      container: event.container,
      k8s: event.k8s,
      events: [event],
    };
  }
}
