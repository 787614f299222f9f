import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { capturedLogger } from "../sinks/sample-alert.js";
import { boltFile } from "./bolt-file.js";
import { PodIndex, type PodView } from "./pods.js";
import { runtimePathsUnder, runtimeStates } from "./runtimes.js";
import { type Container, ContainerTable } from "./table.js";

const ID = {
  docker: `${"d".repeat(63)}1`,
  podman: "9b6eb4b99bcbb826ca2ea13146e5a4c7b3b8fa5283f36d436ef04aa64a8896ae",
  podman5: "5".repeat(64),
  crio: `${"c".repeat(63)}2`,
  containerd: `${"e".repeat(63)}3`,
  kube: `${"f".repeat(63)}4`,
  bad: "b".repeat(64),
};
const POD_UID = "2d5c1f1e-7f6a-4b1c-9a3e-0c1d2e3f4a5b";

/**
 * A host in a directory: the runtimes' state as each writes it (cut to the fields that matter),
 * a cgroup2 tree whose directories' inodes stand for cgroup ids, and a /proc.
 */
function fakeHost() {
  const root = mkdtempSync(join(tmpdir(), "vigil-containers-"));
  const put = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  put(
    `var/lib/docker/containers/${ID.docker}/config.v2.json`,
    JSON.stringify({
      ID: ID.docker,
      Name: "/shop-db",
      Image: "sha256:0123",
      Config: { Image: "postgres:16", Labels: { "com.docker.compose.project": "shop", tier: "db" } },
    }),
  );
  put(
    "var/lib/containers/storage/libpod/bolt_state.db",
    boltFile({
      ctr: {
        [ID.podman]: {
          config: JSON.stringify({
            id: ID.podman,
            name: "vgtest",
            rootfsImageName: "localhost/vigil-e2e:latest",
            labels: { app: "demo", tier: "web" },
          }),
          state: '{"state":3}',
        },
      },
    }),
  );
  put(
    "var/lib/containers/storage/overlay-containers/containers.json",
    JSON.stringify([
      {
        id: ID.podman5,
        names: ["from-storage"],
        metadata: JSON.stringify({ "image-name": "docker.io/library/alpine:3", name: "from-storage" }),
      },
      {
        id: ID.crio,
        names: ["k8s_app_web-0_shop_uid_0"],
        metadata: JSON.stringify({ "pod-name": "web-0", "image-name": "quay.io/shop/web:2" }),
      },
    ]),
  );
  put(
    `run/containers/storage/overlay-containers/${ID.crio}/userdata/config.json`,
    JSON.stringify({
      annotations: {
        "io.kubernetes.cri-o.ImageName": "quay.io/shop/web:2",
        "io.kubernetes.cri-o.Labels": JSON.stringify({ "io.kubernetes.container.name": "app", team: "a" }),
        "io.kubernetes.container.name": "app",
        "io.kubernetes.pod.name": "web-0",
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.pod.uid": POD_UID,
      },
    }),
  );
  put(
    `run/containerd/io.containerd.runtime.v2.task/k8s.io/${ID.containerd}/config.json`,
    JSON.stringify({
      annotations: {
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.container-name": "api",
        "io.kubernetes.cri.image-name": "ghcr.io/shop/api:1.4",
        "io.kubernetes.cri.sandbox-name": "api-5f6d7c-abcde",
        "io.kubernetes.cri.sandbox-namespace": "shop",
        "io.kubernetes.cri.sandbox-uid": POD_UID,
      },
    }),
  );
  put(
    "var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
    boltFile({
      v1: {
        "k8s.io": {
          containers: {
            [ID.containerd]: {
              image: "ghcr.io/shop/api:1.4",
              labels: {
                inline: { "io.kubernetes.pod.name": "api-5f6d7c-abcde", "io.cri-containerd.kind": "container" },
              },
            },
          },
        },
      },
    }),
  );
  put(`var/lib/docker/containers/${ID.bad}/config.v2.json`, "{ this is not json");
  const cgroups = join(root, "cgroup");
  const procs = join(root, "proc");
  const paths: Record<string, string> = {
    host: "/system.slice/ssh.service",
    docker: `/system.slice/docker-${ID.docker}.scope`,
    podman: `/libpod_parent/libpod-${ID.podman}`,
    podman5: `/machine.slice/libpod-${ID.podman5}.scope`,
    crio: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replaceAll("-", "_")}.slice/crio-${ID.crio}.scope`,
    containerd: `/kubepods/besteffort/pod${POD_UID}/${ID.containerd}`,
    kube: `/kubepods/pod${POD_UID}/${ID.kube}`,
    bad: `/docker/${ID.bad}`,
    unknown: `/docker/${"a".repeat(64)}`,
  };
  const cgroupId: Record<string, bigint> = {};
  for (const [name, path] of Object.entries(paths)) {
    mkdirSync(join(cgroups, path), { recursive: true });
    cgroupId[name] = statSync(join(cgroups, path), { bigint: true }).ino;
  }
  let pid = 100;
  const pids: Record<string, number> = {};
  for (const [name, path] of Object.entries(paths)) {
    pids[name] = pid;
    put(`proc/${pid}/cgroup`, `4:memory:${path}\n0::${path}\n`);
    pid++;
  }
  return { root, cgroups, procs, cgroupId, pids, paths, done: () => rmSync(root, { recursive: true, force: true }) };
}

describe("the container table on a host of every runtime", () => {
  const host = fakeHost();
  const { logger, lines } = capturedLogger();
  let now = 1_000_000;
  const table = new ContainerTable({
    cgroupRoot: host.cgroups,
    procRoot: host.procs,
    runtimes: runtimeStates(runtimePathsUnder(host.root)),
    logger,
    now: () => now,
  });
  after(() => host.done());
  const resolve = (name: string) => table.resolve(host.pids[name] as number, host.cgroupId[name] as bigint);

  test("a host cgroup is no container", () => {
    assert.equal(resolve("host"), null);
  });

  test("docker: name without its slash, image, labels from config.v2.json", () => {
    assert.deepEqual(resolve("docker")?.info, {
      id: ID.docker,
      runtime: "docker",
      name: "shop-db",
      image: "postgres:16",
      labels: { "com.docker.compose.project": "shop", tier: "db" },
    });
  });

  test("podman: name, image and labels from the libpod database", () => {
    assert.deepEqual(resolve("podman")?.info, {
      id: ID.podman,
      runtime: "podman",
      name: "vgtest",
      image: "localhost/vigil-e2e:latest",
      labels: { app: "demo", tier: "web" },
    });
  });

  test("podman without a bbolt entry: name and image from containers/storage", () => {
    assert.deepEqual(resolve("podman5")?.info, {
      id: ID.podman5,
      runtime: "podman",
      name: "from-storage",
      image: "docker.io/library/alpine:3",
      labels: {},
    });
  });

  test("cri-o: the container's name, image, labels and pod from its spec's annotations", () => {
    const c = resolve("crio");
    assert.deepEqual(c?.info, {
      id: ID.crio,
      runtime: "cri-o",
      name: "app",
      image: "quay.io/shop/web:2",
      labels: { "io.kubernetes.container.name": "app", team: "a" },
    });
    assert.equal(c?.podUid, POD_UID);
  });

  test("containerd: a bare id below a pod is found in containerd's task bundles; labels from its metadata database", () => {
    assert.deepEqual(resolve("containerd")?.info, {
      id: ID.containerd,
      runtime: "containerd",
      name: "api",
      image: "ghcr.io/shop/api:1.4",
      labels: { "io.cri-containerd.kind": "container", "io.kubernetes.pod.name": "api-5f6d7c-abcde" },
    });
  });

  test("a container no runtime has: its id, runtime unknown until a pod's status says", () => {
    assert.deepEqual(resolve("kube")?.info, { id: ID.kube, runtime: "unknown", name: null, image: null, labels: {} });
  });

  test("a state file that cannot be read is logged once, naming the file, and the container is still reported", () => {
    const c = resolve("bad");
    assert.deepEqual(c?.info, { id: ID.bad, runtime: "docker", name: null, image: null, labels: {} });
    const warned = lines().filter((l) => typeof l.msg === "string" && l.msg.includes("config.v2.json"));
    assert.equal(warned.length, 1);
    assert.match(
      String(warned[0]?.msg),
      /cannot read docker's state: .*\/containers\/b{64}\/config\.v2\.json: not JSON/,
    );
    assert.equal(table.statistics().stateErrors, 1);
  });

  test("a cgroup seen before costs no lookup; a container not found is read again on an exec a second later", () => {
    const before = table.statistics();
    resolve("docker");
    resolve("unknown");
    const mid = table.statistics();
    assert.equal(mid.lookups, before.lookups + 1);
    resolve("unknown");
    assert.equal(table.statistics().stateReads, mid.stateReads);
    now += 1000;
    resolve("unknown");
    assert.equal(table.statistics().stateReads, mid.stateReads + 1);
  });

  test("a process gone before its cgroup was looked up: the cgroup tree is walked, once per id it lacks", () => {
    const id = statSync(join(host.cgroups, host.paths.docker as string), { bigint: true }).ino;
    const fresh = new ContainerTable({
      cgroupRoot: host.cgroups,
      procRoot: host.procs,
      runtimes: runtimeStates(runtimePathsUnder(host.root)),
    });
    assert.equal(fresh.resolve(99_999, id)?.info.name, "shop-db");
    assert.equal(fresh.statistics().walks, 1);
    assert.equal(fresh.resolve(99_999, 424242n), null);
    assert.equal(fresh.resolve(99_998, 424242n), null);
    assert.equal(fresh.statistics().walks, 2);
  });

  test("cgroup v1: the cgroup id says nothing, /proc/<pid>/cgroup does, at every lookup", () => {
    const v1 = new ContainerTable({
      cgroupRoot: undefined,
      procRoot: host.procs,
      runtimes: runtimeStates(runtimePathsUnder(host.root)),
    });
    assert.equal(v1.resolve(host.pids.docker as number, 1n)?.info.name, "shop-db");
    assert.equal(v1.resolve(host.pids.podman as number, 1n)?.info.name, "vgtest");
    assert.equal(v1.resolve(host.pids.host as number, 1n), null);
  });
});

describe("pods give containers their Kubernetes metadata", () => {
  const host = fakeHost();
  after(() => host.done());

  const pod = (containers: PodView["containers"]): PodView => ({
    uid: POD_UID,
    info: {
      pod: "api-5f6d7c-abcde",
      namespace: "shop",
      uid: POD_UID,
      labels: { app: "api" },
      node: "node-1",
      owner: { kind: "Deployment", name: "api" },
    },
    containers,
  });

  test("by the pod UID in the cgroup path, then by the container id in the pod's status", () => {
    const table = new ContainerTable({
      cgroupRoot: host.cgroups,
      procRoot: host.procs,
      runtimes: runtimeStates(runtimePathsUnder(host.root)),
    });
    const pods = new PodIndex();
    table.followPods(pods);
    table.resolve(host.pids.kube as number, host.cgroupId.kube as bigint);
    const kube = table.get(ID.kube) as Container;
    assert.equal(kube.k8s, null);
    // The pod arrives; its status does not list the container yet: the UID in the path finds it.
    pods.put(pod([]));
    assert.deepEqual(table.get(ID.kube)?.k8s, { ...pod([]).info, container: null });
    // The status names it: container name and runtime, and the image, where the runtime said nothing.
    pods.put(pod([{ id: ID.kube, runtime: "containerd", name: "sidecar", image: "envoy:1.30" }]));
    assert.equal(table.get(ID.kube)?.k8s?.container, "sidecar");
    assert.deepEqual(kube.info, {
      id: ID.kube,
      runtime: "containerd",
      name: "sidecar",
      image: "envoy:1.30",
      labels: {},
    });
  });

  test("a container whose pod is already known gets it when first seen", () => {
    const table = new ContainerTable({
      cgroupRoot: host.cgroups,
      procRoot: host.procs,
      runtimes: runtimeStates(runtimePathsUnder(host.root)),
    });
    const pods = new PodIndex();
    pods.put(pod([{ id: ID.containerd, runtime: "containerd", name: "api", image: "ghcr.io/shop/api:1.4" }]));
    table.followPods(pods);
    const api = table.resolve(host.pids.containerd as number, host.cgroupId.containerd as bigint);
    assert.equal(api?.k8s?.pod, "api-5f6d7c-abcde");
    assert.equal(api?.k8s?.owner?.kind, "Deployment");
    assert.ok(Object.isFrozen(api?.k8s) && Object.isFrozen(api?.info), "events may keep what they were given");
  });
});
