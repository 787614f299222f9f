import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import type { KubernetesPods } from "./kubernetes.js";

// Apart from kubernetes.ts: @kubernetes/client-node costs about 70 MB of memory once loaded,
// so it is loaded only when the sensor follows pods.

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubernetesOptions {
  /** The API server, e.g. https://10.96.0.1:443. */
  server: string;
  /** The service account token; read again on every request, since kubelets rotate it. */
  tokenFile: string;
  /** The cluster's CA bundle; absent for a plain-HTTP server (tests). */
  caFile: string | undefined;
  /** This node's name, as in the pods' spec.nodeName. */
  node: string;
  logger: Logger;
  /** First and longest wait before the watch is started again after a failure. */
  retryMs?: { first: number; max: number };
}

/**
 * Kubernetes options from the environment a DaemonSet pod gets, or why pod metadata is off.
 * `api` overrides the server (else https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT);
 * `node` overrides $NODE_NAME (the downward API's spec.nodeName), else the host name.
 */
export function inClusterOptions(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  overrides: { api?: string; serviceAccountDir?: string; node?: string } = {},
): { options: KubernetesOptions } | { problem: string } {
  const dir = overrides.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  let server = overrides.api;
  if (server === undefined) {
    const host = env.KUBERNETES_SERVICE_HOST;
    if (!host) return { problem: "KUBERNETES_SERVICE_HOST is not set and no API server was given" };
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  const tokenFile = join(dir, "token");
  if (!existsSync(tokenFile)) return { problem: `no service account token at ${tokenFile}` };
  const ca = join(dir, "ca.crt");
  const caFile = server.startsWith("https:") ? ca : undefined;
  if (caFile !== undefined && !existsSync(caFile)) return { problem: `no cluster CA at ${caFile}` };
  const node = overrides.node ?? (env.NODE_NAME || hostname());
  return { options: { server, tokenFile, caFile, node, logger } };
}

export interface KubernetesStatistics {
  pods: number;
  /** Lists and watch (re)starts. */
  connects: number;
  errors: number;
  lastError: string | null;
  /** Watch events that were not a Kubernetes object, skipped. */
  malformed: number;
  ownerLookups: number;
}

/** The pods of this node, followed from the API server. */
/** Follows this node's pods; loads the Kubernetes client only now. */
export async function followPods(options: KubernetesOptions): Promise<KubernetesPods> {
  const { KubernetesPods } = await import("./kubernetes.js");
  return new KubernetesPods(options);
}
