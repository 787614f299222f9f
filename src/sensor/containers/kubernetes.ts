import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  type V1OwnerReference,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import type { KubernetesInfo } from "../../events/container.js";
import type { KubernetesOptions, KubernetesStatistics } from "./kubernetes-options.js";

type Owner = KubernetesInfo["owner"];

import { type ContainerStatusView, PodIndex, type PodView, parseContainerId } from "./pods.js";

/**
 * The pods of this node from the API server: one list, then a watch, of the pods whose
 * spec.nodeName is this node (a node-scoped watch: the API server filters, the sensor holds
 * only its node's pods), with the in-cluster service account's token. A pod's workload is
 * followed from its controller: ReplicaSet → Deployment, Job → CronJob (one GET each, cached).
 * The watch restarts on failure with a backoff; events go on without pod metadata meanwhile.
 */

export class KubernetesPods extends PodIndex {
  private readonly informer: ListWatch<V1Pod>;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly owners = new Map<string, Promise<Owner>>();
  /** The latest version of each pod, so that an owner lookup finishing late does not put back an older one. */
  private readonly latest = new Map<string, V1Pod>();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  readonly stats: KubernetesStatistics = {
    pods: 0,
    connects: 0,
    errors: 0,
    lastError: null,
    malformed: 0,
    ownerLookups: 0,
  };

  constructor(private readonly options: KubernetesOptions) {
    super();
    const kc = new KubeConfig();
    // The client refuses plain http unless told to skip TLS checks; over http there is no TLS to check.
    const plain = options.server.startsWith("http:");
    kc.loadFromClusterAndUser(
      { name: "cluster", server: options.server, caFile: options.caFile, skipTLSVerify: plain },
      { name: "vigil", authProvider: { name: "tokenFile", config: { tokenFile: options.tokenFile } } },
    );
    const core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    const fieldSelector = `spec.nodeName=${options.node}`;
    this.retryMs = options.retryMs?.first ?? 1000;
    this.informer = new ListWatch<V1Pod>(
      "/api/v1/pods",
      new CheckedWatch(kc, (what) => this.malformed(what)),
      () => core.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    this.informer.on("connect", () => {
      this.stats.connects++;
    });
    this.informer.on("add", (pod) => this.offer(pod));
    this.informer.on("update", (pod) => this.offer(pod));
    this.informer.on("delete", (pod) => {
      const uid = pod.metadata?.uid;
      if (!uid) return;
      this.latest.delete(uid);
      this.remove(uid);
      this.stats.pods = this.size;
    });
    this.informer.on("error", (err) => this.failed(err));
  }

  /** Starts the list and watch; resolves when the first list has been asked for. */
  async start(): Promise<void> {
    this.options.logger.info(
      { server: this.options.server, node: this.options.node },
      "kubernetes: watching this node's pods",
    );
    await this.informer.start().catch((err: unknown) => this.failed(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  /** A watch event the client could not take: counted and logged once, never thrown. */
  private malformed(what: string): void {
    this.stats.malformed++;
    if (this.stats.malformed === 1) {
      this.options.logger.warn(
        { server: this.options.server, what },
        `kubernetes: malformed pod watch event skipped: ${what}`,
      );
    }
  }

  private failed(err: unknown): void {
    const message = describe(err);
    this.stats.errors++;
    // The same failure again (an API server down for a while) is logged once.
    if (message !== this.stats.lastError) {
      this.options.logger.warn(
        { server: this.options.server, err: message, retryMs: this.retryMs },
        `kubernetes: pod watch failed: ${message}; retrying`,
      );
    }
    this.stats.lastError = message;
    if (this.stopped) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.retryMs?.max ?? 30_000);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.informer.start().catch((e: unknown) => this.failed(e));
    }, wait);
    this.retryTimer.unref();
  }

  /** A pod from the watch: put in force once its workload owner is known. */
  private offer(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.retryMs = this.options.retryMs?.first ?? 1000;
    this.latest.set(uid, pod);
    void this.ownerOf(pod).then((owner) => {
      if (this.latest.get(uid) !== pod) return;
      const view = podView(pod, owner, this.options.node);
      if (view) this.put(view);
      this.stats.pods = this.size;
    });
  }

  /** The workload that owns the pod: its controller, followed up one level for ReplicaSets and Jobs. */
  private ownerOf(pod: V1Pod): Promise<Owner> {
    const ref = controllerOf(pod.metadata?.ownerReferences);
    const namespace = pod.metadata?.namespace ?? "";
    if (!ref) return Promise.resolve(null);
    if (ref.kind !== "ReplicaSet" && ref.kind !== "Job") return Promise.resolve({ kind: ref.kind, name: ref.name });
    const key = `${namespace}/${ref.kind}/${ref.name}`;
    let owner = this.owners.get(key);
    if (!owner) {
      this.stats.ownerLookups++;
      const lookup =
        ref.kind === "ReplicaSet"
          ? this.apps.readNamespacedReplicaSet({ name: ref.name, namespace })
          : this.batch.readNamespacedJob({ name: ref.name, namespace });
      owner = lookup.then(
        (obj) => {
          const up = controllerOf(obj.metadata?.ownerReferences);
          return up ? { kind: up.kind, name: up.name } : { kind: ref.kind, name: ref.name };
        },
        (err: unknown) => {
          // Without the right to read it (RBAC) the direct owner is still worth naming.
          this.options.logger.warn(
            { kind: ref.kind, name: ref.name, namespace, err: describe(err) },
            `kubernetes: cannot read ${ref.kind} ${namespace}/${ref.name} to find its owner: ${describe(err)}`,
          );
          this.owners.delete(key);
          return { kind: ref.kind, name: ref.name };
        },
      );
      if (this.owners.size > 4096) this.owners.clear();
      this.owners.set(key, owner);
    }
    return owner;
  }
}

/**
 * The client's watch, with each event checked before the informer sees it: the informer reads
 * `object.metadata` of every event unguarded, and a line that is not an object would otherwise
 * end the process as an unhandled rejection.
 */
class CheckedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly onMalformed: (what: string) => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, obj, watchObj) => {
        const o = obj as { metadata?: unknown } | null;
        // An ERROR event carries a Status (410 Gone restarts the list), which may lack metadata.
        const object = o !== null && typeof o === "object";
        if (typeof phase !== "string" || !object || (phase !== "ERROR" && typeof o.metadata !== "object")) {
          this.onMalformed(JSON.stringify(watchObj ?? obj)?.slice(0, 200) ?? String(obj));
          return;
        }
        try {
          void Promise.resolve(callback(phase, obj, watchObj)).catch((err: unknown) => this.onMalformed(String(err)));
        } catch (err) {
          this.onMalformed(String(err));
        }
      },
      done,
    );
  }
}

function controllerOf(refs: V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  return refs?.find((r) => r.controller) ?? refs?.[0];
}

/** A pod as the sensor keeps it; undefined when it lacks what identifies it. */
export function podView(pod: V1Pod, owner: Owner, node: string): PodView | undefined {
  const m = pod.metadata;
  if (!m?.uid || !m.name) return undefined;
  const containers: ContainerStatusView[] = [];
  const status = pod.status;
  for (const s of [
    ...(status?.initContainerStatuses ?? []),
    ...(status?.containerStatuses ?? []),
    ...(status?.ephemeralContainerStatuses ?? []),
  ]) {
    const parsed = parseContainerId(s.containerID);
    if (parsed) containers.push({ ...parsed, name: s.name, image: s.image || null });
  }
  return {
    uid: m.uid,
    info: Object.freeze({
      pod: m.name,
      namespace: m.namespace ?? "default",
      uid: m.uid,
      labels: Object.freeze({ ...(m.labels ?? {}) }),
      node: pod.spec?.nodeName ?? node,
      owner: owner && Object.freeze(owner),
    }),
    containers,
  };
}

/** An error from the client as one line: the HTTP status and the API server's message when there is one. */
function describe(err: unknown): string {
  if (err === null || typeof err !== "object") return String(err);
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  const status = e.code ?? e.statusCode;
  let detail = typeof e.message === "string" ? e.message : String(err);
  if (typeof e.body === "string") {
    try {
      const body = JSON.parse(e.body) as { message?: string };
      if (body.message) detail = body.message;
    } catch {
      // Not a Status object: the message stands.
    }
  }
  return typeof status === "number" ? `HTTP ${status}: ${detail.split("\n")[0]}` : (detail.split("\n")[0] ?? "");
}
