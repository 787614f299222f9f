import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { unifiedPath } from "./cgroup-path.js";

/**
 * Cgroup ids to cgroup paths. The kernel's events carry the cgroup v2 id of the task
 * (bpf_get_current_cgroup_id), which is the kernfs node id of the cgroup's directory, and on
 * 64-bit kernels that id is the directory's inode number in the cgroup2 mount. Node has no
 * name_to_handle_at to ask the kernel by id, so an id is found from the process
 * (/proc/<pid>/cgroup names the path; the inode of that directory confirms it), or, when the
 * process is already gone, by one walk of the cgroup2 tree that learns every directory at once.
 */

export interface CgroupLookup {
  /** The process's /proc/<pid>/cgroup text, when it could be read. */
  procCgroup: string | undefined;
  /** The unified path of the cgroup id, when it could be confirmed. */
  path: string | undefined;
}

/** Ids the walk did not find, remembered so that a vanished cgroup costs one walk, not one per event. */
const MAX_MISSES = 4096;
/** Paths kept; a walk refills them. */
const MAX_PATHS = 65_536;

export class CgroupDirectory {
  private readonly paths = new Map<bigint, string>();
  private readonly misses = new Set<bigint>();
  walks = 0;
  /** Directories seen by the last walk. */
  walked = 0;

  /**
   * @param mount the cgroup2 mount (undefined on a host without one: ids cannot be confirmed)
   * @param procRoot the proc mount
   */
  constructor(
    readonly mount: string | undefined,
    private readonly procRoot = "/proc",
  ) {}

  get size(): number {
    return this.paths.size;
  }

  /** Where `id` is, asking process `pid` first. */
  lookup(id: bigint, pid: number): CgroupLookup {
    let procCgroup: string | undefined;
    try {
      procCgroup = readFileSync(join(this.procRoot, String(pid), "cgroup"), "utf8");
    } catch {
      // The process is gone: only the tree can say.
    }
    const known = this.paths.get(id);
    if (known !== undefined) return { procCgroup, path: known };
    const path = procCgroup === undefined ? undefined : unifiedPath(procCgroup);
    if (path !== undefined && this.inode(path) === id) {
      this.remember(id, path);
      return { procCgroup, path };
    }
    return { procCgroup, path: this.walkFor(id) };
  }

  /** The path of `id` if it is known without reading anything. */
  known(id: bigint): string | undefined {
    return this.paths.get(id);
  }

  private inode(path: string): bigint | undefined {
    if (this.mount === undefined) return undefined;
    try {
      return statSync(join(this.mount, path), { bigint: true }).ino;
    } catch {
      return undefined;
    }
  }

  private remember(id: bigint, path: string): void {
    if (this.paths.size >= MAX_PATHS) this.paths.clear();
    this.paths.set(id, path);
  }

  private walkFor(id: bigint): string | undefined {
    if (this.mount === undefined || this.misses.has(id)) return undefined;
    this.walk();
    const path = this.paths.get(id);
    if (path === undefined) {
      if (this.misses.size >= MAX_MISSES) this.misses.clear();
      this.misses.add(id);
    }
    return path;
  }

  /** Learns every cgroup directory below the mount. */
  walk(): void {
    if (this.mount === undefined) return;
    this.walks++;
    this.paths.clear();
    const stack = ["/"];
    let seen = 0;
    while (stack.length > 0) {
      const path = stack.pop() as string;
      const ino = this.inode(path);
      if (ino === undefined) continue;
      seen++;
      this.paths.set(ino, path);
      let entries: import("node:fs").Dirent[];
      try {
        entries = readdirSync(join(this.mount, path), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory()) stack.push(path === "/" ? `/${e.name}` : `${path}/${e.name}`);
    }
    this.walked = seen;
  }
}
