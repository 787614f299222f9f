import assert from "node:assert/strict";
import { test } from "node:test";
import { BoltError, BoltReader } from "./bolt.js";
import { boltFile } from "./bolt-file.js";

const big = JSON.stringify({ name: "web", labels: { app: "web" }, pad: "x".repeat(9000), end: true });

const tree = {
  ctr: {
    a1: { config: big, state: "{}" },
    b2: { inline: { config: '{"name":"small"}' } },
    c3: { config: "{}" },
    d4: { config: "{}" },
    e5: { config: '{"name":"last"}' },
  },
  "id-registry": { a1: "web" },
};

test("values are found through nested buckets, on overflow pages, below branch pages and in inline buckets", () => {
  const db = new BoltReader(boltFile(tree));
  assert.ok(db.get(["ctr", "a1"], "config")?.equals(Buffer.from(big)), "the value on overflow pages");
  assert.equal(db.get(["ctr", "b2"], "config")?.toString(), '{"name":"small"}');
  assert.equal(db.get(["ctr", "e5"], "config")?.toString(), '{"name":"last"}');
  assert.equal(db.get(["id-registry"], "a1")?.toString(), "web");
  assert.deepEqual(db.bucketStrings(["id-registry"]), { a1: "web" });
  assert.deepEqual(Object.keys(db.bucketStrings(["ctr", "a1"])), ["config", "state"]);
});

test("absent buckets and keys are undefined; a bucket is not a value", () => {
  const db = new BoltReader(boltFile(tree));
  assert.equal(db.get(["ctr", "zz"], "config"), undefined);
  assert.equal(db.get(["nope"], "x"), undefined);
  assert.equal(db.get(["ctr"], "a1"), undefined);
  assert.deepEqual(db.bucketStrings(["nope"]), {});
});

test("the newer meta page is in force unless its checksum is bad; a file that is not bbolt is refused", () => {
  assert.equal(new BoltReader(boltFile(tree, { corruptNewerMeta: true })).get(["ctr", "a1"], "config"), undefined);
  assert.throws(() => new BoltReader(Buffer.from("SQLite format 3\0".padEnd(8192, "\0"))), BoltError);
  assert.throws(() => new BoltReader(Buffer.alloc(10)), /not a bbolt database/);
});

test("a cut file fails with an error, never a crash", () => {
  const whole = boltFile(tree);
  const cut = whole.subarray(0, whole.length - 4096 * 3);
  assert.throws(() => new BoltReader(cut).get(["ctr", "a1"], "config"), BoltError);
});
