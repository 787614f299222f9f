import assert from "node:assert/strict";
import { test } from "node:test";
import { type CgroupContainer, containerOfCgroup, containerOfProcCgroup } from "./cgroup-path.js";

const ID = "9b6eb4b99bcbb826ca2ea13146e5a4c7b3b8fa5283f36d436ef04aa64a8896ae";
const UID = "2d5c1f1e-7f6a-4b1c-9a3e-0c1d2e3f4a5b";
const UID_ = UID.replaceAll("-", "_");

/** Cgroup paths as each runtime and cgroup driver lay them out, on cgroup v1 and v2 alike. */
const LAYOUTS: [string, string, CgroupContainer | undefined][] = [
  ["host: root", "/", undefined],
  ["host: a systemd service", "/system.slice/ssh.service", undefined],
  ["host: a login session", "/user.slice/user-0.slice/session-3.scope", undefined],
  ["host: the container runtime itself", "/system.slice/containerd.service", undefined],
  ["docker, cgroupfs", `/docker/${ID}`, { id: ID, runtime: "docker" }],
  ["docker, systemd", `/system.slice/docker-${ID}.scope`, { id: ID, runtime: "docker" }],
  ["podman, cgroupfs (this machine)", `/libpod_parent/libpod-${ID}`, { id: ID, runtime: "podman" }],
  ["podman, systemd", `/machine.slice/libpod-${ID}.scope`, { id: ID, runtime: "podman" }],
  [
    "podman, rootless",
    `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
    { id: ID, runtime: "podman" },
  ],
  [
    "podman, in a pod",
    `/machine.slice/machine-libpod_pod_0123456789abcdef.slice/libpod-${ID}.scope`,
    { id: ID, runtime: "podman" },
  ],
  [
    "podman, systemd inside the container",
    `/machine.slice/libpod-${ID}.scope/container/init.scope`,
    { id: ID, runtime: "podman" },
  ],
  ["podman's conmon is not the container", `/machine.slice/libpod-conmon-${ID}.scope`, undefined],
  ["containerd, ctr in namespace default", `/default/${ID}`, { id: ID, runtime: undefined }],
  ["nerdctl, systemd", `/system.slice/nerdctl-${ID}.scope`, { id: ID, runtime: "containerd" }],
  [
    "kubernetes cgroupfs, burstable (containerd or docker)",
    `/kubepods/burstable/pod${UID}/${ID}`,
    { id: ID, runtime: undefined, podUid: UID, qos: "burstable" },
  ],
  [
    "kubernetes cgroupfs, besteffort",
    `/kubepods/besteffort/pod${UID}/${ID}`,
    { id: ID, runtime: undefined, podUid: UID, qos: "besteffort" },
  ],
  [
    "kubernetes cgroupfs, guaranteed",
    `/kubepods/pod${UID}/${ID}`,
    { id: ID, runtime: undefined, podUid: UID, qos: "guaranteed" },
  ],
  [
    "kubernetes cgroupfs, cri-o",
    `/kubepods/burstable/pod${UID}/crio-${ID}`,
    { id: ID, runtime: "cri-o", podUid: UID, qos: "burstable" },
  ],
  [
    "kubernetes systemd, containerd, burstable",
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { id: ID, runtime: "containerd", podUid: UID, qos: "burstable" },
  ],
  [
    "kubernetes systemd, containerd, besteffort",
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { id: ID, runtime: "containerd", podUid: UID, qos: "besteffort" },
  ],
  [
    "kubernetes systemd, containerd, guaranteed",
    `/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { id: ID, runtime: "containerd", podUid: UID, qos: "guaranteed" },
  ],
  [
    "kubernetes systemd, cri-o",
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-${ID}.scope`,
    { id: ID, runtime: "cri-o", podUid: UID, qos: "burstable" },
  ],
  [
    "kubernetes systemd, cri-o's conmon is not the container",
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${ID}.scope`,
    undefined,
  ],
  [
    "kubernetes systemd, docker (cri-dockerd)",
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/docker-${ID}.scope`,
    { id: ID, runtime: "docker", podUid: UID, qos: "besteffort" },
  ],
  [
    "kubernetes, runc's slice:prefix:name form",
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice:cri-containerd:${ID}`,
    { id: ID, runtime: "containerd", podUid: UID, qos: "besteffort" },
  ],
  [
    "kind: a kubernetes node in a docker container, innermost wins",
    `/docker/${"a".repeat(64)}/kubepods/besteffort/pod${UID}/${ID}`,
    { id: ID, runtime: undefined, podUid: UID, qos: "besteffort" },
  ],
  [
    "kind with the systemd driver",
    `/system.slice/docker-${"a".repeat(64)}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { id: ID, runtime: "containerd", podUid: UID, qos: "besteffort" },
  ],
  ["a name that only looks like an id is not one", `/system.slice/${"g".repeat(64)}`, undefined],
  ["a short id is not one", `/docker/${ID.slice(0, 12)}`, undefined],
];

for (const [name, path, expected] of LAYOUTS) {
  test(`cgroup path: ${name}`, () => {
    assert.deepEqual(containerOfCgroup(path), expected);
  });
}

test("/proc/<pid>/cgroup on a cgroup v2 host", () => {
  assert.deepEqual(containerOfProcCgroup(`0::/system.slice/docker-${ID}.scope\n`), { id: ID, runtime: "docker" });
  assert.equal(containerOfProcCgroup("0::/user.slice/user-0.slice/session-1.scope\n"), undefined);
});

test("/proc/<pid>/cgroup on a hybrid host where podman uses the unified hierarchy (this machine)", () => {
  const text = [
    `9:name=systemd:/libpod_parent/libpod-${ID}`,
    `4:memory:/libpod_parent/libpod-${ID}`,
    "1:cpu:/",
    `0::/libpod_parent/libpod-${ID}`,
    "",
  ].join("\n");
  assert.deepEqual(containerOfProcCgroup(text), { id: ID, runtime: "podman" });
});

test("/proc/<pid>/cgroup on a cgroup v1 host: the v1 hierarchies say it", () => {
  const text = [
    `12:pids:/kubepods/besteffort/pod${UID}/${ID}`,
    `11:memory:/kubepods/besteffort/pod${UID}/${ID}`,
    `1:name=systemd:/kubepods/besteffort/pod${UID}/${ID}`,
    "",
  ].join("\n");
  assert.deepEqual(containerOfProcCgroup(text), { id: ID, runtime: undefined, podUid: UID, qos: "besteffort" });
});

test("/proc/<pid>/cgroup on a hybrid host whose runtime leaves the unified hierarchy alone", () => {
  const text = [`5:memory:/docker/${ID}`, `1:name=systemd:/docker/${ID}`, "0::/", ""].join("\n");
  assert.deepEqual(containerOfProcCgroup(text), { id: ID, runtime: "docker" });
});

test("/proc/<pid>/cgroup of a host process", () => {
  assert.equal(containerOfProcCgroup("4:memory:/process_api/9a07\n1:cpu:/\n0::/\n"), undefined);
});
