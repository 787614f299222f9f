import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KERNEL_KINDS, kernelDev, pathKey, prefixEntries, readInterest } from "./interest.js";
import { enums } from "./layout.generated.js";

test("kind names come from the op enum", () => {
  assert.equal(KERNEL_KINDS.get("process.exec"), 1);
  assert.equal(KERNEL_KINDS.get("file.open"), 10);
  assert.equal(KERNEL_KINDS.get("kernel.module_load"), 51);
  assert.equal(KERNEL_KINDS.get("mem.exec_mapping"), 40);
  assert.equal(KERNEL_KINDS.has("MAX"), false);
});

test("stat's device number converts to the kernel's encoding", () => {
  // 8:1 (sda1): stat encodes 0x801, the kernel 8 << 20 | 1.
  assert.equal(kernelDev(0x801n), (8 << 20) | 1);
  // 259:65536 (a large minor): glibc's gnu_dev_makedev layout.
  const major = 259n;
  const minor = 65536n;
  const statDev = ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
  assert.equal(kernelDev(statDev), Number((major << 20n) | minor));
});

test("a path key holds the kind byte and the prefix, its length in bits", () => {
  const key = pathKey(10, "/etc/");
  assert.equal(key.readUInt32LE(0), 8 + 5 * 8);
  assert.equal(key[4], 10);
  assert.equal(key.toString("utf8", 5, 10), "/etc/");
  assert.throws(() => pathKey(10, `/${"x".repeat(300)}`), /longer than 255 bytes/);
});

test("an interest file is validated, every problem named with where it is", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-interest-"));
  try {
    const good = join(dir, "good.json");
    writeFileSync(
      good,
      JSON.stringify({ kinds: { "file.open": { enabled: true, paths: { "/etc/": "any" } } }, ignoreComms: ["cron"] }),
    );
    assert.deepEqual(readInterest(good).ignoreComms, ["cron"]);
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({
        kinds: { "file.opn": { enabled: "yes" }, "net.connect": { enabled: true, pathDefault: "all" } },
        extra: 1,
      }),
    );
    assert.throws(
      () => readInterest(bad),
      (err: Error) =>
        err.message.includes('unknown field "extra"') &&
        err.message.includes('kinds["file.opn"]: unknown event kind') &&
        err.message.includes('kinds["file.opn"].enabled must be true or false') &&
        err.message.includes('kinds["net.connect"].pathDefault must be one of none, read, write, any'),
    );
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ nope");
    assert.throws(() => readInterest(broken), /interest .*broken\.json: .*JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("directories that longer prefixes start below are marked split, with their length", () => {
  const {
    VG_PATH_SPLIT: split,
    VG_PATH_SPLIT_LEN: shift,
    VG_ACCESS_WRITE: write,
    VG_ACCESS_ANY: any,
  } = enums.vg_path_access;
  const marked = (dir: string, access: number) => access | split | (dir.length << shift);
  assert.deepEqual(
    prefixEntries({ "/var/log/": "write", "/etc/ssh/sshd_config": "any", "/etc/": "write" }, "none"),
    new Map([
      ["/var/log/", write],
      ["/etc/ssh/sshd_config", any],
      ["/etc/", marked("/etc/", write)],
      ["/", marked("/", 0)],
      ["/var/", marked("/var/", 0)],
      ["/etc/ssh/", marked("/etc/ssh/", write)],
    ]),
  );
});
