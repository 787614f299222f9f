import type { ContainerInfo, KubernetesInfo, Runtime } from "../../events/container.js";
import type { Logger } from "../../log.js";
import { type CgroupContainer, containerOfCgroup, containerOfProcCgroup } from "./cgroup-path.js";
import { CgroupDirectory } from "./cgroups.js";
import type { PodDirectory, PodView } from "./pods.js";
import { type RuntimeMetadata, type RuntimeState, RuntimeStateError } from "./runtimes.js";

/** One container the sensor has seen a process in. */
export interface Container {
  readonly id: string;
  /** The pod's UID, from the cgroup path or the runtime's state. */
  podUid: string | undefined;
  /** As events carry it; replaced, never changed, when more is learnt, so sinks may keep it. */
  info: ContainerInfo;
  /** The pod as events carry it; null until the pod is known (or outside Kubernetes). */
  k8s: KubernetesInfo | null;
  /** Cgroup ids its processes were seen in (a restart makes a new cgroup). */
  readonly cgroupIds: Set<bigint>;
  /** Date.now() when its runtime's state was last read. */
  readAt: number;
  /** Whether a runtime's state had it. */
  found: boolean;
}

export interface ContainerTableOptions {
  /** The cgroup2 mount; undefined on a cgroup v1 host. */
  cgroupRoot: string | undefined;
  procRoot?: string;
  /** Asked in order when the cgroup path does not name the runtime. */
  runtimes: RuntimeState[];
  logger?: Logger;
  /** Containers kept; past it, containers without a live process are forgotten. */
  maxContainers?: number;
  now?: () => number;
}

export interface ContainerTableStatistics {
  containers: number;
  /** Cgroup ids resolved to a container or to the host. */
  cgroups: number;
  /** Cgroup directories known by path. */
  cgroupPaths: number;
  /** Lookups that read /proc or the cgroup tree (cache misses). */
  lookups: number;
  /** Walks of the whole cgroup tree (a process gone before its cgroup was looked up). */
  walks: number;
  /** Reads of the runtimes' state. */
  stateReads: number;
  /** State files that could not be read as expected. */
  stateErrors: number;
}

/** A container's state is read again on its next exec when it was not found this long ago. */
const RETRY_MS = 1000;

/**
 * Cgroup id → container id → runtime and Kubernetes metadata. Resolved when a process is first
 * seen in a cgroup (its exec, or the seeding from /proc), kept per cgroup id, and read again from
 * the runtime's state on a later exec while it was not found there: nothing runs while the host
 * is idle. On cgroup v1 the kernel's cgroup id says nothing (every task is in the v2 root), so a
 * process's container is read from its /proc/<pid>/cgroup at each exec instead.
 */
export class ContainerTable {
  private readonly byCgroup = new Map<bigint, Container | null>();
  private readonly byId = new Map<string, Container>();
  readonly cgroups: CgroupDirectory;
  private readonly now: () => number;
  private pods: PodDirectory | undefined;
  private readonly loggedErrors = new Set<string>();
  private lookups = 0;
  private stateReads = 0;
  private stateErrors = 0;

  constructor(private readonly options: ContainerTableOptions) {
    this.cgroups = new CgroupDirectory(options.cgroupRoot, options.procRoot);
    this.now = options.now ?? Date.now;
  }

  /** The container of a cgroup id when it is known without reading anything; undefined when not. */
  cached(cgroupId: bigint): Container | null | undefined {
    return this.byCgroup.get(cgroupId);
  }

  /**
   * The container process `pid` runs in, its cgroup id as the kernel reported it; null on the
   * host. Reads /proc and the runtime's state only for a cgroup not seen before.
   */
  resolve(pid: number, cgroupId: bigint): Container | null {
    const known = this.byCgroup.get(cgroupId);
    if (known !== undefined) {
      if (known && !known.found && this.now() - known.readAt >= RETRY_MS) this.read(known, known.info.runtime);
      return known;
    }
    this.lookups++;
    const { procCgroup, path } = this.cgroups.lookup(cgroupId, pid);
    const fromPath = path === undefined ? undefined : containerOfCgroup(path);
    if (fromPath) {
      const container = this.container(fromPath, cgroupId);
      this.byCgroup.set(cgroupId, container);
      return container;
    }
    // The unified path is the host's (or unknown): cgroup v1 hierarchies may still name a container.
    const fromV1 = procCgroup === undefined ? undefined : containerOfProcCgroup(procCgroup);
    if (fromV1) return this.container(fromV1, undefined);
    // Only a confirmed path may stand for every process of this cgroup id.
    if (path !== undefined) this.byCgroup.set(cgroupId, null);
    return null;
  }

  /** Every container known, with or without live processes. */
  containers(): IterableIterator<Container> {
    return this.byId.values();
  }

  get(id: string): Container | undefined {
    return this.byId.get(id);
  }

  /** Whether the table is at its bound: prune() should be given the live containers. */
  get full(): boolean {
    return this.byId.size >= (this.options.maxContainers ?? 4096);
  }

  /** Drops containers for which `live(id)` is false; called when the table is past its bound. */
  prune(live: (id: string) => boolean): void {
    if (!this.full) return;
    for (const [id, c] of this.byId) {
      if (live(id)) continue;
      this.byId.delete(id);
      for (const cg of c.cgroupIds) this.byCgroup.delete(cg);
    }
  }

  /** Follows pods as they come and change; containers of a pod get its metadata. */
  followPods(pods: PodDirectory): void {
    this.pods = pods;
    pods.onChange((pod) => {
      for (const c of this.byId.values()) {
        if (c.podUid === pod.uid || pods.containerOf(c.id)?.pod.uid === pod.uid) this.applyPod(c);
      }
    });
    for (const c of this.byId.values()) this.applyPod(c);
  }

  statistics(): ContainerTableStatistics {
    return {
      containers: this.byId.size,
      cgroups: this.byCgroup.size,
      cgroupPaths: this.cgroups.size,
      lookups: this.lookups,
      walks: this.cgroups.walks,
      stateReads: this.stateReads,
      stateErrors: this.stateErrors,
    };
  }

  private container(found: CgroupContainer, cgroupId: bigint | undefined): Container {
    let c = this.byId.get(found.id);
    const fresh = c === undefined || (cgroupId !== undefined && !c.cgroupIds.has(cgroupId));
    if (c === undefined) {
      c = {
        id: found.id,
        podUid: found.podUid,
        info: Object.freeze({
          id: found.id,
          runtime: found.runtime ?? "unknown",
          name: null,
          image: null,
          labels: Object.freeze({}),
        }),
        k8s: null,
        cgroupIds: new Set(),
        readAt: 0,
        found: false,
      };
      this.byId.set(found.id, c);
    }
    if (cgroupId !== undefined) c.cgroupIds.add(cgroupId);
    // A new cgroup for a known id is the container started again: its state may have changed.
    if (fresh) this.read(c, found.runtime);
    this.applyPod(c);
    return c;
  }

  /** Reads the container's metadata from its runtime's state (the path's runtime first). */
  private read(c: Container, hint: Runtime | undefined): void {
    c.readAt = this.now();
    const { runtimes } = this.options;
    const ordered = hint && hint !== "unknown" ? runtimes.filter((r) => r.runtime === hint) : runtimes;
    for (const state of ordered) {
      let meta: RuntimeMetadata | undefined;
      this.stateReads++;
      try {
        meta = state.inspect(c.id);
      } catch (err) {
        this.stateErrors++;
        this.logOnce(err as Error, state.runtime, c.id);
        continue;
      }
      if (!meta) continue;
      c.found = true;
      c.podUid ??= meta.pod?.uid;
      c.info = Object.freeze({
        id: c.id,
        runtime: meta.runtime,
        name: meta.name,
        image: meta.image,
        labels: Object.freeze({ ...meta.labels }),
      });
      return;
    }
  }

  private applyPod(c: Container): void {
    const pods = this.pods;
    if (!pods) return;
    const byId = pods.containerOf(c.id);
    const pod: PodView | undefined = byId?.pod ?? (c.podUid === undefined ? undefined : pods.pod(c.podUid));
    if (!pod) return;
    c.podUid ??= pod.uid;
    const status = byId?.status;
    c.k8s = Object.freeze({ ...pod.info, container: status?.name ?? null });
    const { info } = c;
    if (status && (info.name === null || info.image === null || info.runtime === "unknown")) {
      c.info = Object.freeze({
        ...info,
        runtime: info.runtime === "unknown" ? status.runtime : info.runtime,
        name: info.name ?? status.name,
        image: info.image ?? status.image,
      });
    }
  }

  private logOnce(err: Error, runtime: Runtime, id: string): void {
    const key = err.message;
    if (this.loggedErrors.has(key)) return;
    if (this.loggedErrors.size > 256) this.loggedErrors.clear();
    this.loggedErrors.add(key);
    const file = err instanceof RuntimeStateError ? err.file : undefined;
    this.options.logger?.warn(
      { runtime, container: id, file, err: err.message },
      `container metadata: cannot read ${runtime}'s state: ${err.message}`,
    );
  }
}
