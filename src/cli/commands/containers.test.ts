import assert from "node:assert/strict";
import { test } from "node:test";
import type { ActorView, ContainerView } from "../../sensor/control/index.js";
import { formatContainers } from "./containers.js";

const proc = (pid: number, ppid: number, exe: string, args: string[]): ActorView => ({
  pid,
  ppid,
  uid: 0,
  user: "root",
  comm: exe.split("/").pop() ?? "",
  exe,
  args,
  argsTruncated: false,
  cgroupId: 77n,
  container: "c".repeat(64),
  startTime: 0n,
  startedAt: "2026-11-24T00:00:00.000Z",
});

test("one row per process, the container's columns on its first, its processes as a tree", () => {
  const containers: ContainerView[] = [
    {
      id: "c".repeat(64),
      runtime: "containerd",
      name: "web",
      image: "nginx:1.27",
      labels: {},
      k8s: {
        pod: "web-7d4b9c-x2x",
        namespace: "shop",
        uid: "u",
        labels: {},
        node: "n1",
        container: "web",
        owner: { kind: "Deployment", name: "web" },
      },
      cgroupIds: [77n],
      processes: [
        proc(10, 1, "/usr/sbin/nginx", ["nginx", "-g", "daemon off;"]),
        proc(11, 10, "/usr/sbin/nginx", ["nginx"]),
      ],
    },
    {
      id: "d".repeat(64),
      runtime: "unknown",
      name: null,
      image: null,
      labels: {},
      k8s: null,
      cgroupIds: [78n],
      processes: [proc(20, 1, "/bin/sh", ["sh", "-c", "sleep 1\u001b[2J"])],
    },
  ];
  const lines = formatContainers(containers).split("\n");
  assert.match(lines[0] ?? "", /^CONTAINER\s+RUNTIME\s+NAME\s+IMAGE\s+POD\s+PID\s+USER\s+EXE\s+ARGS$/);
  assert.match(
    lines[1] ?? "",
    /^cccccccccccc\s+containerd\s+web\s+nginx:1\.27\s+shop\/web-7d4b9c-x2x\s+10\s+root\s+\/usr\/sbin\/nginx\s+nginx -g daemon off;$/,
  );
  assert.match(lines[2] ?? "", /^\s+11\s+root\s+\\_ \/usr\/sbin\/nginx\s+nginx$/);
  assert.match(lines[3] ?? "", /^dddddddddddd\s+unknown\s+20\s+root\s+\/bin\/sh\s+sh -c sleep 1\\x1b\[2J$/);
});
