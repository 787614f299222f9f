import { access, readdir, readFile, readlink } from "node:fs/promises";
import type { Logger } from "../../log.js";
import type { Actor } from "../state/index.js";
import { DpkgDatabase, isSharedLibrary } from "./dpkg.js";
import { readGoBuildInfo } from "./go-buildinfo.js";
import { isJavaArchive, readJavaArchive } from "./java.js";
import { mappedFiles } from "./maps.js";
import { nodePackageDir, readNodePackage } from "./node.js";
import { type PackageId, PackageMetadataError, packageKey } from "./package.js";
import { pythonFile, readPythonSite } from "./python.js";

/** Bounds on what the inventory keeps; every eviction is counted. */
export interface PackageLimits {
  /** Packages kept; past it, the one seen least recently is forgotten. */
  maxPackages: number;
  /** Processes kept per package (the most recent); the count of all is kept beside them. */
  maxProcessesPerPackage: number;
  /** Containers kept per package. */
  maxContainersPerPackage: number;
  /** Files (or package directories) whose package is remembered, and site directories read. */
  maxFiles: number;
  /** Files waiting to be read; a sighting past it is dropped and counted. */
  maxQueued: number;
  /** Processes that exec'd waiting for their mappings to be read. */
  maxRescans: number;
  /**
   * How long what a file said is trusted: a package upgraded in place (pip install -U, npm
   * update) is read again at its next load after this long.
   */
  fileTtlMs: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  maxPackages: 10_000,
  maxProcessesPerPackage: 32,
  maxContainersPerPackage: 64,
  maxFiles: 65_536,
  maxQueued: 4096,
  maxRescans: 4096,
  fileTtlMs: 5 * 60_000,
};

export interface PackageInventoryOptions {
  logger?: Logger;
  procRoot?: string;
  /** Where the host's files are when the sensor runs in a container ("/host"); the host's own root by default. */
  hostRoot?: string;
  limits?: Partial<PackageLimits>;
  now?: () => number;
  /** A live process of a container, to read its files through when the one that opened them is gone. */
  livePidOf?: (containerId: string) => number | undefined;
}

/** One process that loaded a package. */
export interface PackageProcess {
  pid: number;
  /** CLOCK_BOOTTIME ns of its start: with pid, the process's identity. */
  startBoottime: bigint;
  exe: string;
  container?: string;
  firstSeen: number;
  lastSeen: number;
}

/** A package release that running code loaded. */
export interface LoadedPackage extends PackageId {
  /** Date.now() when it was first and last seen loaded. */
  firstSeen: number;
  lastSeen: number;
  /** Where it was loaded from (a few), as the processes saw the path. */
  locations: string[];
  /** The most recent processes that loaded it, up to the limit. */
  processes: PackageProcess[];
  /**
   * Processes seen loading it, including those no longer kept; one forgotten at the limit and
   * seen again counts again (counting exactly would mean keeping them all).
   */
  processCount: number;
  /** Containers it was loaded in; empty when only on the host. */
  containers: string[];
  /** Whether it was seen loaded on the host. */
  host: boolean;
}

export interface PackageInventoryStatistics {
  packages: number;
  /** Per ecosystem. */
  byEcosystem: Record<string, number>;
  /** Loads of package files seen (opens and mappings). */
  sightings: number;
  /** Files and package directories read to find their package, and how many had none. */
  filesRead: number;
  unowned: number;
  /** Metadata that could not be read as expected (each logged once). */
  unreadable: number;
  /** Sightings dropped: the read queue was full, or the process and its container were gone. */
  dropped: number;
  /** Packages forgotten at the limit, and remembered files forgotten. */
  evictedPackages: number;
  evictedFiles: number;
  /** /proc/<pid>/maps reads (start-up and after exec), and those that failed (the process had gone). */
  scans: number;
  scanFailures: number;
  /** Processes not rescanned after exec because the waiting list was full. */
  rescansDropped: number;
}

type FileKind = "python" | "npm" | "jar" | "so" | "go";

/** A file that may belong to a package, and what to read to know which. */
interface PackageFile {
  kind: FileKind;
  /** What is read: the site directory (python), the package directory (npm), else the file. */
  path: string;
  /** python: the top-level name below the site directory. */
  top?: string;
  /** As the process saw it. */
  location: string;
}

interface Sighting {
  pid: number;
  startBoottime: bigint;
  exe: string;
  container: string | undefined;
  at: number;
  location: string;
}

interface Entry extends PackageId {
  firstSeen: number;
  lastSeen: number;
  locations: Set<string>;
  processes: Map<string, PackageProcess>;
  processCount: number;
  containers: Set<string>;
  host: boolean;
}

const MAX_LOCATIONS = 4;
/** Processes that may wait for one file to be read; more are dropped and counted. */
const MAX_PENDING_PER_FILE = 256;

/** What a file below a package tree is; undefined for any other file. */
export function packageFile(path: string): PackageFile | undefined {
  const python = pythonFile(path);
  if (python) return { kind: "python", path: python.site, top: python.top, location: `${python.site}${python.top}` };
  const dir = nodePackageDir(path);
  if (dir) return { kind: "npm", path: dir, location: dir };
  if (isJavaArchive(path)) return { kind: "jar", path, location: path };
  if (isSharedLibrary(path)) return { kind: "so", path, location: path };
  return undefined;
}

const HOST = "host";

/**
 * Which third-party packages running code loads, keyed by (ecosystem, name, version), with the
 * processes and containers that loaded them. Fed with the files processes open (file.open
 * events) and map (/proc/<pid>/maps, read at start-up and after each exec), and with each
 * executable, for the module list of Go binaries. A file's package is read once per filesystem
 * (the host, or a container's root through /proc/<pid>/root) and remembered; reading happens
 * off the event path, one file at a time, so a burst of new files delays only the inventory.
 */
export class PackageInventory {
  readonly limits: PackageLimits;
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  /** `<filesystem>\0<kind>\0<path>` → its packages; python site directories as `<fs>\0site\0<dir>`. */
  private readonly files = new Map<string, { ids: PackageId[]; readAt: number }>();
  private readonly sites = new Map<string, { tops: Map<string, PackageId>; readAt: number }>();
  private readonly queue = new Map<string, { file: PackageFile; fs: string; sightings: Sighting[] }>();
  private readonly reading = new Map<string, Sighting[]>();
  private readonly rescans = new Map<number, bigint>();
  private readonly dpkg: DpkgDatabase;
  private readonly logged = new Set<string>();
  private working: Promise<void> | undefined;
  private readonly stats: Omit<PackageInventoryStatistics, "packages" | "byEcosystem"> = {
    sightings: 0,
    filesRead: 0,
    unowned: 0,
    unreadable: 0,
    dropped: 0,
    evictedPackages: 0,
    evictedFiles: 0,
    scans: 0,
    scanFailures: 0,
    rescansDropped: 0,
  };

  constructor(private readonly options: PackageInventoryOptions = {}) {
    this.limits = { ...DEFAULT_PACKAGE_LIMITS, ...options.limits };
    this.procRoot = options.procRoot ?? "/proc";
    this.now = options.now ?? Date.now;
    this.dpkg = new DpkgDatabase((err) => this.problem(err));
  }

  /** A process opened (or mapped) `path`; nothing happens unless it is a package's file. */
  opened(actor: Actor, path: string): void {
    const file = packageFile(path);
    if (!file) return;
    this.sighted(actor, file, path);
  }

  /** A process ran a new program: its executable may be a Go binary, and its mappings are read later. */
  executed(actor: Actor): void {
    this.executable(actor);
    if (this.rescans.size >= this.limits.maxRescans && !this.rescans.has(actor.pid)) {
      this.stats.rescansDropped++;
      return;
    }
    this.rescans.set(actor.pid, actor.startBoottime);
  }

  /**
   * Reads the mappings of the processes that exec'd since the last call, if they still run as
   * that program: the libraries a dynamic loader mapped at start and those dlopen'ed since.
   */
  async rescan(current: (pid: number) => Actor | undefined): Promise<void> {
    const due = [...this.rescans];
    this.rescans.clear();
    for (const [pid, start] of due) {
      const actor = current(pid);
      if (actor && actor.startBoottime === start && actor.exitedAt === undefined) await this.scan(actor);
    }
  }

  /** Reads what a process has mapped (and, for a JVM, the archives it holds open). */
  async scan(actor: Actor): Promise<void> {
    this.stats.scans++;
    let maps: string;
    try {
      maps = await readFile(`${this.procRoot}/${actor.pid}/maps`, "utf8");
    } catch {
      this.stats.scanFailures++;
      return;
    }
    const paths = mappedFiles(maps);
    // A JVM reads its class path through open file descriptors, not mappings.
    if (/\/java$/.test(actor.exe)) paths.push(...(await this.openArchives(actor.pid)));
    for (const path of paths) this.opened(actor, path);
  }

  /** Every process at start-up: its executable and its mappings. */
  async scanAll(actors: Iterable<Actor>): Promise<void> {
    for (const actor of [...actors]) {
      if (actor.pid === process.pid || actor.exitedAt !== undefined) continue;
      this.executable(actor);
      await this.scan(actor);
    }
  }

  /** Resolves once every file seen so far has been read. */
  async settled(): Promise<void> {
    while (this.working) await this.working;
  }

  packages(): LoadedPackage[] {
    return [...this.entries.values()]
      .map((e) => ({
        ecosystem: e.ecosystem,
        name: e.name,
        version: e.version,
        firstSeen: e.firstSeen,
        lastSeen: e.lastSeen,
        locations: [...e.locations],
        processes: [...e.processes.values()].map((p) => ({ ...p })),
        processCount: e.processCount,
        containers: [...e.containers],
        host: e.host,
      }))
      .sort(
        (a, b) =>
          a.ecosystem.localeCompare(b.ecosystem) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
      );
  }

  statistics(): PackageInventoryStatistics {
    const byEcosystem: Record<string, number> = {};
    for (const e of this.entries.values()) byEcosystem[e.ecosystem] = (byEcosystem[e.ecosystem] ?? 0) + 1;
    return { packages: this.entries.size, byEcosystem, ...this.stats };
  }

  /** A Go binary's modules; an executable run from memory or deleted since has no file to read. */
  private executable(actor: Actor): void {
    const exe = actor.exe;
    if (!exe.startsWith("/") || exe.startsWith("/memfd:") || exe.endsWith(" (deleted)")) return;
    this.sighted(actor, { kind: "go", path: exe, location: exe }, exe);
  }

  private sighted(actor: Actor, file: PackageFile, location: string): void {
    this.stats.sightings++;
    const container = actor.container?.id;
    const fs = container ?? HOST;
    const key = `${fs}\0${file.kind}\0${file.path}\0${file.top ?? ""}`;
    const sighting: Sighting = {
      pid: actor.pid,
      startBoottime: actor.startBoottime,
      exe: actor.exe,
      container,
      at: this.now(),
      location: file.kind === "go" ? location : file.location,
    };
    const known = this.files.get(key);
    if (known && sighting.at - known.readAt < this.limits.fileTtlMs) {
      for (const id of known.ids) this.record(id, sighting);
      return;
    }
    const pending = this.reading.get(key) ?? this.queue.get(key)?.sightings;
    if (pending) {
      if (pending.some((x) => x.pid === sighting.pid && x.startBoottime === sighting.startBoottime)) return;
      if (pending.length < MAX_PENDING_PER_FILE) pending.push(sighting);
      else this.stats.dropped++;
      return;
    }
    if (this.queue.size >= this.limits.maxQueued) {
      this.stats.dropped++;
      return;
    }
    this.queue.set(key, { file, fs, sightings: [sighting] });
    this.working ??= this.work().finally(() => {
      this.working = undefined;
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const next = this.queue.entries().next();
      if (next.done) return;
      const [key, job] = next.value;
      this.queue.delete(key);
      this.reading.set(key, job.sightings);
      const root = await this.rootOf(job.fs, job.sightings);
      if (root === undefined) {
        this.reading.delete(key);
        this.stats.dropped += job.sightings.length;
        continue;
      }
      let ids: PackageId[];
      try {
        ids = await this.read(job.file, job.fs, root);
      } catch (err) {
        // Whatever a file holds, reading it must not stop the inventory (nor the sensor).
        this.problem(
          err instanceof PackageMetadataError
            ? err
            : new PackageMetadataError(root + job.file.path, `cannot be read: ${(err as Error)?.message ?? err}`),
        );
        ids = [];
      }
      this.stats.filesRead++;
      if (ids.length === 0) this.stats.unowned++;
      this.remember(this.files, key, { ids, readAt: this.now() });
      const sightings = this.reading.get(key) ?? [];
      this.reading.delete(key);
      for (const s of sightings) for (const id of ids) this.record(id, s);
    }
  }

  /** Where a filesystem's files are read: the host's directly, a container's through a live process's root. */
  private async rootOf(fs: string, sightings: Sighting[]): Promise<string | undefined> {
    if (fs === HOST) return (this.options.hostRoot ?? "/").replace(/\/+$/, "");
    const pids = [...new Set(sightings.map((s) => s.pid))];
    const other = this.options.livePidOf?.(fs);
    if (other !== undefined) pids.push(other);
    for (const pid of pids) {
      const root = `${this.procRoot}/${pid}/root`;
      try {
        await access(`${root}/`);
        return root;
      } catch {}
    }
    return undefined;
  }

  private async read(file: PackageFile, fs: string, root: string): Promise<PackageId[]> {
    switch (file.kind) {
      case "python": {
        const siteKey = `${fs}\0site\0${file.path}`;
        let site = this.sites.get(siteKey);
        if (!site || this.now() - site.readAt >= this.limits.fileTtlMs) {
          site = { tops: await readPythonSite(root, file.path, (err) => this.problem(err)), readAt: this.now() };
          this.remember(this.sites, siteKey, site);
        }
        const id = site.tops.get(file.top ?? "");
        return id ? [id] : [];
      }
      case "npm":
        return [await readNodePackage(root, file.path)];
      case "jar":
        return readJavaArchive(root + file.path);
      case "so": {
        const owner = await this.dpkg.owner(root, fs, file.path);
        return owner ? [owner] : [];
      }
      case "go": {
        const info = await readGoBuildInfo(root + file.path);
        return info ? [...(info.main && info.main.version !== "(devel)" ? [info.main] : []), ...info.deps] : [];
      }
    }
  }

  private record(id: PackageId, s: Sighting): void {
    const key = packageKey(id);
    let entry = this.entries.get(key);
    if (entry) {
      // Map order is recency: the least recently seen package is the first one.
      this.entries.delete(key);
    } else {
      entry = {
        ...id,
        firstSeen: s.at,
        lastSeen: s.at,
        locations: new Set(),
        processes: new Map(),
        processCount: 0,
        containers: new Set(),
        host: false,
      };
      if (this.entries.size >= this.limits.maxPackages) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
        this.stats.evictedPackages++;
      }
    }
    this.entries.set(key, entry);
    entry.lastSeen = Math.max(entry.lastSeen, s.at);
    if (entry.locations.size < MAX_LOCATIONS) entry.locations.add(s.location);
    if (s.container === undefined) entry.host = true;
    else if (entry.containers.size < this.limits.maxContainersPerPackage) entry.containers.add(s.container);
    const processKey = `${s.pid}:${s.startBoottime}`;
    const known = entry.processes.get(processKey);
    if (known) {
      known.lastSeen = Math.max(known.lastSeen, s.at);
      entry.processes.delete(processKey);
      entry.processes.set(processKey, known);
      return;
    }
    entry.processCount++;
    if (entry.processes.size >= this.limits.maxProcessesPerPackage) {
      const oldest = entry.processes.keys().next();
      if (!oldest.done) entry.processes.delete(oldest.value);
    }
    entry.processes.set(processKey, {
      pid: s.pid,
      startBoottime: s.startBoottime,
      exe: s.exe,
      ...(s.container !== undefined && { container: s.container }),
      firstSeen: s.at,
      lastSeen: s.at,
    });
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.limits.maxFiles) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
      this.stats.evictedFiles++;
    }
    map.set(key, value);
  }

  private async openArchives(pid: number): Promise<string[]> {
    const dir = `${this.procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = await readdir(dir);
    } catch {
      return [];
    }
    const archives: string[] = [];
    for (const fd of fds) {
      try {
        const target = await readlink(`${dir}/${fd}`);
        if (isJavaArchive(target)) archives.push(target);
      } catch {}
    }
    return archives;
  }

  private problem(err: PackageMetadataError): void {
    this.stats.unreadable++;
    if (this.logged.has(err.file) || this.logged.size >= this.limits.maxFiles) return;
    this.logged.add(err.file);
    this.options.logger?.warn({ file: err.file, problem: err.problem }, `packages: ${err.message}`);
  }
}
