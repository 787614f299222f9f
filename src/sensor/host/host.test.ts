import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveCapabilities } from "./capabilities.js";
import { kernelVersionProblem, MIN_KERNEL_VERSION, parseKernelRelease } from "./kernel-version.js";
import { cgroup2MountPoint, parseMountInfo } from "./mounts.js";

test("KERNEL_VERSION(4,18,0) is 266752", () => {
  assert.equal(MIN_KERNEL_VERSION, 266752);
  assert.equal(parseKernelRelease("6.18.44-fc-v657"), (6 << 16) + (18 << 8) + 44);
  assert.equal(parseKernelRelease("4.19.300"), (4 << 16) + (19 << 8) + 255, "patch saturates at 255");
});

test("old kernels are refused with the documented message", () => {
  assert.equal(kernelVersionProblem("4.15.0-20-generic"), "kernel version smaller than minimum 266752");
  assert.equal(kernelVersionProblem("3.10.0-1160.el7.x86_64"), "kernel version smaller than minimum 266752");
  assert.equal(kernelVersionProblem("4.18.0-553.el8.x86_64"), undefined);
  assert.equal(kernelVersionProblem("6.18.44"), undefined);
  assert.match(kernelVersionProblem("weird") ?? "", /cannot parse kernel release "weird"/);
});

test("mountinfo parsing finds cgroup2 on a hybrid host and unescapes paths", () => {
  const text = [
    "30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755",
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw",
    "40 23 0:40 / /mnt/with\\040space rw - ext4 /dev/sda1 rw",
  ].join("\n");
  const mounts = parseMountInfo(text);
  assert.equal(cgroup2MountPoint(mounts), "/sys/fs/cgroup/unified");
  assert.equal(mounts[2]?.mountPoint, "/mnt/with space");
});

test("capabilities come from CapEff", () => {
  const caps = effectiveCapabilities("Name:\tx\nCapEff:\t000001c000200000\n");
  assert.deepEqual([...caps].sort(), ["BPF", "PERFMON", "SYS_ADMIN"]);
  assert.equal(effectiveCapabilities("CapEff:\t0000000000000000\n").size, 0);
});
