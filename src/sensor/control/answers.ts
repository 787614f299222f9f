import type { ContainerInfo, KubernetesInfo } from "../../events/container.js";
import type { EnforcementReport } from "../enforce/index.js";
import type { SensorStatistics } from "../sensor.js";

/** The running sensor, as `version` reports it. */
export interface SensorVersion {
  version: string;
  node: string;
  kernel: string;
  pid: number;
  /** When the sensor started, ISO 8601; absent while it is still starting. */
  startedAt?: string;
  /** The policy definitions in force; "none" until policies are loaded. */
  definitions: string;
}

/** One live process, as `actors` reports it. */
export interface ActorView {
  pid: number;
  ppid: number;
  uid: number;
  /** The name /etc/passwd gives uid, when it has one. */
  user?: string;
  comm: string;
  exe: string;
  args: readonly string[];
  argsTruncated: boolean;
  cgroupId: bigint;
  /** The id of the container the process runs in; absent on the host. */
  container?: string;
  /** Nanoseconds since the epoch, as `process.start_time` on events. */
  startTime: bigint;
  /** The same, ISO 8601. */
  startedAt: string;
}

/** One container with live processes, as `containers` reports it. */
export interface ContainerView extends ContainerInfo {
  /** Its pod; null outside Kubernetes or until the pod is known. */
  k8s: KubernetesInfo | null;
  /** The cgroup ids its processes were seen in. */
  cgroupIds: bigint[];
  /** Its live processes, by pid. */
  processes: ActorView[];
}

/** One process that loaded a package, as `packages` reports it. */
export interface PackageProcessView {
  pid: number;
  exe: string;
  /** The id of its container; absent on the host. */
  container?: string;
  /** Whether it still runs the program that loaded the package. */
  live: boolean;
  /** When it was first and last seen loading it, ISO 8601. */
  firstSeen: string;
  lastSeen: string;
}

/** A package release that running code loaded, as `packages` reports it. */
export interface PackageView {
  ecosystem: string;
  name: string;
  version: string;
  /** ISO 8601. */
  firstSeen: string;
  lastSeen: string;
  /** Where it was loaded from (a few paths), as the processes saw them. */
  locations: string[];
  /** The most recent processes that loaded it; `processCount` counts them all. */
  processes: PackageProcessView[];
  processCount: number;
  /** Whether a process on the host loaded it, and the containers where one did. */
  host: boolean;
  containers: string[];
}

export interface ActorQuery {
  /** Only this process and its descendants. */
  pid?: number;
}

/** What the control socket asks of the running sensor. */
export interface ControlTarget {
  version(): SensorVersion;
  statistics(): SensorStatistics;
  /** Throws ControlError(notFound) when query.pid is not a live process. */
  actors(query: ActorQuery): ActorView[];
  /** Which path enforces each deny and kill rule; ControlError(notFound) when the sensor runs without policies. */
  enforcement(): EnforcementReport;
  /** Containers that have a live process, by name (then id). */
  containers(): ContainerView[];
  /** The packages processes loaded; ControlError(notFound) when the sensor keeps no inventory. */
  packages(): PackageView[];
  /**
   * Stops the sensor as SIGTERM does, once the answer is sent: the way to stop a sensor whose
   * self-protection refuses other processes' signals.
   */
  stop(): { stopping: true; pid: number };
}

/** `pid` and its descendants, in the order given; empty when pid is not among them. */
export function subtree<T extends { pid: number; ppid: number }>(actors: readonly T[], pid: number): T[] {
  const children = new Map<number, number[]>();
  for (const a of actors) {
    const list = children.get(a.ppid);
    if (list) list.push(a.pid);
    else children.set(a.ppid, [a.pid]);
  }
  const wanted = new Set<number>();
  if (!actors.some((a) => a.pid === pid)) return [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop() as number;
    if (wanted.has(next)) continue;
    wanted.add(next);
    stack.push(...(children.get(next) ?? []));
  }
  return actors.filter((a) => wanted.has(a.pid));
}
