import type { Runtime } from "../../events/container.js";

/**
 * Which container a cgroup path belongs to, read from the names runtimes and kubelets give
 * their cgroups. The layouts (cgroup v1 and v2 alike; the path is the same in every hierarchy):
 *
 *   Docker, cgroupfs driver         /docker/<id>
 *   Docker, systemd driver          /system.slice/docker-<id>.scope
 *   Podman, cgroupfs manager        /libpod_parent/libpod-<id>
 *   Podman, systemd manager         /machine.slice/libpod-<id>.scope (rootless: below user@UID.service)
 *   containerd (ctr, nerdctl)       /<namespace>/<id>, /system.slice/nerdctl-<id>.scope
 *   Kubernetes, cgroupfs driver     /kubepods[/burstable|/besteffort]/pod<uid>/[crio-]<id>
 *   Kubernetes, systemd driver      /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/
 *                                     {cri-containerd,crio,docker}-<id>.scope
 *   the same, as runc writes it     .../kubepods-<qos>-pod<uid_>.slice:cri-containerd:<id>
 *     when systemd is not driving
 *
 * A guaranteed pod has no QoS level in its path (kubepods/pod<uid>). The systemd driver writes
 * the pod UID with underscores for dashes. The innermost container segment wins: a Kubernetes
 * node in a Docker container (kind) nests one layout in another, and a container that runs
 * systemd makes cgroups below its own. The monitors beside containers (conmon's
 * `crio-conmon-<id>.scope`, `libpod-conmon-<id>.scope`) are not the container.
 */

export type QosClass = "guaranteed" | "burstable" | "besteffort";

export interface CgroupContainer {
  id: string;
  /** The runtime the path names; undefined where the layout is shared (kubepods with cgroupfs). */
  runtime: Runtime | undefined;
  /** The pod's UID, with dashes, when the path is a Kubernetes pod's. */
  podUid?: string;
  qos?: QosClass;
}

const ID = "[0-9a-f]{64}";
const UID = "[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}";

const PREFIXES: Record<string, Runtime> = {
  docker: "docker",
  "cri-containerd": "containerd",
  nerdctl: "containerd",
  crio: "cri-o",
  libpod: "podman",
};

/** `<prefix>-<id>[.scope]` and `<slice>:<prefix>:<id>`. */
const PREFIXED = new RegExp(`^(?:.*\\.slice:)?(docker|cri-containerd|nerdctl|crio|libpod)[-:](${ID})(?:\\.scope)?$`);
const BARE = new RegExp(`^${ID}$`);
// kind names the kubelet's slices kubelet-kubepods-*.slice.
const POD = new RegExp(`^(?:[\\w-]*kubepods(?:-(burstable|besteffort))?-)?pod(${UID})(?:\\.slice)?$`);
const QOS = /^(?:kubepods-)?(burstable|besteffort)(?:\.slice)?$/;
const KUBEPODS = /^kubepods(?:\.slice)?$/;

/** The container a cgroup path belongs to; undefined for the host's own cgroups. */
export function containerOfCgroup(path: string): CgroupContainer | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as string;
    let id: string | undefined;
    let runtime: Runtime | undefined;
    const prefixed = PREFIXED.exec(part);
    if (prefixed) {
      id = prefixed[2];
      runtime = PREFIXES[prefixed[1] as string];
    } else if (BARE.test(part)) {
      id = part;
      const parent = parts[i - 1];
      // Below /docker/ it is Docker's; elsewhere (below a pod, a containerd namespace such as
      // /default/ or /k8s.io/, a --cgroup-parent) the runtime's state has to say.
      runtime = parent === "docker" ? "docker" : undefined;
    }
    if (id === undefined) continue;
    const parents = parts.slice(0, i);
    // In the slice:prefix:name form the pod's slice is the segment's first field.
    const colon = part.indexOf(".slice:");
    if (colon > 0) parents.push(part.slice(0, colon + ".slice".length));
    return { id, runtime, ...podOf(parents) };
  }
  return undefined;
}

/** The pod UID and QoS class from the segments above a container's. */
function podOf(parents: string[]): { podUid?: string; qos?: QosClass } {
  const last = parents.length - 1;
  const pod = POD.exec(parents[last] ?? "");
  if (!pod) return {};
  const podUid = (pod[2] as string).replaceAll("_", "-");
  // kubepods-burstable-pod<uid>.slice says it; with cgroupfs the level above does.
  const level = pod[1] ?? QOS.exec(parents[last - 1] ?? "")?.[1];
  if (level) return { podUid, qos: level as QosClass };
  return KUBEPODS.test(parents[last - 1] ?? "") ? { podUid, qos: "guaranteed" } : { podUid };
}

/**
 * The cgroup path of a process from /proc/<pid>/cgroup: the unified (v2) line `0::PATH`.
 * Undefined when the process has none (a cgroup v1 host).
 */
export function unifiedPath(procCgroup: string): string | undefined {
  return /^0::(.*)$/m.exec(procCgroup)?.[1];
}

/**
 * The container of a process from its /proc/<pid>/cgroup. The unified line decides where it
 * names a container; on cgroup v1, and on hybrid hosts whose runtime leaves the unified
 * hierarchy alone, the v1 hierarchies do (each holds the same path).
 */
export function containerOfProcCgroup(procCgroup: string): CgroupContainer | undefined {
  const lines = procCgroup.split("\n");
  const unified = unifiedPath(procCgroup);
  const fromUnified = unified === undefined ? undefined : containerOfCgroup(unified);
  if (fromUnified) return fromUnified;
  for (const line of lines) {
    const path = /^\d+:[^:]+:(.*)$/.exec(line)?.[1];
    const found = path === undefined ? undefined : containerOfCgroup(path);
    if (found) return found;
  }
  return undefined;
}
