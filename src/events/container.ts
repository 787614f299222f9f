import { z } from "zod";

/** The container runtimes whose cgroup layouts and state the sensor knows. */
export const RUNTIMES = ["docker", "containerd", "cri-o", "podman", "unknown"] as const;

const labels = z.record(z.string(), z.string());

/** The container a process runs in; null on the host. */
export const ContainerSchema = z.object({
  id: z.string().describe("the runtime's container id (64 hex digits)"),
  runtime: z
    .enum(RUNTIMES)
    .describe(
      "docker, containerd, cri-o or podman; unknown when the cgroup looks like a container's but no runtime has it",
    ),
  name: z.string().nullable().describe("the container's name, from the runtime's state or the pod; null until known"),
  image: z.string().nullable().describe("the image as the container was created from it (name:tag); null until known"),
  labels: labels.describe("the container's labels (empty when the runtime keeps none the sensor can read)"),
});

/** The Kubernetes pod of a container; null outside Kubernetes. */
export const KubernetesSchema = z.object({
  pod: z.string().describe("pod name"),
  namespace: z.string(),
  uid: z.string().describe("pod UID"),
  labels: labels.describe("the pod's labels"),
  node: z.string().describe("the node the pod is scheduled on"),
  container: z.string().nullable().describe("the container's name in the pod spec; null until the pod status names it"),
  owner: z
    .object({
      kind: z.string().describe("Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, ..."),
      name: z.string(),
    })
    .nullable()
    .describe(
      "the workload that owns the pod, followed up from ReplicaSet to Deployment and Job to CronJob; null for a bare pod",
    ),
});

export type ContainerInfo = z.infer<typeof ContainerSchema>;
export type KubernetesInfo = z.infer<typeof KubernetesSchema>;
export type Runtime = (typeof RUNTIMES)[number];
