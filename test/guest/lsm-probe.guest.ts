import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BpfObject, kernelBridge } from "../../src/sensor/kernel/bridge.js";
import { kernelDev } from "../../src/sensor/kernel/interest.js";
import { root } from "./guest.js";

// Runs inside the guest kernel (guest.test.ts boots it), where BPF-LSM programs attach.

/** struct probe_file of lsm-probe.h: the inode and its device, as hooks see them. */
function probeFile(ino: bigint, dev: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeBigUInt64LE(ino, 0);
  key.writeUInt32LE(dev, 8);
  return key;
}

const statKey = (path: string) => {
  const st = statSync(path, { bigint: true });
  return probeFile(st.ino, kernelDev(st.dev));
};

describe("BPF-LSM in the guest kernel", () => {
  let dir: string;
  let probe: BpfObject;
  const mounted: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "lsm-probe-"));
    probe = kernelBridge().openObject(join(root, "test/guest/.output/lsm-probe.bpf.o"));
    const tgid = Buffer.alloc(4);
    tgid.writeUInt32LE(process.pid);
    probe.setGlobal("watched_tgid", tgid);
    probe.load();
    probe.attach("probe_file_open");
  });

  after(() => {
    probe?.close();
    for (const m of mounted.reverse()) spawnSync("umount", [m]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("file_open denies the marked inode with EPERM and lets another file open", () => {
    const marked = join(dir, "marked");
    const other = join(dir, "other");
    writeFileSync(marked, "marked");
    writeFileSync(other, "other");
    probe.mapUpdate("denied", statKey(marked), Buffer.alloc(8));
    try {
      assert.throws(() => readFileSync(marked), { code: "EPERM" });
      assert.equal(readFileSync(other, "utf8"), "other");
      assert.equal(probe.mapLookup("denied", statKey(marked))?.readBigUInt64LE(0), 1n);
    } finally {
      probe.mapDelete("denied", statKey(marked));
    }
    assert.equal(readFileSync(marked, "utf8"), "marked");
  });

  test("overlayfs over another filesystem: hooks see the layer's file, not the device stat() gives", () => {
    // The layer on a filesystem of its own, as container image layers are: overlayfs then
    // reports a device number of its own making for the merged file.
    const base = join(dir, "ovl");
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(base, d), { recursive: true });
    mounted.push(join(base, "lower"), join(base, "merged"));
    kernelBridge().mount("tmpfs", join(base, "lower"), "tmpfs", 0, null);
    writeFileSync(join(base, "lower/file"), "lower");
    const options = `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`;
    kernelBridge().mount("overlay", join(base, "merged"), "overlay", 0, options);
    const merged = join(base, "merged/file");
    const layer = join(base, "lower/file");

    readFileSync(merged);
    assert.equal(probe.mapLookup("opened", statKey(merged)), null, "stat()'s identity of the merged file");
    assert.ok(probe.mapLookup("opened", statKey(layer)), "the layer's file, by its own identity");

    probe.mapUpdate("denied", statKey(layer), Buffer.alloc(8));
    try {
      assert.throws(() => readFileSync(merged), { code: "EPERM" });
    } finally {
      probe.mapDelete("denied", statKey(layer));
    }
  });
});
