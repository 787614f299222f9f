import type { KubernetesInfo, Runtime } from "../../events/container.js";

/**
 * The pods of this node as the sensor knows them, indexed the two ways a container finds its
 * pod: by the pod UID in its cgroup path, and by its container id in the pod's status.
 */

/** One container of a pod, from the pod's status. */
export interface ContainerStatusView {
  /** The runtime's container id, without the `containerd://` scheme. */
  id: string;
  runtime: Runtime;
  /** Its name in the pod spec. */
  name: string;
  image: string | null;
}

export interface PodView {
  uid: string;
  /** As events carry it, less the container's name. */
  info: Omit<KubernetesInfo, "container">;
  containers: readonly ContainerStatusView[];
}

export interface PodDirectory {
  pod(uid: string): PodView | undefined;
  containerOf(containerId: string): { pod: PodView; status: ContainerStatusView } | undefined;
  /** Called after a pod is added or changed. */
  onChange(listener: (pod: PodView) => void): void;
}

const SCHEMES: Record<string, Runtime> = { containerd: "containerd", "cri-o": "cri-o", docker: "docker" };

/** `containerd://<id>` → the runtime and the id; undefined when the status has no id yet. */
export function parseContainerId(value: unknown): { runtime: Runtime; id: string } | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^([a-z-]+):\/\/([0-9a-f]{64})$/.exec(value);
  if (!m) return undefined;
  return { runtime: SCHEMES[m[1] as string] ?? "unknown", id: m[2] as string };
}

/** The pods, kept as the watch reports them. */
export class PodIndex implements PodDirectory {
  private readonly byUid = new Map<string, PodView>();
  private readonly byContainer = new Map<string, { pod: PodView; status: ContainerStatusView }>();
  private readonly listeners: ((pod: PodView) => void)[] = [];

  get size(): number {
    return this.byUid.size;
  }

  pod(uid: string): PodView | undefined {
    return this.byUid.get(uid);
  }

  containerOf(containerId: string): { pod: PodView; status: ContainerStatusView } | undefined {
    return this.byContainer.get(containerId);
  }

  pods(): IterableIterator<PodView> {
    return this.byUid.values();
  }

  onChange(listener: (pod: PodView) => void): void {
    this.listeners.push(listener);
  }

  put(pod: PodView): void {
    this.drop(pod.uid);
    this.byUid.set(pod.uid, pod);
    for (const status of pod.containers) this.byContainer.set(status.id, { pod, status });
    for (const listener of this.listeners) listener(pod);
  }

  /** A deleted pod; containers that still run keep what they were given. */
  remove(uid: string): void {
    this.drop(uid);
  }

  private drop(uid: string): void {
    const old = this.byUid.get(uid);
    if (!old) return;
    this.byUid.delete(uid);
    for (const status of old.containers) {
      if (this.byContainer.get(status.id)?.pod === old) this.byContainer.delete(status.id);
    }
  }
}
