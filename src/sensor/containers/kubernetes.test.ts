import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { installRoot } from "../../paths.js";
import { capturedLogger, until } from "../sinks/sample-alert.js";
import { KubernetesPods } from "./kubernetes.js";
import { inClusterOptions } from "./kubernetes-options.js";

/**
 * An API server that replays a recorded conversation: each request is matched by method, path
 * and query against the recording and answered as recorded; a watch answers with the events of
 * its first stage and keeps the stream open, and `push()` sends the next stage on it.
 */
interface Exchange {
  request: { method: string; path: string; query?: Record<string, string> };
  response: { status: number; body?: unknown; stream?: unknown[][] };
}
interface Conversation {
  node: string;
  token: string;
  exchanges: Exchange[];
}

const conversation = JSON.parse(
  readFileSync(join(installRoot, "test/fixtures/kubernetes/node-pods.json"), "utf8"),
) as Conversation;

function replay(exchanges: Exchange[], token: string) {
  const seen: { path: string; query: Record<string, string>; auth: string | undefined }[] = [];
  const watches: { res: ServerResponse; stages: unknown[][] }[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(url.searchParams);
    seen.push({ path: url.pathname, query, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", status: "Failure", message: "Unauthorized", code: 401 }));
      return;
    }
    const match = exchanges.find(
      (x) =>
        x.request.method === req.method &&
        x.request.path === url.pathname &&
        Object.entries(x.request.query ?? {}).every(([k, v]) => query[k] === v) &&
        (query.watch === "true") === (x.request.query?.watch === "true"),
    );
    if (!match) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", status: "Failure", message: `not recorded: ${req.url}`, code: 404 }));
      return;
    }
    const { status, body, stream } = match.response;
    res.writeHead(status, { "content-type": "application/json" });
    if (!stream) {
      res.end(JSON.stringify(body));
      return;
    }
    const [first = [], ...rest] = stream;
    for (const event of first) res.write(`${JSON.stringify(event)}\n`);
    watches.push({ res, stages: rest });
  });
  return {
    server,
    seen,
    push() {
      for (const w of watches) for (const event of w.stages.shift() ?? []) w.res.write(`${JSON.stringify(event)}\n`);
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A service account directory as kubelet mounts it. */
function serviceAccount(token: string | undefined): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "vigil-sa-"));
  if (token !== undefined) writeFileSync(join(dir, "token"), token);
  writeFileSync(join(dir, "namespace"), "vigil");
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("this node's pods from a recorded API conversation", () => {
  const api = replay(conversation.exchanges, conversation.token);
  const sa = serviceAccount(conversation.token);
  const { logger, lines } = capturedLogger();
  let pods: KubernetesPods;
  const changes: string[] = [];

  before(async () => {
    const server = await api.listen();
    const found = inClusterOptions({}, logger, { api: server, serviceAccountDir: sa.dir, node: conversation.node });
    assert.ok("options" in found, JSON.stringify(found));
    pods = new KubernetesPods(found.options);
    pods.onChange((p) => changes.push(`${p.info.pod}:${p.containers.length}:${p.info.owner?.kind ?? "-"}`));
    await pods.start();
  });

  after(async () => {
    await pods?.stop();
    api.close();
    sa.done();
  });

  test("list, then watch, only this node's pods, with the token from the file", async () => {
    await until(() => api.seen.some((r) => r.query.watch === "true"), "the watch");
    const list = api.seen.find((r) => r.path === "/api/v1/pods" && r.query.watch === undefined);
    assert.equal(list?.query.fieldSelector, "spec.nodeName=node-1");
    assert.ok(api.seen.every((r) => r.auth === `Bearer ${conversation.token}`));
    const watch = api.seen.find((r) => r.query.watch === "true");
    assert.equal(watch?.query.fieldSelector, "spec.nodeName=node-1");
    assert.equal(watch?.query.resourceVersion, "100");
  });

  test("workload owners: ReplicaSet → Deployment, Job → CronJob, StatefulSet as it is", async () => {
    await until(() => pods.size === 3 && pods.containerOf("a".repeat(64)) !== undefined, "three pods");
    const web = pods.containerOf("a".repeat(64));
    assert.deepEqual(web?.pod.info, {
      pod: "web-7d4b9c-x2x9z",
      namespace: "shop",
      uid: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
      labels: { app: "web", "pod-template-hash": "7d4b9c" },
      node: "node-1",
      owner: { kind: "Deployment", name: "web" },
    });
    assert.deepEqual(web?.status, {
      id: "a".repeat(64),
      runtime: "containerd",
      name: "nginx",
      image: "docker.io/library/nginx:1.27",
    });
    // The sidecar still being created has no container id yet: it cannot be matched, and is not listed.
    assert.equal(web?.pod.containers.length, 1);
    assert.deepEqual(pods.containerOf("b".repeat(64))?.pod.info.owner, { kind: "CronJob", name: "backup" });
    const db = pods.containerOf("c".repeat(64));
    assert.deepEqual(db?.pod.info.owner, { kind: "StatefulSet", name: "db" });
    assert.equal(db?.status.runtime, "cri-o");
    assert.equal(pods.pod("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")?.info.pod, "db-0");
    // One lookup per owner, however many pods and updates name it.
    assert.equal(pods.stats.ownerLookups, 2);
  });

  test("a deleted pod is dropped", async () => {
    api.push();
    await until(() => pods.pod("1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d") === undefined, "the delete");
    assert.equal(pods.containerOf("b".repeat(64)), undefined);
    assert.equal(pods.size, 2);
    assert.equal(pods.stats.errors, 0, JSON.stringify(lines()));
  });
});

describe("when the API server refuses", () => {
  test("a 403 is logged with the API server's message, and the watch is tried again", async () => {
    const forbidden = {
      kind: "Status",
      status: "Failure",
      message:
        'pods is forbidden: User "system:serviceaccount:vigil:vigil" cannot list resource "pods" in API group "" at the cluster scope',
      reason: "Forbidden",
      code: 403,
    };
    const api = replay(
      [{ request: { method: "GET", path: "/api/v1/pods" }, response: { status: 403, body: forbidden } }],
      "t",
    );
    const sa = serviceAccount("t");
    const { logger, lines } = capturedLogger();
    const server = await api.listen();
    const found = inClusterOptions({}, logger, { api: server, serviceAccountDir: sa.dir, node: "n" });
    assert.ok("options" in found);
    const pods = new KubernetesPods({ ...found.options, retryMs: { first: 1, max: 2 } });
    try {
      await pods.start();
      await until(() => api.seen.length >= 2, "a second try");
      const warned = lines().find((l) => String(l.msg).startsWith("kubernetes: pod watch failed"));
      assert.match(
        String(warned?.msg),
        /^kubernetes: pod watch failed: HTTP 403: pods is forbidden: User .* cannot list resource "pods".*; retrying$/,
      );
      // The same failure again is not logged again.
      assert.equal(lines().filter((l) => String(l.msg).startsWith("kubernetes: pod watch failed")).length, 1);
      assert.equal(pods.size, 0);
    } finally {
      await pods.stop();
      api.close();
      sa.done();
    }
  });
});

describe("in-cluster configuration", () => {
  const { logger } = capturedLogger();

  test("without a token: why pod metadata is off, naming the path", () => {
    const sa = serviceAccount(undefined);
    try {
      const found = inClusterOptions({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, logger, {
        serviceAccountDir: sa.dir,
      });
      assert.deepEqual(found, { problem: `no service account token at ${join(sa.dir, "token")}` });
    } finally {
      sa.done();
    }
  });

  test("the API server from KUBERNETES_SERVICE_HOST and _PORT (IPv6 in brackets); the node from NODE_NAME", () => {
    const sa = serviceAccount("t");
    try {
      writeFileSync(join(sa.dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\n");
      const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443", NODE_NAME: "node-7" };
      const found = inClusterOptions(env, logger, { serviceAccountDir: sa.dir });
      assert.ok("options" in found);
      assert.equal(found.options.server, "https://[fd00::1]:6443");
      assert.equal(found.options.caFile, join(sa.dir, "ca.crt"));
      assert.equal(found.options.tokenFile, join(sa.dir, "token"));
      assert.equal(found.options.node, "node-7");
    } finally {
      sa.done();
    }
  });

  test("https without the cluster's CA is refused; no KUBERNETES_SERVICE_HOST and no server given says so", () => {
    const sa = serviceAccount("t");
    try {
      const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1" };
      assert.deepEqual(inClusterOptions(env, logger, { serviceAccountDir: sa.dir }), {
        problem: `no cluster CA at ${join(sa.dir, "ca.crt")}`,
      });
      assert.deepEqual(inClusterOptions({}, logger, { serviceAccountDir: sa.dir }), {
        problem: "KUBERNETES_SERVICE_HOST is not set and no API server was given",
      });
    } finally {
      sa.done();
    }
  });
});

describe("a watch that sends what is not a pod", () => {
  test("a line without an object is skipped and counted; the pods after it still come", async () => {
    const good = conversation.exchanges[1]?.response.stream?.[0]?.[1];
    const api = replay(
      [
        {
          request: { method: "GET", path: "/api/v1/pods", query: {} },
          response: {
            status: 200,
            body: { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "7" }, items: [] },
          },
        },
        {
          request: { method: "GET", path: "/api/v1/pods", query: { watch: "true" } },
          response: { status: 200, stream: [[{ type: "ADDED" }, { kind: "PodList", items: [] }, good]] },
        },
      ],
      "t",
    );
    const sa = serviceAccount("t");
    const { logger, lines } = capturedLogger();
    const found = inClusterOptions({}, logger, { api: await api.listen(), serviceAccountDir: sa.dir, node: "node-1" });
    assert.ok("options" in found);
    const pods = new KubernetesPods(found.options);
    try {
      await pods.start();
      await until(() => pods.size === 1, "the good pod");
      assert.equal(pods.stats.malformed, 2);
      assert.equal(lines().filter((l) => String(l.msg).startsWith("kubernetes: malformed pod watch event")).length, 1);
    } finally {
      await pods.stop();
      api.close();
      sa.done();
    }
  });
});
