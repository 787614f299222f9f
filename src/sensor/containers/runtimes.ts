import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Runtime } from "../../events/container.js";
import { BoltReader } from "./bolt.js";

/**
 * What each runtime keeps about its containers on disk, read when a container is first seen.
 * A runtime that does not have the container answers undefined; a state file that is there but
 * cannot be read as expected throws a RuntimeStateError naming the file and what is wrong, which
 * the container table logs and survives.
 */

export interface RuntimeMetadata {
  runtime: Runtime;
  name: string | null;
  image: string | null;
  labels: Record<string, string>;
  /** What a CRI runtime recorded about the Kubernetes pod, when it did. */
  pod?: { name: string; namespace: string; uid: string; container: string | null };
}

export interface RuntimeState {
  readonly runtime: Runtime;
  /** The container's metadata; undefined when this runtime does not know the id. */
  inspect(id: string): RuntimeMetadata | undefined;
}

export class RuntimeStateError extends Error {
  override name = "RuntimeStateError";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Where the runtimes keep their state; a sensor in a container sees the host's below a prefix. */
export interface RuntimePaths {
  docker: string;
  /** containers/storage's graph root (Podman as root, CRI-O). */
  storage: string;
  /** containers/storage's run root. */
  storageRun: string;
  /** containerd's runtime v2 task directory (one folder per namespace). */
  containerdTasks: string;
  /** containerd's metadata database. */
  containerdMeta: string;
}

export const DEFAULT_RUNTIME_PATHS: RuntimePaths = {
  docker: "/var/lib/docker",
  storage: "/var/lib/containers/storage",
  storageRun: "/run/containers/storage",
  containerdTasks: "/run/containerd/io.containerd.runtime.v2.task",
  containerdMeta: "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
};

/** Under `prefix` (e.g. /host when the host's root is mounted there). */
export function runtimePathsUnder(prefix: string): RuntimePaths {
  const under = (p: string) => join(prefix, p);
  const d = DEFAULT_RUNTIME_PATHS;
  return {
    docker: under(d.docker),
    storage: under(d.storage),
    storageRun: under(d.storageRun),
    containerdTasks: under(d.containerdTasks),
    containerdMeta: under(d.containerdMeta),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A file's bytes; undefined when it does not exist. */
function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new RuntimeStateError(file, `cannot read: ${(err as Error).message}`);
  }
}

function parseJson(file: string, bytes: Buffer | string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (err) {
    throw new RuntimeStateError(file, `not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw new RuntimeStateError(file, "not a JSON object");
  return value;
}

/** String values of an object; others are left out (labels are strings in every runtime). */
function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The pod a CRI runtime's labels or annotations name, with their key names. */
function podFrom(
  values: Record<string, string>,
  keys: { name: string; namespace: string; uid: string; container: string },
): RuntimeMetadata["pod"] {
  const name = values[keys.name];
  const namespace = values[keys.namespace];
  const uid = values[keys.uid];
  if (!name || !namespace || !uid) return undefined;
  return { name, namespace, uid, container: values[keys.container] || null };
}

/** Docker: /var/lib/docker/containers/<id>/config.v2.json. */
export class DockerState implements RuntimeState {
  readonly runtime = "docker" as const;
  constructor(private readonly root: string) {}

  inspect(id: string): RuntimeMetadata | undefined {
    const file = join(this.root, "containers", id, "config.v2.json");
    const bytes = readIfThere(file);
    if (!bytes) return undefined;
    const doc = parseJson(file, bytes);
    const config = isRecord(doc.Config) ? doc.Config : {};
    const labels = stringMap(config.Labels);
    const name = str(doc.Name);
    // cri-dockerd labels a Kubernetes container with its pod.
    const pod = podFrom(labels, {
      name: "io.kubernetes.pod.name",
      namespace: "io.kubernetes.pod.namespace",
      uid: "io.kubernetes.pod.uid",
      container: "io.kubernetes.container.name",
    });
    return {
      runtime: "docker",
      name: name?.replace(/^\//, "") ?? null,
      image: str(config.Image),
      labels,
      ...(pod && { pod }),
    };
  }
}

/**
 * Podman: its libpod database (bbolt, `libpod/bolt_state.db`: bucket ctr/<id>, key config)
 * has the name, image and labels. Where the database cannot say (Podman 5's SQLite default),
 * containers/storage's containers.json has the name and image, without labels.
 */
export class PodmanState implements RuntimeState {
  readonly runtime = "podman" as const;
  constructor(private readonly storage: string) {}

  inspect(id: string): RuntimeMetadata | undefined {
    const db = join(this.storage, "libpod", "bolt_state.db");
    const bytes = readIfThere(db);
    if (bytes) {
      let value: Buffer | undefined;
      try {
        value = new BoltReader(bytes).get(["ctr", id], "config");
      } catch (err) {
        throw new RuntimeStateError(db, (err as Error).message);
      }
      if (value) {
        const config = parseJson(`${db} (ctr/${id}/config)`, value);
        return {
          runtime: "podman",
          name: str(config.name),
          image: str(config.rootfsImageName) ?? str(config.RawImageName) ?? str(config.rootfs),
          labels: stringMap(config.labels),
        };
      }
    }
    const stored = storedContainer(this.storage, id);
    if (!stored || stored.metadata["pod-name"] !== undefined) return undefined;
    return { runtime: "podman", name: stored.name, image: str(stored.metadata["image-name"]), labels: {} };
  }
}

/** An entry of containers/storage's overlay-containers/containers.json. */
function storedContainer(
  storage: string,
  id: string,
): { name: string | null; metadata: Record<string, unknown> } | undefined {
  const file = join(storage, "overlay-containers", "containers.json");
  const bytes = readIfThere(file);
  if (!bytes) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(bytes.toString());
  } catch (err) {
    throw new RuntimeStateError(file, `not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(list)) throw new RuntimeStateError(file, "not a JSON list");
  const entry = list.find((e) => isRecord(e) && e.id === id) as Record<string, unknown> | undefined;
  if (!entry) return undefined;
  let metadata: Record<string, unknown> = {};
  if (typeof entry.metadata === "string" && entry.metadata !== "") {
    metadata = parseJson(`${file} (container ${id} metadata)`, entry.metadata);
  }
  const names = Array.isArray(entry.names) ? entry.names : [];
  return { name: str(names[0]) ?? str(metadata.name), metadata };
}

/**
 * CRI-O: the OCI spec it writes for each container (userdata/config.json, under the run root
 * or the graph root) carries its Kubernetes facts as annotations.
 */
export class CriOState implements RuntimeState {
  readonly runtime = "cri-o" as const;
  constructor(private readonly paths: Pick<RuntimePaths, "storage" | "storageRun">) {}

  inspect(id: string): RuntimeMetadata | undefined {
    for (const root of [this.paths.storageRun, this.paths.storage]) {
      const file = join(root, "overlay-containers", id, "userdata", "config.json");
      const bytes = readIfThere(file);
      if (!bytes) continue;
      const a = stringMap(parseJson(file, bytes).annotations);
      // Podman writes the same file with a few cri-o annotations of its own: the image name is CRI-O's.
      if (a["io.container.manager"] === "libpod" || a["io.kubernetes.cri-o.ImageName"] === undefined) continue;
      let labels: Record<string, string> = {};
      const rawLabels = a["io.kubernetes.cri-o.Labels"];
      if (rawLabels) labels = stringMap(parseJson(`${file} (io.kubernetes.cri-o.Labels)`, rawLabels));
      const pod = podFrom(a, {
        name: "io.kubernetes.pod.name",
        namespace: "io.kubernetes.pod.namespace",
        uid: "io.kubernetes.pod.uid",
        container: "io.kubernetes.container.name",
      });
      return {
        runtime: "cri-o",
        name: a["io.kubernetes.container.name"] || a["io.kubernetes.cri-o.Name"] || null,
        image: a["io.kubernetes.cri-o.ImageName"] || null,
        labels,
        ...(pod && { pod }),
      };
    }
    return undefined;
  }
}

/**
 * containerd: each running task's bundle (<tasks>/<namespace>/<id>/config.json) carries the CRI
 * plugin's annotations; the labels and the image of a container are in containerd's metadata
 * database (bbolt: v1/<namespace>/containers/<id>, bucket labels and key image).
 */
export class ContainerdState implements RuntimeState {
  readonly runtime = "containerd" as const;
  constructor(private readonly paths: Pick<RuntimePaths, "containerdTasks" | "containerdMeta">) {}

  inspect(id: string): RuntimeMetadata | undefined {
    let namespaces: string[];
    try {
      namespaces = readdirSync(this.paths.containerdTasks);
    } catch {
      return undefined;
    }
    for (const ns of namespaces) {
      const file = join(this.paths.containerdTasks, ns, id, "config.json");
      const bytes = readIfThere(file);
      if (!bytes) continue;
      const a = stringMap(parseJson(file, bytes).annotations);
      const meta = this.metadata(ns, id);
      const pod = podFrom(a, {
        name: "io.kubernetes.cri.sandbox-name",
        namespace: "io.kubernetes.cri.sandbox-namespace",
        uid: "io.kubernetes.cri.sandbox-uid",
        container: "io.kubernetes.cri.container-name",
      });
      return {
        runtime: "containerd",
        name: a["io.kubernetes.cri.container-name"] || meta.labels["nerdctl/name"] || null,
        image: a["io.kubernetes.cri.image-name"] || meta.image,
        labels: meta.labels,
        ...(pod && { pod }),
      };
    }
    return undefined;
  }

  private metadata(ns: string, id: string): { image: string | null; labels: Record<string, string> } {
    const file = this.paths.containerdMeta;
    const bytes = readIfThere(file);
    if (!bytes) return { image: null, labels: {} };
    try {
      const db = new BoltReader(bytes);
      const image = db.get(["v1", ns, "containers", id], "image")?.toString() ?? null;
      return { image: image || null, labels: db.bucketStrings(["v1", ns, "containers", id, "labels"]) };
    } catch (err) {
      throw new RuntimeStateError(file, (err as Error).message);
    }
  }
}

/** Every runtime, in the order their state is asked when the cgroup path does not say. */
export function runtimeStates(paths: RuntimePaths = DEFAULT_RUNTIME_PATHS): RuntimeState[] {
  return [
    new DockerState(paths.docker),
    new PodmanState(paths.storage),
    new CriOState(paths),
    new ContainerdState(paths),
  ];
}
